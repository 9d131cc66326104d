"""Sealed pub/sub messages: what one process seals another opens; forged, stale and replayed ones do not."""

from __future__ import annotations

import pytest

from server import metrics
from server.pubsub_seal import ChannelSeal, Rejected

OLD, NEW = b"o" * 32, b"n" * 32


class Clock:
    def __init__(self) -> None:
        self.ms = 1_800_000_000_000

    def __call__(self) -> int:
        return self.ms


def rejected(channel: str, reason: str) -> float:
    value = metrics.REGISTRY.get_sample_value("hearth_pubsub_rejected_total", {"channel": channel, "reason": reason})
    return value or 0.0


def test_a_sealed_message_opens_once_on_another_process() -> None:
    clock = Clock()
    a, b = ChannelSeal([NEW], "ch", now_ms=clock), ChannelSeal([NEW], "ch", now_ms=clock)
    data = a.seal(b'{"method":"emit","event":"message:new"}')
    assert b"message:new" not in data  # sealed, not only signed
    assert b.open(data) == b'{"method":"emit","event":"message:new"}'
    before = rejected("ch", "replayed")
    with pytest.raises(Rejected, match="replayed"):
        b.open(data)
    assert rejected("ch", "replayed") == before + 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d[:-1] + bytes([d[-1] ^ 1]),  # a flipped bit
        lambda d: b"h1" + b"\x00" * 40,  # garbage in the right shape
        lambda d: b'{"method":"disconnect","sid":"x"}',  # plain JSON, as python-socketio publishes it
        lambda d: d[:3] + bytes([d[3] ^ 1]) + d[4:],  # the timestamp changed
    ],
)
def test_forged_messages_are_refused_and_counted(tamper: object) -> None:
    a, b = ChannelSeal([NEW], "ch"), ChannelSeal([NEW], "ch")
    before = rejected("ch", "forged")
    with pytest.raises(Rejected, match="forged"):
        b.open(tamper(a.seal(b"payload")))  # type: ignore[operator]
    assert rejected("ch", "forged") == before + 1


def test_a_message_under_another_key_or_channel_is_forged() -> None:
    data = ChannelSeal([OLD], "ch").seal(b"payload")
    with pytest.raises(Rejected, match="forged"):
        ChannelSeal([NEW], "ch").open(data)
    with pytest.raises(Rejected, match="forged"):
        ChannelSeal([OLD], "other").open(data)
    assert ChannelSeal([NEW, OLD], "ch").open(data) == b"payload"  # during a key rotation


def test_a_stale_message_is_refused_even_if_never_seen() -> None:
    clock = Clock()
    a, b = ChannelSeal([NEW], "ch", now_ms=clock), ChannelSeal([NEW], "ch", now_ms=clock)
    data = a.seal(b"payload")
    clock.ms += 30_001
    with pytest.raises(Rejected, match="stale"):
        b.open(data)


def test_remembered_nonces_are_bounded_by_the_window() -> None:
    clock = Clock()
    a, b = ChannelSeal([NEW], "ch", now_ms=clock), ChannelSeal([NEW], "ch", now_ms=clock)
    for _ in range(100):
        b.open(a.seal(b"x"))
        clock.ms += 1000
    assert len(b._seen) <= 32


def test_a_process_recognises_its_own_publication_once_without_opening_it() -> None:
    a, b = ChannelSeal([NEW], "ch"), ChannelSeal([NEW], "ch")
    data = a.seal(b"payload")
    assert not b.is_own(data)  # another process's publication: opened as usual
    assert b.open(data) == b"payload"
    assert a.is_own(data)
    assert not a.is_own(data)  # heard once; the same bytes again are a replay
    before = rejected("ch", "replayed")
    with pytest.raises(Rejected):
        a.open(data)
    assert rejected("ch", "replayed") == before + 1
    forged = data[:-1] + bytes([data[-1] ^ 1])
    assert not ChannelSeal([NEW], "ch").is_own(forged)
