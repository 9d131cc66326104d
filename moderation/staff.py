"""Staff accounts: the bootstrap admin, adding and removing staff, and logging in."""

from __future__ import annotations

import asyncio
import secrets
from collections import deque

from crypto.passwords import DUMMY_HASH, hash_password, verify_password
from moderation import audit
from moderation.context import Moderation
from moderation.models import AuditAction, StaffAccount
from moderation.roles import Permission, require
from rooms.clock import Clock
from rooms.errors import Conflict, Invalid, NotFound, RateLimited, Unauthorized
from rooms.models import Identity, Role
from rooms.pseudonyms import validate_staff_name

MIN_PASSWORD, MAX_PASSWORD = 8, 256
LOGIN_FAILURES, LOGIN_WINDOW_MS = 5, 15 * 60 * 1000


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
        password_hash=await asyncio.to_thread(hash_password, validate_password(password)),
        created_at=mod.clock.now_ms(),
    )
    await mod.store.add_staff(account)  # Conflict when the name is taken
    return account


async def ensure_admin(mod: Moderation, password: str) -> None:
    """The bootstrap admin: ``admin`` exists with this password after start-up."""
    hashed = await asyncio.to_thread(hash_password, password)
    existing = await mod.store.get_staff("admin")
    if existing is None:
        account = StaffAccount(secrets.token_hex(8), "admin", Role.ADMIN, hashed, mod.clock.now_ms())
        try:
            await mod.store.add_staff(account)
        except Conflict:  # another process created it first: set the password below
            existing = await mod.store.get_staff("admin")
    if existing is not None and not await asyncio.to_thread(verify_password, password, existing.password_hash):
        await mod.store.set_staff_password("admin", hashed)


async def add(mod: Moderation, actor: Identity, name: str, role: str, password: str) -> StaffAccount:
    require(actor, Permission.MANAGE_STAFF)
    account = await create_account(mod, name, role, password)
    await audit.record(mod, actor, AuditAction.STAFF_ADD, None, account.name, None)
    return account


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
    """Failures per name in a moving 15-minute window (precise rule 18); kept in memory."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._failures: dict[str, deque[int]] = {}

    def _recent(self, name: str) -> deque[int]:
        window = self._failures.get(name, deque())
        cutoff = self.clock.now_ms() - LOGIN_WINDOW_MS
        while window and window[0] <= cutoff:
            window.popleft()
        return window

    def check(self, name: str) -> None:
        window = self._recent(name)
        if len(window) >= LOGIN_FAILURES:
            raise RateLimited(window[0] + LOGIN_WINDOW_MS - self.clock.now_ms(), "Too many failed logins; wait.")

    def failed(self, name: str) -> None:
        self._failures.setdefault(name, self._recent(name)).append(self.clock.now_ms())

    def prune(self) -> None:
        for name in list(self._failures):
            if not self._recent(name):
                del self._failures[name]


async def login(mod: Moderation, limiter: LoginLimiter, name: str, password: str) -> StaffAccount:
    limiter.check(name)
    account = await mod.store.get_staff(name)
    # Spend the same time for an unknown name as for a wrong password.
    ok = await asyncio.to_thread(verify_password, password, account.password_hash if account else DUMMY_HASH)
    if account is None or not ok:
        limiter.failed(name)
        raise Unauthorized("Wrong name or password.")
    return account
