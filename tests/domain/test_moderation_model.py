"""A Hypothesis state machine: random mute/unmute/remove/ban/join/send sequences against a simple model.

The real services run on the embedded SQLite store with a ManualClock; the model is a few dicts.
After every step the real mutes and bans must be what the model says.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from moderation import mute as mute_cmd
from moderation import remove as remove_cmd
from rooms.clock import ManualClock
from rooms.errors import Banned, HearthError, Muted, NotFound
from rooms.models import Identity, Role
from server.services import Services, open_services
from tests.conftest import make_config

# Many short examples: on a loaded machine the whole run can pass the suite's per-test timeout.
pytestmark = pytest.mark.timeout(600)

ROOM = "circle"
FAC = Identity("s_fac", "fran", Role.FACILITATOR, staff_id="fac")
ADMIN = Identity("s_admin", "admin", Role.ADMIN, staff_id="admin")
PEERS = [Identity(f"u_peer{n}", f"Peer {n}", Role.PEER) for n in range(3)]
FOREVER = None
SEND_GAP_MS = 2_000  # one send-limit token refills in 2 s: each send waits that long first, so it never limits


class ModerationModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = Path(tempfile.mkdtemp(prefix="hearth-model-"))
        self.clock = ManualClock()
        self.svc: Services = self.run(open_services(make_config(self.tmp), self.clock))
        self.online: set[int] = set()
        self.mutes: dict[int, int | None] = {}  # peer -> until (None: until unmuted)
        self.bans: dict[int, int | None] = {}
        self.sids = 0

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.svc.aclose())
        self.loop.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # the model ---------------------------------------------------------------

    def now(self) -> int:
        return self.clock.now_ms()

    def muted(self, peer: int) -> bool:
        if peer not in self.mutes:
            return False
        until = self.mutes[peer]
        return until is None or until > self.now()

    def banned(self, peer: int) -> bool:
        if peer not in self.bans:
            return False
        until = self.bans[peer]
        return until is None or until > self.now()

    def member(self, peer: int) -> str:
        return self.svc.rooms.member_for(PEERS[peer], ROOM).id

    # steps -------------------------------------------------------------------

    @initialize()
    def room(self) -> None:
        from rooms.models import RoomSettings

        self.run(self.svc.rooms.create_room(RoomSettings(name="Circle", id=ROOM)))
        for n in range(len(PEERS)):  # everyone has joined once, so moderators can name them
            self.sids += 1
            self.run(self.svc.rooms.join(PEERS[n], ROOM, f"sid-{self.sids}"))
            self.online.add(n)

    @rule(peer=st.integers(0, len(PEERS) - 1))
    def join(self, peer: int) -> None:
        self.sids += 1
        try:
            self.run(self.svc.rooms.join(PEERS[peer], ROOM, f"sid-{self.sids}"))
        except Banned as exc:
            assert self.banned(peer), "refused as banned, but the model has no ban"
            assert exc.details["until"] == self.bans[peer]
            return
        assert not self.banned(peer), "joined although banned"
        self.online.add(peer)

    @precondition(lambda self: bool(self.online))
    @rule(data=st.data())
    def send(self, data: st.DataObject) -> None:
        peer = data.draw(st.sampled_from(sorted(self.online)))
        self.clock.advance(SEND_GAP_MS)
        room = self.run(self.svc.rooms.get_room(ROOM))
        try:
            msg = self.run(self.svc.rooms.send(PEERS[peer], room, "hello", None))
        except Muted as exc:
            assert self.muted(peer), "refused as muted, but the model has no mute"
            assert exc.details["until"] == self.mutes[peer]
            return
        assert not self.muted(peer), "sent although muted"
        assert msg.author.id == self.member(peer)

    @rule(peer=st.integers(0, len(PEERS) - 1), duration=st.sampled_from([None, 1, 60, 300]))
    def mute(self, peer: int, duration: int | None) -> None:
        result = self.run(mute_cmd.mute(self.svc.mod, FAC, ROOM, self.member(peer), duration, "model"))
        expected = None if duration is None else self.now() + duration * 1000
        assert result.until == expected
        self.mutes[peer] = expected

    @rule(peer=st.integers(0, len(PEERS) - 1))
    def unmute(self, peer: int) -> None:
        try:
            self.run(mute_cmd.unmute(self.svc.mod, FAC, ROOM, self.member(peer)))
        except NotFound:
            assert not self.muted(peer), "unmute said not muted, but the model has a mute in force"
            return
        assert self.muted(peer), "unmute succeeded, but the model has no mute in force"
        del self.mutes[peer]

    @rule(peer=st.integers(0, len(PEERS) - 1), ban=st.sampled_from([None, 1, 60, 3600]))
    def remove(self, peer: int, ban: int | None) -> None:
        result = self.run(remove_cmd.remove(self.svc.mod, FAC, ROOM, self.member(peer), ban, "model"))
        self.run(self.svc.presence.remove_member(ROOM, self.member(peer)))  # what the transport does
        self.online.discard(peer)
        if ban is None:
            assert result.banned_until is None
        else:
            assert result.banned_until == self.now() + ban * 1000
            self.bans[peer] = result.banned_until

    @rule(ms=st.sampled_from([1, 500, 1_000, 59_999, 60_000, 3_600_000]))
    def advance(self, ms: int) -> None:
        self.clock.advance(ms)

    @rule(peer=st.integers(0, len(PEERS) - 1))
    def staff_cannot_be_muted_by_a_facilitator(self, peer: int) -> None:
        self.sids += 1
        self.run(self.svc.rooms.join(FAC, ROOM, f"sid-{self.sids}"))
        fac = self.svc.rooms.member_for(FAC, ROOM).id
        try:
            self.run(mute_cmd.mute(self.svc.mod, FAC, ROOM, fac, None, None))
        except HearthError as exc:
            assert exc.code == "forbidden"
        else:
            raise AssertionError("a facilitator muted staff")

    # what must always hold -----------------------------------------------------

    @invariant()
    def mutes_and_bans_match(self) -> None:
        for peer in range(len(PEERS)):
            mute = self.run(self.svc.guards.current_mute(ROOM, self.member(peer)))
            assert (mute is not None) == self.muted(peer)
            if mute is not None:
                assert mute.until == self.mutes[peer]
            ban = self.run(self.svc.mod.store.get_ban(ROOM, self.member(peer), now_ms=self.now()))
            assert (ban is not None) == self.banned(peer)

    @invariant()
    def online_members_match(self) -> None:
        members = {m.id for m in self.run(self.svc.presence.members(ROOM))}
        peers = {self.member(p) for p in self.online}
        assert peers <= members
        assert not ({self.member(p) for p in range(len(PEERS))} - peers) & members


ModerationModel.TestCase.settings = settings(
    max_examples=40, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestModeration = ModerationModel.TestCase
