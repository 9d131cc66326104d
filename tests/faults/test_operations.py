"""Operations: Redis out of memory is `unavailable` and /healthz 503 (a write probe); a wrong
HEARTH_SECRET_KEY against existing data is one readable line and exit 2; data files are private."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from rooms.clock import SystemClock
from server.services import open_services, resolve_secret
from tests.conftest import ADMIN_PASSWORD, RedisProcess, http, make_config
from tests.multiproc.conftest import Cluster, wait_healthy

KEY_A = "a" * 43 + "="
KEY_B = "b" * 43 + "="


async def test_redis_at_maxmemory_is_unavailable_not_internal(cluster: Cluster) -> None:
    node = cluster.spawn()
    await node.server().room("circle")
    fran = await cluster.client(node, await node.server().staff("fran"))
    await fran.join("circle")
    assert (await fran.send("circle", "before"))["ok"]
    probe = redis.Redis(port=cluster.redis.port)
    try:
        used = int(probe.info("memory")["used_memory"])
        probe.config_set("maxmemory-policy", "noeviction")
        probe.config_set("maxmemory", used + 256 * 1024)
        with pytest.raises(redis.exceptions.OutOfMemoryError):  # fill it up
            for i in range(100_000):
                probe.set(f"ballast:{i}", b"x" * 4096)
        ack = await fran.send("circle", "while full", timeout=10)
        assert ack["ok"] is False and ack["error"]["code"] == "unavailable", ack
        status, body = await http(node.url, "GET", "/healthz")
        assert status == 503 and body["status"] == "unavailable"
        # freed again: it recovers by itself
        probe.config_set("maxmemory", 0)
        status, _ = await http(node.url, "GET", "/healthz")
        assert status == 200
        assert (await fran.send("circle", "after"))["ok"]
    finally:
        probe.config_set("maxmemory", 0)
        probe.close()
    log = node.log.read_text()
    assert "Traceback" not in log and "code=internal" not in log


def _hearth(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HEARTH_", "REDIS_URL", "PORT"))}
    return subprocess.Popen(
        [sys.executable, "-m", "server", "--port", str(port)],
        env={**base, "HEARTH_IP_LIMITS": "off", "HEARTH_ADMIN_PASSWORD": ADMIN_PASSWORD, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("store", ["sqlite", "redis"])
async def test_a_wrong_secret_key_is_one_line_and_exit_2(store: str, tmp_path: Path) -> None:
    from tests.conftest import free_port

    env = {"HEARTH_DATA_DIR": str(tmp_path / "data")}
    rp = None
    if store == "redis":
        (tmp_path / "redis").mkdir()
        rp = RedisProcess(tmp_path / "redis")
        rp.start()
        env["REDIS_URL"] = rp.url
    try:
        port = free_port()
        first = _hearth({**env, "HEARTH_SECRET_KEY": KEY_A}, port)
        try:
            await asyncio.to_thread(wait_healthy, f"http://127.0.0.1:{port}")
        finally:
            first.terminate()
            first.communicate(timeout=15)
        second = _hearth({**env, "HEARTH_SECRET_KEY": KEY_B}, free_port())
        _, err = await asyncio.to_thread(second.communicate, timeout=30)
        assert second.returncode == 2
        text = err.decode()
        assert "Traceback" not in text
        lines = [line for line in text.splitlines() if line.startswith("hearth:")]  # not the log lines
        assert len(lines) == 1, text
        assert lines[0].startswith(f"hearth: HEARTH_SECRET_KEY does not open the data already in the {store} store")
        assert KEY_A not in text and KEY_B not in text
    finally:
        if rp is not None:
            rp.stop()


async def test_data_files_are_0600_in_a_0700_directory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = resolve_secret(make_config(tmp_path).replace(data_dir=data, secret=None))
    svc = await open_services(config, SystemClock())
    try:
        await svc.room_store.set_meta("probe", b"x")  # something in the WAL
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        files = sorted(p.name for p in data.iterdir())
        assert {"hearth.db", "hearth.db-wal", "secret.key"} <= set(files)
        for name in files:
            assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
    finally:
        await svc.aclose()


async def test_loose_permissions_left_by_an_older_version_are_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "hearth.db").touch(mode=0o644)
    data.chmod(0o755)
    (data / "hearth.db").chmod(0o644)
    svc = await open_services(make_config(tmp_path).replace(data_dir=data), SystemClock())
    await svc.aclose()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "hearth.db").stat().st_mode) == 0o600
