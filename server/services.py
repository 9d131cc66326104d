"""Wiring: open the configured stores and build the services the transport uses."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from crypto.address_hash import AddressHasher
from crypto.keys import generate_secret_key
from crypto.sealing import Keyring, SealError
from crypto.tokens import TokenSigner
from moderation.admission_store import AdmissionStore
from moderation.context import Moderation
from moderation.crisis import CrisisCatalog, CrisisFileError, load_catalog
from moderation.guards import ModerationGuards
from moderation.returning import AddressMarks, MemoryAddressMarks, ReturningSignal
from moderation.staff import LoginLimiter
from moderation.store import ModStore
from rooms.clock import Clock
from rooms.expressions import Expressions
from rooms.limits import TokenBucket
from rooms.member_ids import MemberIds
from rooms.names import RoomNames
from rooms.presence import Presence
from rooms.service import RoomService
from rooms.sqlite_db import private_dir
from rooms.store import RoomStore
from rooms.vault import MessageVault, instance_key
from server.auth import Auth
from server.config import Config, ConfigError, Secret
from server.ip_limits import IpLimiter
from server.stores import Stores, open_stores

log = logging.getLogger(__name__)
SECRET_FILE = "secret.key"  # noqa: S105 - a file name, not a secret


@dataclass
class Services:
    config: Config
    clock: Clock
    keyring: Keyring
    auth: Auth
    rooms: RoomService
    expressions: Expressions
    mod: Moderation
    room_store: RoomStore
    mod_store: ModStore
    presence: Presence
    guards: ModerationGuards
    login_limiter: LoginLimiter
    ip_limiter: IpLimiter
    admissions: AdmissionStore
    returning: ReturningSignal
    stores: Stores
    crisis: CrisisCatalog  # phrases and resources (HEARTH_CRISIS_FILE, else the shipped default)

    async def ping(self) -> None:
        await self.room_store.ping()

    async def aclose(self) -> None:
        await self.stores.aclose()


def resolve_secret(config: Config) -> Config:
    """Embedded mode without HEARTH_SECRET_KEY: generate a key once and keep it in a 0600 file."""
    if config.secret is not None:
        return config
    from crypto.keys import SecretKeyError, parse_secret_keys

    path = config.data_dir / SECRET_FILE
    if not path.exists():
        private_dir(config.data_dir)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(generate_secret_key() + "\n")
        log.warning("event=secret_generated path=%s: set HEARTH_SECRET_KEY to manage the key yourself", path)
    try:
        keys = parse_secret_keys(path.read_text().strip())
    except SecretKeyError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return config.replace(secret=Secret(keys))


async def open_admission_stores(mod_store: ModStore) -> tuple[AdmissionStore, AddressMarks]:
    """Admissions beside the moderation store; address marks in Redis, or in this process's memory."""
    from moderation.admission_store import RedisAdmissionStore, SqliteAdmissionStore
    from moderation.redis_store import RedisModStore
    from moderation.sqlite_store import SqliteModStore

    if isinstance(mod_store, RedisModStore):
        from moderation.redis_returning import RedisAddressMarks

        return RedisAdmissionStore(mod_store.r), RedisAddressMarks(mod_store.r)
    assert isinstance(mod_store, SqliteModStore)
    admissions = SqliteAdmissionStore(mod_store.db)
    await admissions.open()
    return admissions, MemoryAddressMarks()


async def open_services(config: Config, clock: Clock) -> Services:
    if config.secret is None:
        raise ConfigError("No secret key: set HEARTH_SECRET_KEY.")
    keyring = Keyring(config.secret.keys)
    try:
        crisis = load_catalog(config.crisis_file)
    except CrisisFileError as exc:
        raise ConfigError(str(exc)) from None
    stores = await open_stores(config)
    room_store, mod_store, presence = stores.rooms, stores.mod, stores.presence
    try:
        member_ids = MemberIds(await instance_key(room_store, keyring, "member_ids"))
    except SealError:
        await stores.aclose()
        raise ConfigError(
            f"HEARTH_SECRET_KEY does not open the data already in the {config.store_name} store: "
            "start with the key it was created with (during a rotation: the new key first, then the old one)."
        ) from None
    except BaseException:
        await stores.aclose()
        raise
    admissions, marks = await open_admission_stores(mod_store)
    returning = ReturningSignal(AddressHasher(config.secret.keys[0]), marks, clock, enabled=config.ip_limits)
    guards = ModerationGuards(mod_store, clock, admissions=admissions, returning=returning)
    vault = MessageVault(keyring, room_store, clock, epoch_ms=config.key_epoch_s * 1000)
    rooms = RoomService(
        store=room_store,
        presence=presence,
        vault=vault,
        member_ids=member_ids,
        clock=clock,
        guards=guards,
        limiter=TokenBucket(clock, burst=5, refill_ms=2000),
        names=RoomNames(keyring.derive(b"room-names/v1")),
    )
    mod = Moderation(
        mod_store,
        rooms,
        clock,
        keyring,
        flag_retention_ms=config.flag_retention_days * 86_400_000,
        admissions=admissions,
        returning=returning,
    )
    auth = Auth(
        TokenSigner(config.secret.keys),
        mod_store,
        clock,
        peer_ttl_s=config.peer_token_days * 86400,
        staff_ttl_s=config.staff_token_hours * 3600,
    )
    ip_limiter = IpLimiter(
        clock,
        {
            "session": config.sessions_per_ip_per_min,
            "login": config.logins_per_ip_per_min,
            "connect": config.connects_per_ip_per_min,
        },
        enabled=config.ip_limits,
    )
    return Services(
        config=config,
        clock=clock,
        keyring=keyring,
        auth=auth,
        rooms=rooms,
        expressions=Expressions(rooms, room_store, member_ids, clock),
        mod=mod,
        room_store=room_store,
        mod_store=mod_store,
        presence=presence,
        guards=guards,
        login_limiter=LoginLimiter(clock),
        ip_limiter=ip_limiter,
        admissions=admissions,
        returning=returning,
        stores=stores,
        crisis=crisis,
    )
