"""The real `hearth` process: start-up messages, config errors, SIGTERM, and the staff CLI."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from server.config import Config
from tests.conftest import TEST_KEY, Client, free_port, http, open_client, start_server, stop_process, wait_healthy

TIMEOUT = 30


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEARTH_", "REDIS_URL", "PORT"))}
    env.update({"HEARTH_DATA_DIR": str(tmp_path / "data"), "HEARTH_IP_LIMITS": "off", **extra})
    return env


def _run(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args], env=env, input=stdin, capture_output=True, text=True, timeout=TIMEOUT
    )


def _spawn(port: int, env: dict[str, str]) -> subprocess.Popen[str]:
    """``hearth`` serving on ``port`` as its own process, its output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "server", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"PORT": "eighty"}, "PORT must be a whole number"),
        ({"PORT": "70000"}, "PORT must be a whole number"),
        ({"HEARTH_SECRET_KEY": "c2hvcnQ"}, "HEARTH_SECRET_KEY"),
        ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "HEARTH_SECRET_KEY is required with REDIS_URL"),
        ({"HEARTH_DATA_DIR": "/proc/hearth-cannot-write"}, "HEARTH_DATA_DIR"),
        ({"HEARTH_IP_LIMITS": "maybe"}, "HEARTH_IP_LIMITS"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(tmp_path: Path, extra: dict[str, str], needle: str) -> None:
    result = _run([], _env(tmp_path, **extra))
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("hearth:")]
    assert len(lines) == 1 and needle in lines[0], result.stderr
    assert "Traceback" not in result.stderr


async def test_serves_then_exits_0_on_sigterm_and_keeps_a_generated_key(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, HEARTH_ADMIN_PASSWORD="bootstrap-password")
    proc = _spawn(port, env)
    try:
        url = f"http://127.0.0.1:{port}"
        body = await wait_healthy(url, proc)
        assert body == {"status": "ok", "store": "sqlite"}
        status, _ = await http(url, "POST", "/api/login", {"name": "admin", "password": "bootstrap-password"})
        assert status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.to_thread(proc.communicate, timeout=TIMEOUT)
    assert proc.returncode == 0, err
    assert f"http://127.0.0.1:{port}/" in out and "sqlite" in out
    key_file = tmp_path / "data" / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "secret_generated" in err
    assert "bootstrap-password" not in out + err


def test_staff_add_from_stdin(tmp_path: Path) -> None:
    env = _env(tmp_path)
    result = _run(["staff", "add", "fran", "--role", "facilitator"], env, stdin="a-long-password\n")
    assert result.returncode == 0, result.stderr
    again = _run(["staff", "add", "fran", "--role", "facilitator"], env, stdin="a-long-password\n")
    assert again.returncode == 1 and "already exists" in again.stderr
    bad = _run(["staff", "add", "Fran!", "--role", "facilitator"], env, stdin="a-long-password\n")
    assert bad.returncode == 1


def test_keys_generate_prints_a_usable_key(tmp_path: Path) -> None:
    result = _run(["keys", "generate"], _env(tmp_path))
    assert result.returncode == 0
    key = result.stdout.strip()
    from crypto.keys import parse_secret_keys

    assert len(parse_secret_keys(key)[0]) == 32


async def test_keys_rotate_lets_the_old_key_go(tmp_path: Path) -> None:
    import base64

    from server.config import Secret
    from tests.conftest import make_config as config_for
    from tests.conftest import start_server

    old, new = os.urandom(32), os.urandom(32)
    enc = lambda k: base64.urlsafe_b64encode(k).decode()  # noqa: E731
    data = tmp_path / "data"
    first = await start_server(config_for(data, secret=Secret((old,))))
    try:
        await first.room("circle")
        token, _ = await first.session()
        from tests.conftest import open_client

        clients: list = []
        c = await open_client(first.url, token, clients)
        await c.join("circle")
        assert (await c.send("circle", "sealed under the old key"))["ok"]
        await c.sio.disconnect()
    finally:
        await first.runner.cleanup()
    result = _run(["keys", "rotate"], _env(tmp_path, HEARTH_SECRET_KEY=f"{enc(new)},{enc(old)}"))
    assert result.returncode == 0, result.stderr
    assert "Re-wrapped 1 room key(s)" in result.stdout
    second = await start_server(config_for(data, secret=Secret((new,))))
    try:
        peer = await open_client(second.url, (await second.session())[0], [])
        history = (await peer.join("circle"))["history"]
        assert [m["text"] for m in history] == ["sealed under the old key"]
        await peer.sio.disconnect()
    finally:
        await second.runner.cleanup()


def test_listening_is_said_only_once_bound_and_the_first_admin_is_explained(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run(["--port", str(port)], _env(tmp_path))
    assert result.returncode == 1, result.stderr
    assert "Hearth is listening" not in result.stdout and "event=listening" not in result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


async def test_a_fresh_start_without_an_admin_password_says_how_to_make_one(tmp_path: Path) -> None:
    port = free_port()
    proc = _spawn(port, _env(tmp_path))
    try:
        await wait_healthy(f"http://127.0.0.1:{port}", proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.to_thread(proc.communicate, timeout=TIMEOUT)
    assert proc.returncode == 0, err
    assert out.index("Hearth is listening") < out.index("hearth staff add NAME --role admin")
    assert "HEARTH_ADMIN_PASSWORD" in out


async def test_staff_passwd_closes_that_persons_open_sockets(config: Config, tmp_path: Path) -> None:
    """The CLI changes the password in the store from another process; the server, told nothing,
    closes that staff member's open socket at its next check, and the old token is refused."""
    srv = await start_server(config.replace(presence_reap_s=0.2))
    clients: list[Client] = []
    try:
        token = await srv.staff("fran")
        fran = await open_client(srv.url, token, clients)
        peer = await open_client(srv.url, (await srv.session())[0], clients)
        env = _env(
            tmp_path,
            HEARTH_DATA_DIR=str(config.data_dir),
            HEARTH_SECRET_KEY=base64.urlsafe_b64encode(TEST_KEY).decode(),
            **({"REDIS_URL": config.redis_url} if config.redis_url else {}),
        )
        result = await asyncio.to_thread(_run, ["staff", "passwd", "fran"], env, "a-new-long-password\n")
        assert result.returncode == 0, result.stderr
        await asyncio.wait_for(fran.sio.wait(), 10)  # returns once the server has closed her socket
        assert peer.sio.connected  # only hers
        status, _ = await http(srv.url, "GET", "/api/rooms", token=token)
        assert status == 401
    finally:
        for client in clients:
            if client.sio.connected:
                await client.sio.disconnect()
        await srv.runner.cleanup()


def _full_collections(metrics: str) -> tuple[float, float]:
    """(full collections, objects they freed) from /metrics' python_gc_* counters."""
    values = {}
    for line in metrics.splitlines():
        if line.startswith(
            ('python_gc_collections_total{generation="2"}', 'python_gc_objects_collected_total{generation="2"}')
        ):
            name, value = line.rsplit(" ", 1)
            values[name.split("{")[0]] = float(value)
    return values["python_gc_collections_total"], values["python_gc_objects_collected_total"]


@pytest.mark.slow
async def test_the_cycles_closed_connections_leave_are_collected_and_an_idle_server_does_not_collect(
    tmp_path: Path,
) -> None:
    """The serving process's collector is tuned for throughput and almost never runs a full collection;
    what closed sockets leave in reference cycles is freed by the server's own, once enough of them closed
    (here all 20: none is left open). The soak's RSS grew by a fifth without it. It never runs while
    nothing closes."""
    from server.lifecycle import COLLECT_CLOSED_S

    port = free_port()
    proc = _spawn(port, _env(tmp_path))
    clients: list[Client] = []
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_healthy(url, proc)
        tokens = []
        for _ in range(20):
            status, body = await http(url, "POST", "/api/session")
            assert status == 201
            tokens.append(body["token"])
        _, text = await http(url, "GET", "/metrics")
        idle_start = _full_collections(text)
        await asyncio.sleep(COLLECT_CLOSED_S + 2)  # nothing connected, nothing closed
        _, text = await http(url, "GET", "/metrics")
        assert _full_collections(text)[0] == idle_start[0]

        for token in tokens:
            await open_client(url, token, clients)
        for client in clients:
            await client.sio.disconnect()
        deadline = asyncio.get_running_loop().time() + COLLECT_CLOSED_S + 10
        while True:
            _, text = await http(url, "GET", "/metrics")
            collections, freed = _full_collections(text)
            if collections > idle_start[0]:
                break
            assert asyncio.get_running_loop().time() < deadline, "no full collection after 20 sockets closed"
            await asyncio.sleep(0.5)
        assert freed - idle_start[1] >= 20 * 20  # each closed socket left tens of objects in cycles
    finally:
        for client in clients:
            if client.sio.connected:
                await client.sio.disconnect()
        stop_process(proc)
        proc.communicate(timeout=TIMEOUT)  # closes its pipes
