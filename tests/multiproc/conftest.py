"""Several real `hearth` processes sharing one private redis-server."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ADMIN_PASSWORD, Client, RedisProcess, Server, free_port, open_client

START_TIMEOUT = 30


@pytest.fixture
def redis_proc(tmp_path: Path) -> Iterator[RedisProcess]:
    workdir = tmp_path / "redis"
    workdir.mkdir()
    rp = RedisProcess(workdir, appendonly=True)
    rp.start()
    yield rp
    rp.stop()


@dataclass
class Hearth:
    """One `hearth` process."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def server(self) -> Server:
        return Server(self.url, None, None)  # type: ignore[arg-type]


def wait_healthy(url: str, timeout: float = START_TIMEOUT) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"{url} did not become healthy"
        time.sleep(0.1)


@dataclass
class Cluster:
    redis: RedisProcess
    tmp_path: Path
    secret: str = field(default_factory=lambda: base64.urlsafe_b64encode(os.urandom(32)).decode())
    nodes: list[Hearth] = field(default_factory=list)
    clients: list[Client] = field(default_factory=list)

    def spawn(self, **env_extra: str) -> Hearth:
        port = free_port()
        log = self.tmp_path / f"hearth-{port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HEARTH_", "REDIS_URL", "PORT"))}
        env.update(
            {
                "REDIS_URL": self.redis.url,
                "HEARTH_SECRET_KEY": self.secret,
                "HEARTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
                "HEARTH_IP_LIMITS": "off",
                "HEARTH_DATA_DIR": str(self.tmp_path / "data"),
                **env_extra,
            }
        )
        with log.open("wb") as fh:
            proc = subprocess.Popen(
                [sys.executable, "-m", "server", "--port", str(port)], env=env, stdout=fh, stderr=subprocess.STDOUT
            )
        node = Hearth(f"http://127.0.0.1:{port}", proc, log)
        self.nodes.append(node)
        wait_healthy(node.url)
        return node

    async def client(self, node: Hearth, token: str) -> Client:
        return await open_client(node.url, token, self.clients)

    def stop_all(self) -> None:
        for node in self.nodes:
            if node.proc.poll() is None:
                node.proc.send_signal(signal.SIGTERM)
        for node in self.nodes:
            try:
                node.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                node.proc.kill()
                node.proc.wait()


@pytest.fixture
async def cluster(redis_proc: RedisProcess, tmp_path: Path) -> AsyncIterator[Cluster]:
    c = Cluster(redis_proc, tmp_path)
    yield c
    for client in c.clients:
        if client.sio.connected:
            await client.sio.disconnect()
    c.stop_all()


Spawn = Callable[..., Hearth]
