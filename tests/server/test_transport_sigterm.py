"""SIGTERM with sends in flight: every send gets an answer, clients are told, the process exits 0."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import socketio

from tests.conftest import free_port, http, wait_healthy
from tests.server.test_process import _env

pytestmark = pytest.mark.slow
PASSWORD = "bootstrap-password"
CLIENTS = 6


class Sender:
    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sent = 0
        self.answers: Counter[str] = Counter()
        self.closing = asyncio.Event()
        self.all_answered = asyncio.Event()
        self.notices: list[Any] = []

        @self.sio.on("server:closing")
        async def on_closing(data: Any) -> None:
            self.notices.append(data)
            self.closing.set()

    def _answered(self, ack: Any) -> None:
        self.answers["ok" if ack.get("ok") else ack["error"]["code"]] += 1
        if self.closing.is_set() and sum(self.answers.values()) == self.sent:
            self.all_answered.set()

    async def run(self, room: str) -> None:
        i = 0
        while not self.closing.is_set():
            self.sent += 1
            await self.sio.emit("message:send", {"room": room, "text": f"m{i}"}, callback=self._answered)
            i += 1
            await asyncio.sleep(0.005)
        if sum(self.answers.values()) == self.sent:
            self.all_answered.set()
        await asyncio.wait_for(self.all_answered.wait(), 10)
        await self.sio.disconnect()


async def test_sigterm_answers_every_send_and_exits_0(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _env(tmp_path, HEARTH_ADMIN_PASSWORD=PASSWORD)
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        await wait_healthy(url)
        _, login = await http(url, "POST", "/api/login", {"name": "admin", "password": PASSWORD})
        status, _ = await http(url, "POST", "/api/rooms", {"name": "Circle", "id": "circle"}, login["token"])
        assert status == 201
        senders = []
        for _ in range(CLIENTS):
            _, session = await http(url, "POST", "/api/session")
            sender = Sender()
            await sender.sio.connect(url, auth={"token": session["token"]}, transports=["websocket"], wait_timeout=5)
            ack = await sender.sio.call("room:join", {"room": "circle"}, timeout=5)
            assert ack["ok"], ack
            senders.append(sender)
        tasks = [asyncio.create_task(s.run("circle")) for s in senders]
        while sum(s.answers["ok"] for s in senders) < CLIENTS or sum(sum(s.answers.values()) for s in senders) < 200:
            await asyncio.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(asyncio.gather(*tasks), 15)
        returncode = await asyncio.get_running_loop().run_in_executor(None, lambda: proc.wait(timeout=10))
    finally:
        if proc.poll() is None:
            proc.kill()
        out, err = proc.communicate(timeout=10)
    assert returncode == 0, err
    sent = sum(s.sent for s in senders)
    answered = sum(sum(s.answers.values()) for s in senders)
    codes = sum((s.answers for s in senders), Counter())
    print(f"sigterm: {sent} sent, {answered} answered: {dict(codes)}")
    assert answered == sent
    assert all(s.notices and s.notices[0]["code"] == "unavailable" for s in senders)
    assert "Traceback" not in err
