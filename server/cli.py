"""The ``hearth`` command: run the server, manage staff, generate and rotate keys."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import logging
import sys
import tempfile
from collections.abc import Sequence

from aiohttp import web

from crypto.keys import generate_secret_key
from rooms.errors import HearthError
from rooms.sqlite_db import private_dir
from server import logs
from server.config import Config, ConfigError, parse_port
from server.services import resolve_secret

log = logging.getLogger("hearth")


def _check_data_dir(config: Config) -> None:
    if config.redis_url is not None:
        return
    try:
        private_dir(config.data_dir)
        with tempfile.NamedTemporaryFile(dir=config.data_dir, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise ConfigError(f"HEARTH_DATA_DIR {str(config.data_dir)!r} is not writable: {exc.strerror}") from None


def load_config(argv_host: str | None = None, argv_port: str | None = None) -> Config:
    config = Config.from_env()
    if argv_host is not None:
        config = config.replace(host=argv_host)
    if argv_port is not None:
        config = config.replace(port=parse_port(argv_port))
    _check_data_dir(config)
    return resolve_secret(config)


async def _tune_gc(app: web.Application) -> None:
    # Everything allocated at start-up lives as long as the process: freeze it out of the
    # collector's view, and collect young objects less often. Under load, full collections
    # over a large heap were the longest pauses in the event loop (BENCHMARKS.md). What closed
    # connections leave in reference cycles is collected once enough sockets have closed
    # (``lifecycle.collect_closed``).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


LISTEN_BACKLOG = 4096
FIRST_ADMIN_HINT = (
    "No HEARTH_ADMIN_PASSWORD is set. To create the first admin, restart with "
    "HEARTH_ADMIN_PASSWORD=... (an admin named 'admin'), or run: hearth staff add NAME --role admin. "
    "Staff sign in from the chat page's 'Staff sign-in' link and create rooms on /admin."
)


def serve(config: Config) -> int:
    from server.app import create_app
    from server.transport.drain import drain_on_sigterm

    try:
        import uvloop

        loop = uvloop.new_event_loop()
    except ImportError:  # optional: the standard loop works too
        loop = None
    app = create_app(config)
    app.on_startup.append(_tune_gc)
    app.on_startup.append(drain_on_sigterm)  # SIGTERM drains the sockets before aiohttp closes them
    where = f"http://{config.host}:{config.port}/"
    store = f"sqlite ({config.db_path})" if config.redis_url is None else "redis"
    log.info("event=config %r", config)  # secrets are masked by their own repr

    def announce(_aiohttp_banner: str) -> None:
        # aiohttp calls this once every site is bound, so a port already in use never reads "listening".
        log.info("event=listening url=%s store=%s", where, store)
        print(f"Hearth is listening on {where} (store: {store})", flush=True)
        if config.admin_password is None:
            print(FIRST_ADMIN_HINT, flush=True)

    try:
        web.run_app(
            app,
            host=config.host,
            port=config.port,
            **logs.access_log_kwargs(),
            print=announce,
            shutdown_timeout=5.0,
            # A reconnect storm (every client of a restarted server at once) overflowed the default
            # accept queue of 128: dropped handshakes wait out TCP's 1, 2, 4, 8, 16 s retries.
            # The kernel caps this at net.core.somaxconn.
            backlog=LISTEN_BACKLOG,
            loop=loop,
        )
    except OSError as exc:
        print(f"hearth: cannot listen on {config.host}:{config.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


async def _staff_add(config: Config, name: str, role: str, password: str) -> None:
    from moderation import staff
    from rooms.clock import SystemClock
    from server.services import open_services

    svc = await open_services(config, SystemClock())
    try:
        await staff.create_account(svc.mod, name, role, password)
    finally:
        await svc.aclose()


async def _staff_passwd(config: Config, name: str, password: str) -> None:
    from moderation import staff
    from rooms.clock import SystemClock
    from server.services import open_services

    svc = await open_services(config, SystemClock())
    try:
        await staff.set_password(svc.mod, name, password)
    finally:
        await svc.aclose()


async def _keys_rotate(config: Config) -> tuple[int, int]:
    from moderation.keys import rotate
    from rooms.clock import SystemClock
    from server.services import open_services

    svc = await open_services(config, SystemClock())
    try:
        return await rotate(svc.mod)
    finally:
        await svc.aclose()


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != first:
            raise ConfigError("The passwords do not match.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hearth", description="Hearth peer-support chat server.")
    parser.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", default=None, help="port to listen on (default: $PORT, else 8080)")
    sub = parser.add_subparsers(dest="command")
    staff_p = sub.add_parser("staff", help="manage staff accounts")
    staff_sub = staff_p.add_subparsers(dest="staff_command", required=True)
    add_p = staff_sub.add_parser("add", help="create a staff account (password from a prompt or stdin)")
    add_p.add_argument("name")
    add_p.add_argument("--role", required=True, choices=["facilitator", "admin"])
    passwd_p = staff_sub.add_parser("passwd", help="set a staff password (prompt or stdin); old tokens stop")
    passwd_p.add_argument("name")
    keys_p = sub.add_parser("keys", help="secret keys")
    keys_sub = keys_p.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser("generate", help="print a new HEARTH_SECRET_KEY value")
    keys_sub.add_parser("rotate", help="re-wrap every stored data key under the newest HEARTH_SECRET_KEY")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.setup()
    try:
        if args.command == "keys" and args.keys_command == "generate":
            print(generate_secret_key())
            return 0
        config = load_config(args.host, args.port if args.port is not None else None)
        if args.command is None:
            return serve(config)
        if args.command == "staff" and args.staff_command == "passwd":
            asyncio.run(_staff_passwd(config, args.name, _read_password()))
            print(f"Changed the password of {args.name!r}; its earlier tokens no longer work.")
            return 0
        if args.command == "staff":
            asyncio.run(_staff_add(config, args.name, args.role, _read_password()))
            print(f"Created {args.role} {args.name!r}.")
            return 0
        rewrapped, flags = asyncio.run(_keys_rotate(config))
        print(f"Re-wrapped {rewrapped} room key(s) and {flags} flag key(s) under the newest key.")
        return 0
    except ConfigError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return 2
    except HearthError as exc:
        print(f"hearth: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
