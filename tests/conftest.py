"""Shared fixtures: a real redis-server, a real Hearth server on a free port, real Socket.IO clients."""

from __future__ import annotations

import asyncio
import base64
import shutil
import signal
import socket
import subprocess
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp import web

from rooms.clock import SystemClock
from server import logs
from server.app import create_app
from server.config import Config, Password, Secret

TEST_KEY = base64.urlsafe_b64decode(base64.urlsafe_b64encode(b"k" * 32))
ADMIN_PASSWORD = "admin-password-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisProcess:
    """A real redis-server of the tests' own on a free port (never the machine's 6379).

    A test may stop and start it again on the same port; with ``appendonly`` its data
    survives that, as an operator's Redis with AOF would.
    """

    def __init__(self, workdir: Path, *, appendonly: bool = False) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.appendonly = appendonly
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed: run `make test`, which installs it"
        aof = ["yes", "--appendfsync", "always"] if self.appendonly else ["no"]
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                *aof,
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.exceptions.RedisError:  # not up yet, or still loading its AOF
                    if time.monotonic() > deadline:
                        self.stop()
                        raise
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One redis-server shared by the whole session; tests FLUSHDB it before use."""
    server = RedisProcess(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server.url
    server.stop()


def make_config(tmp_path: Path, redis_url: str | None = None, **changes: Any) -> Config:
    base = Config(
        data_dir=tmp_path,
        redis_url=redis_url,
        secret=Secret((TEST_KEY,)),
        admin_password=Password(ADMIN_PASSWORD),
        ip_limits=False,
    )
    return base.replace(**changes) if changes else base


STORES = ["sqlite", "redis"]


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def config(store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Config:
    redis_url = None
    if store_kind == "redis":
        redis_url = request.getfixturevalue("redis_server")
        import redis

        client = redis.Redis.from_url(redis_url)
        client.flushdb()
        client.close()
    return make_config(tmp_path, redis_url)


@dataclass
class Server:
    url: str
    app: web.Application
    runner: web.AppRunner

    async def post(self, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        return await http(self.url, "POST", path, body, token)

    async def get(self, path: str, token: str | None = None) -> tuple[int, Any]:
        return await http(self.url, "GET", path, None, token)

    async def patch(self, path: str, body: Any, token: str | None = None) -> tuple[int, Any]:
        return await http(self.url, "PATCH", path, body, token)

    async def delete(self, path: str, token: str | None = None) -> tuple[int, Any]:
        return await http(self.url, "DELETE", path, None, token)

    async def session(self, pseudonym: str | None = None) -> tuple[str, dict[str, Any]]:
        status, body = await self.post("/api/session", {"pseudonym": pseudonym} if pseudonym else None)
        assert status == 201, body
        return body["token"], body["identity"]

    async def login(self, name: str = "admin", password: str = ADMIN_PASSWORD) -> str:
        status, body = await self.post("/api/login", {"name": name, "password": password})
        assert status == 200, body
        return str(body["token"])

    async def staff(self, name: str, role: str = "facilitator") -> str:
        admin = await self.login()
        body_in = {"name": name, "role": role, "password": "pw-" + name + "-123"}
        status, body = await self.post("/api/admin/staff", body_in, admin)
        assert status == 201, body
        return await self.login(name, "pw-" + name + "-123")

    async def room(self, room_id: str = "circle", **fields: Any) -> dict[str, Any]:
        admin = await self.login()
        status, body = await self.post("/api/rooms", {"name": room_id.title(), "id": room_id, **fields}, admin)
        assert status == 201, body
        return body


async def http(
    base: str, method: str, path: str, body: Any = None, token: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    hdrs = dict(headers or {})
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    async with aiohttp.ClientSession() as session:
        kwargs: dict[str, Any] = {"headers": hdrs}
        if body is not None:
            kwargs["json"] = body
        async with session.request(method, base + path, **kwargs) as resp:
            text = await resp.text()
            try:
                import json

                return resp.status, json.loads(text) if text else None
            except ValueError:
                return resp.status, text


async def start_server(config: Config, clock: Any = None) -> Server:
    app = create_app(config, clock=clock or SystemClock())
    runner = web.AppRunner(app, handle_signals=False, **logs.access_log_kwargs())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return Server(f"http://127.0.0.1:{port}", app, runner)


@pytest.fixture
async def server(config: Config) -> AsyncIterator[Server]:
    srv = await start_server(config)
    yield srv
    await srv.runner.cleanup()


@dataclass
class Client:
    """A python-socketio AsyncClient that records every event it receives."""

    sio: socketio.AsyncClient
    events: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    _waiters: list[tuple[str, Callable[[Any], bool], asyncio.Future[Any]]] = field(default_factory=list)

    def _record(self, event: str, data: Any) -> None:
        self.events[event].append(data)
        for waiter in list(self._waiters):
            name, pred, fut = waiter
            if name == event and not fut.done() and pred(data):
                fut.set_result(data)
                self._waiters.remove(waiter)

    async def wait_for(self, event: str, pred: Callable[[Any], bool] = lambda _: True, timeout: float = 5) -> Any:
        for data in self.events[event]:
            if pred(data):
                return data
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append((event, pred, fut))
        return await asyncio.wait_for(fut, timeout)

    async def call(self, event: str, data: Any = None, timeout: float = 5) -> Any:
        return await self.sio.call(event, data, timeout=timeout)

    async def join(self, room: str) -> dict[str, Any]:
        ack = await self.call("room:join", {"room": room})
        assert ack["ok"], ack
        return ack

    async def send(self, room: str, text: str, **extra: Any) -> dict[str, Any]:
        return await self.call("message:send", {"room": room, "text": text, **extra})


Connect = Callable[..., Awaitable[Client]]


async def open_client(url: str, token: str | None, clients: list[Client]) -> Client:
    sio = socketio.AsyncClient(reconnection=False)
    client = Client(sio)

    @sio.on("*")
    async def any_event(event: str, data: Any = None) -> None:
        client._record(event, data)

    clients.append(client)
    await sio.connect(
        url, auth={"token": token} if token is not None else None, transports=["websocket"], wait_timeout=5
    )
    return client


@pytest.fixture
async def connect(server: Server) -> AsyncIterator[Connect]:
    clients: list[Client] = []

    async def _connect(token: str | None) -> Client:
        return await open_client(server.url, token, clients)

    yield _connect
    for client in clients:
        if client.sio.connected:
            await client.sio.disconnect()


def stop_process(proc: subprocess.Popen[Any], timeout: float = 15) -> None:
    """SIGTERM a server process (a graceful shutdown) and wait; kill it if it has not exited by ``timeout``."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def wait_healthy(url: str, proc: subprocess.Popen[str] | None = None, timeout: float = 30) -> dict[str, Any]:
    """Poll /healthz of a server process until it answers 200 (its body is returned); fail if it exits first."""
    deadline = time.monotonic() + timeout
    while True:
        assert proc is None or proc.poll() is None, "hearth exited at start-up"
        try:
            status, body = await http(url, "GET", "/healthz")
            if status == 200:
                return dict(body)
        except OSError:
            pass
        assert time.monotonic() < deadline, "hearth did not start"
        await asyncio.sleep(0.1)
