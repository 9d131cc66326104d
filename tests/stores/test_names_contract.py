"""Unique names in a room (precise rule 27), decided by presence on both stores and across processes."""

from __future__ import annotations

import asyncio

from rooms.models import Member, Role
from rooms.names import RoomNames
from tests.stores.conftest import Stores

NAMES = RoomNames(b"n" * 32)


def person(member_id: str, pseudonym: str) -> Member:
    return Member(member_id, pseudonym, Role.PEER)


async def join(stores: Stores, member: Member, sid: str, room: str = "circle") -> tuple[bool, int]:
    names = NAMES.candidates(room, member.pseudonym)
    return await stores.presence.join_named(room, member, sid, capacity=None, names=names)


async def test_namesakes_are_numbered_and_keep_their_number(stores: Stores) -> None:
    assert await join(stores, person("a", "Calm River"), "s1") == (True, 1)
    assert await join(stores, person("b", "calm river"), "s2") == (True, 2)
    assert await join(stores, person("c", "Calm Rivеr"), "s3") == (True, 3)  # Cyrillic е
    assert await join(stores, person("b", "calm river"), "s4") == (False, 2)  # a second socket keeps it
    shown = {m.id: m.pseudonym for m in await stores.presence.members("circle")}
    assert shown == {"a": "Calm River", "b": "calm river 2", "c": "Calm Rivеr 3"}
    assert await stores.presence.leave("circle", "a", "s1") is True
    # The number stays with its member while they are online; the free name goes to the next.
    assert await join(stores, person("d", "CALM RIVER"), "s5") == (True, 1)
    shown = {m.id: m.pseudonym for m in await stores.presence.members("circle")}
    assert shown == {"b": "calm river 2", "c": "Calm Rivеr 3", "d": "CALM RIVER"}


async def test_numbers_are_per_room(stores: Stores) -> None:
    await join(stores, person("a", "Calm River"), "s1", room="circle")
    assert await join(stores, person("b", "Calm River"), "s2", room="circle") == (True, 2)
    assert await join(stores, person("b2", "Calm River"), "s3", room="other") == (True, 1)


async def test_removed_member_frees_the_name(stores: Stores) -> None:
    await join(stores, person("a", "Calm River"), "s1")
    await stores.presence.remove_member("circle", "a")
    assert await join(stores, person("b", "Calm River"), "s2") == (True, 1)


async def test_a_numbered_name_is_itself_taken(stores: Stores) -> None:
    await join(stores, person("a", "Calm River"), "s1")
    await join(stores, person("b", "Calm River"), "s2")
    assert await join(stores, person("c", "Calm River 2"), "s3") == (True, 2)  # "Calm River 2 2"
    shown = {m.id: m.pseudonym for m in await stores.presence.members("circle")}
    assert shown["c"] == "Calm River 2 2"


async def test_concurrent_namesakes_get_distinct_numbers(stores: Stores) -> None:
    results = await asyncio.gather(*(join(stores, person(f"m{i}", "Calm River"), f"s{i}") for i in range(10)))
    assert sorted(number for _, number in results) == list(range(1, 11))


async def test_namesakes_on_two_processes(redis_stores: Stores) -> None:
    assert redis_stores.open_process is not None
    other = await redis_stores.open_process()
    names = NAMES.candidates("circle", "Calm River")
    joins = [
        (redis_stores.presence if i % 2 else other).join_named(
            "circle", person(f"m{i}", "Calm River"), f"s{i}", capacity=None, names=names
        )
        for i in range(8)
    ]
    results = await asyncio.gather(*joins)
    assert sorted(number for _, number in results) == list(range(1, 9))
    shown = sorted(m.pseudonym for m in await other.members("circle"))
    assert shown == sorted(["Calm River", *(f"Calm River {n}" for n in range(2, 9))])
