"""Configuration: one frozen dataclass built once from the environment."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from crypto.keys import SecretKeyError, parse_secret_keys
from moderation.crisis import CrisisFileError, load_catalog

DEFAULT_QUICK_EXIT_URL = "https://www.bbc.co.uk/weather"


class ConfigError(Exception):
    """A bad setting; the message names the variable and what was wrong."""


class Secret:
    """Holds secret bytes; ``repr`` never shows them."""

    __slots__ = ("_keys",)

    def __init__(self, keys: tuple[bytes, ...]) -> None:
        self._keys = keys

    @property
    def keys(self) -> tuple[bytes, ...]:
        return self._keys

    def __repr__(self) -> str:
        return f"Secret('**********', {len(self._keys)} key(s))"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._keys == self._keys

    def __hash__(self) -> int:
        return hash(self._keys)


class Password:
    """A password from the environment; ``repr`` never shows it."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "Password('**********')"


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "hearth"


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8080
    redis_url: str | None = None
    data_dir: Path = field(default_factory=_default_data_dir)
    secret: Secret | None = None
    admin_password: Password | None = None
    allowed_origins: tuple[str, ...] = ()  # empty: same origin only
    ip_limits: bool = True
    trusted_proxies: tuple[str, ...] = ()
    sessions_per_ip_per_min: int = 20
    logins_per_ip_per_min: int = 30
    connects_per_ip_per_min: int = 120
    flag_retention_days: int = 30
    peer_token_days: int = 90
    staff_token_hours: int = 12
    purge_interval_s: float = 15.0
    presence_ttl_s: int = 15  # Redis mode: a process that stops heartbeating is gone after this
    presence_reap_s: float = 5.0
    redis_pool_size: int = 50  # Redis mode: connections per process; a burst beyond it waits (docs/OPERATIONS.md)
    redis_pool_timeout_s: int = 30  # ... for at most this long, then the call is `unavailable`
    key_epoch_s: int = 3600
    crisis_file: Path | None = None  # None: the default shipped with Hearth
    quick_exit_url: str = DEFAULT_QUICK_EXIT_URL

    @property
    def store_name(self) -> str:
        return "sqlite" if self.redis_url is None else "redis"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "hearth.db"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if "PORT" in env and env["PORT"].strip():
            values["port"] = _port(env["PORT"], "PORT")
        redis_url = env.get("REDIS_URL", "").strip() or None
        if redis_url is not None and not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError("REDIS_URL must start with redis://, rediss:// or unix://")
        values["redis_url"] = redis_url
        if env.get("HEARTH_DATA_DIR", "").strip():
            values["data_dir"] = Path(env["HEARTH_DATA_DIR"]).expanduser()
        raw_key = env.get("HEARTH_SECRET_KEY", "").strip()
        if raw_key:
            try:
                values["secret"] = Secret(parse_secret_keys(raw_key))
            except SecretKeyError as exc:
                raise ConfigError(str(exc)) from None
        elif redis_url is not None:
            raise ConfigError(
                "HEARTH_SECRET_KEY is required with REDIS_URL: every process must share it. "
                "Generate one with: hearth keys generate"
            )
        if env.get("HEARTH_ADMIN_PASSWORD"):
            values["admin_password"] = Password(env["HEARTH_ADMIN_PASSWORD"])
        origins = env.get("HEARTH_ALLOWED_ORIGINS", "").strip()
        if origins:
            values["allowed_origins"] = tuple(_origin(o) for o in origins.split(",") if o.strip())
        ip_limits = env.get("HEARTH_IP_LIMITS", "on").strip().lower()
        if ip_limits not in ("on", "off"):
            raise ConfigError(f"HEARTH_IP_LIMITS must be 'on' or 'off', got {ip_limits!r}")
        values["ip_limits"] = ip_limits == "on"
        proxies = env.get("HEARTH_TRUSTED_PROXIES", "").strip()
        if proxies:
            values["trusted_proxies"] = tuple(_network(p) for p in proxies.split(",") if p.strip())
        for name, key in (
            ("HEARTH_SESSIONS_PER_IP_PER_MIN", "sessions_per_ip_per_min"),
            ("HEARTH_LOGINS_PER_IP_PER_MIN", "logins_per_ip_per_min"),
            ("HEARTH_CONNECTS_PER_IP_PER_MIN", "connects_per_ip_per_min"),
            ("HEARTH_FLAG_RETENTION_DAYS", "flag_retention_days"),
            ("HEARTH_PRESENCE_TTL_S", "presence_ttl_s"),
            ("HEARTH_REDIS_POOL_SIZE", "redis_pool_size"),
            ("HEARTH_REDIS_POOL_TIMEOUT_S", "redis_pool_timeout_s"),
        ):
            if env.get(name, "").strip():
                values[key] = _positive_int(env[name], name)
        if env.get("HEARTH_CRISIS_FILE", "").strip():
            values["crisis_file"] = _crisis_file(env["HEARTH_CRISIS_FILE"])
        if env.get("HEARTH_QUICK_EXIT_URL", "").strip():
            values["quick_exit_url"] = _quick_exit_url(env["HEARTH_QUICK_EXIT_URL"])
        return cls(**values)  # type: ignore[arg-type]

    def replace(self, **changes: object) -> Config:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def _port(raw: str, name: str) -> int:
    rule = "a whole number from 0 to 65535 (0: any free port)"
    try:
        port = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be {rule}, got {raw.strip()!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"{name} must be {rule}, got {port}")
    return port


def parse_port(raw: str, name: str = "--port") -> int:
    return _port(raw, name)


def _positive_int(raw: str, name: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a positive whole number, got {raw.strip()!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be a positive whole number, got {value}")
    return value


def _origin(raw: str) -> str:
    origin = raw.strip().rstrip("/")
    if not origin.startswith(("http://", "https://")):
        raise ConfigError(f"HEARTH_ALLOWED_ORIGINS items must start with http:// or https://, got {origin!r}")
    return origin


def _crisis_file(raw: str) -> Path:
    path = Path(raw.strip()).expanduser()
    try:
        load_catalog(path)  # read once here, so a bad file stops start-up with one clear line
    except CrisisFileError as exc:
        raise ConfigError(str(exc)) from None
    return path


def _quick_exit_url(raw: str) -> str:
    url = raw.strip()
    if not url.startswith(("https://", "http://")) or any(c in url for c in "\"'<> \t\n"):
        raise ConfigError(f"HEARTH_QUICK_EXIT_URL must be an http:// or https:// address, got {url!r}")
    return url


def _network(raw: str) -> str:
    try:
        return str(ipaddress.ip_network(raw.strip(), strict=False))
    except ValueError:
        raise ConfigError(
            f"HEARTH_TRUSTED_PROXIES items must be IP addresses or networks, got {raw.strip()!r}"
        ) from None
