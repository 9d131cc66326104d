"""Staff accounts: the bootstrap admin, adding and removing staff, and logging in."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from crypto.passwords import DUMMY_HASH, hash_password, verify_password
from moderation import audit
from moderation.context import Moderation
from moderation.models import AuditAction, StaffAccount
from moderation.roles import Permission, require
from rooms.clock import Clock
from rooms.errors import Conflict, Invalid, NotFound, RateLimited, Unauthorized
from rooms.models import Identity, Role
from rooms.pseudonyms import names_staff_account, random_pseudonym, validate_pseudonym, validate_staff_name

MIN_PASSWORD, MAX_PASSWORD = 8, 256
LOGIN_FAILURES, LOGIN_WINDOW_MS = 5, 15 * 60 * 1000
# scrypt is slow by design and releases the GIL: run it in threads, but leave one core to the
# event loop, so a burst of logins queues here instead of starving every other request.
_HASHING = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 2) - 1), thread_name_prefix="hearth-scrypt")
_T = TypeVar("_T")


async def _off_loop(fn: Callable[..., _T], *args: str) -> _T:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, fn, *args)


def validate_password(raw: str) -> str:
    if not MIN_PASSWORD <= len(raw) <= MAX_PASSWORD:
        raise Invalid(f"password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters.", field="password")
    return raw


def validate_role(raw: str) -> Role:
    if raw not in ("facilitator", "admin"):
        raise Invalid("role must be facilitator or admin.", field="role")
    return Role.from_wire(raw)


async def create_account(mod: Moderation, name: str, role: str, password: str) -> StaffAccount:
    account = StaffAccount(
        id=secrets.token_hex(8),
        name=validate_staff_name(name),
        role=validate_role(role),
        password_hash=await _off_loop(hash_password, validate_password(password)),
        created_at=mod.clock.now_ms(),
    )
    await mod.store.add_staff(account)  # Conflict when the name is taken
    return account


async def ensure_admin(mod: Moderation, password: str) -> None:
    """The bootstrap admin: ``admin`` exists with this password after start-up."""
    hashed = await _off_loop(hash_password, password)
    existing = await mod.store.get_staff("admin")
    if existing is None:
        account = StaffAccount(secrets.token_hex(8), "admin", Role.ADMIN, hashed, mod.clock.now_ms())
        try:
            await mod.store.add_staff(account)
        except Conflict:  # another process created it first: set the password below
            existing = await mod.store.get_staff("admin")
    if existing is not None and not await _off_loop(verify_password, password, existing.password_hash):
        await mod.store.set_staff_password("admin", hashed)


async def add(mod: Moderation, actor: Identity, name: str, role: str, password: str) -> StaffAccount:
    require(actor, Permission.MANAGE_STAFF)
    account = await create_account(mod, name, role, password)
    await audit.record(mod, actor, AuditAction.STAFF_ADD, None, account.name, None)
    return account


async def peer_pseudonym(mod: Moderation, raw: object) -> str:
    """A peer's pseudonym for POST /api/session: picked when absent, else valid and no staff account's name."""
    if raw is None:
        return random_pseudonym()
    pseudonym = validate_pseudonym(raw)
    if names_staff_account(pseudonym, [account.name for account in await mod.store.list_staff()]):
        raise Invalid("Pseudonym may not be a staff member's name.", field="pseudonym")
    return pseudonym


async def list_all(mod: Moderation, actor: Identity) -> list[StaffAccount]:
    require(actor, Permission.MANAGE_STAFF)
    return await mod.store.list_staff()


async def remove(mod: Moderation, actor: Identity, name: str) -> StaffAccount:
    require(actor, Permission.MANAGE_STAFF)
    account = await mod.store.remove_staff(name)
    if account is None:
        raise NotFound("No staff account with that name.")
    await audit.record(mod, actor, AuditAction.STAFF_REMOVE, None, account.name, None)
    return account


class LoginLimiter:
    """Failures per (name, client address) in a moving 15-minute window (precise rule 18); in memory.

    An attempt holds a slot from before its password hash is awaited until its outcome is known, so
    concurrent attempts cannot slip past the limit. Failures from one address never count against
    another, so a stranger cannot lock a staff member out.
    """

    def __init__(self, clock: Clock, *, enabled: bool = True) -> None:
        self.clock = clock
        self.enabled = enabled
        self._failures: dict[tuple[str, str], deque[int]] = {}
        self._pending: dict[tuple[str, str], int] = {}

    def _recent(self, key: tuple[str, str]) -> deque[int]:
        window = self._failures.get(key, deque())
        cutoff = self.clock.now_ms() - LOGIN_WINDOW_MS
        while window and window[0] <= cutoff:
            window.popleft()
        return window

    def begin(self, name: str, address: str) -> None:
        """Take a slot for one attempt, or raise RateLimited; end with ``failed`` or ``succeeded``."""
        if not self.enabled:
            return
        key = (name, address)
        window = self._recent(key)
        pending = self._pending.get(key, 0)
        if len(window) + pending >= LOGIN_FAILURES:
            retry = window[0] + LOGIN_WINDOW_MS - self.clock.now_ms() if window else 1000
            raise RateLimited(max(1, retry), "Too many failed logins; wait.")
        self._pending[key] = pending + 1

    def _release(self, key: tuple[str, str]) -> None:
        pending = self._pending.get(key, 0) - 1
        if pending > 0:
            self._pending[key] = pending
        else:
            self._pending.pop(key, None)

    def failed(self, name: str, address: str) -> None:
        if not self.enabled:
            return
        key = (name, address)
        self._release(key)
        self._failures.setdefault(key, self._recent(key)).append(self.clock.now_ms())

    def succeeded(self, name: str, address: str) -> None:
        if not self.enabled:
            return
        key = (name, address)
        self._release(key)
        self._failures.pop(key, None)

    def prune(self) -> None:
        for key in list(self._failures):
            if not self._recent(key):
                del self._failures[key]


async def login(mod: Moderation, limiter: LoginLimiter, name: str, password: str, address: str) -> StaffAccount:
    limiter.begin(name, address)  # before anything is awaited, so concurrent attempts cannot slip past
    try:
        account = await mod.store.get_staff(name)
        # Spend the same time for an unknown name as for a wrong password.
        ok = await _off_loop(verify_password, password, account.password_hash if account else DUMMY_HASH)
    except BaseException:
        limiter.failed(name, address)
        raise
    if account is None or not ok:
        limiter.failed(name, address)
        raise Unauthorized("Wrong name or password.")
    limiter.succeeded(name, address)
    return account


async def change_password(mod: Moderation, actor: Identity, name: str, password: str) -> StaffAccount:
    """An admin sets a staff member's password; every token issued before stops working."""
    require(actor, Permission.MANAGE_STAFF)
    return await set_password(mod, name, password)


async def set_password(mod: Moderation, name: str, password: str) -> StaffAccount:
    hashed = await _off_loop(hash_password, validate_password(password))
    if not await mod.store.set_staff_password(name, hashed):
        raise NotFound("No staff account with that name.")
    account = await mod.store.get_staff(name)
    if account is None:
        raise NotFound("No staff account with that name.")
    return account
