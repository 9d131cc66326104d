"""Fixtures for the browser tests: the real server as a subprocess, Debian's Chromium via Playwright.

The server runs as ``python -m server`` on a free port with its own data directory,
secret key and admin password; the tests drive the pages in ``web/`` through
Chromium (never a downloaded browser: no ``playwright install``).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import stop_process

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
STARTUP_DEADLINE_S = 20.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


@dataclass
class Hearth:
    """A running server plus small HTTP helpers for setting up test data."""

    base_url: str
    admin_password: str
    log_path: Path
    _admin_token: str | None = field(default=None, repr=False)

    def api(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            e.close()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode(errors="replace")
            raise ApiError(e.code, parsed) from None
        return json.loads(raw) if raw else None

    def login(self, name: str, password: str) -> str:
        return str(self.api("POST", "/api/login", {"name": name, "password": password})["token"])

    @property
    def admin_token(self) -> str:
        if self._admin_token is None:
            self._admin_token = self.login("admin", self.admin_password)
        return self._admin_token

    def create_room(self, name: str, **settings: Any) -> dict[str, Any]:
        room: dict[str, Any] = self.api("POST", "/api/rooms", {"name": name, **settings}, self.admin_token)
        return room

    def create_staff(self, name: str, role: str = "facilitator") -> str:
        """Create a staff account; returns its password."""
        password = secrets.token_urlsafe(16)
        self.api("POST", "/api/admin/staff", {"name": name, "role": role, "password": password}, self.admin_token)
        return password


def _wait_healthy(proc: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    last_error = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"server exited with {proc.returncode} during start-up:\n{log_path.read_text(errors='replace')[-4000:]}"
            )
        try:
            with urllib.request.urlopen(base_url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except urllib.error.HTTPError as e:
            last_error = f"HTTP {e.code}"
            e.close()
        except OSError as e:
            last_error = str(e)
        time.sleep(0.1)
    raise RuntimeError(
        f"server not healthy after {STARTUP_DEADLINE_S:.0f} s ({last_error}):\n"
        f"{log_path.read_text(errors='replace')[-4000:]}"
    )


@dataclass
class ServerProcess:
    """One `python -m server` process on a fixed port; start() again after stop() for a restart."""

    port: int
    data_dir: Path
    secret_key: str
    admin_password: str
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "HEARTH_DATA_DIR": str(self.data_dir),
            "HEARTH_SECRET_KEY": self.secret_key,
            "HEARTH_ADMIN_PASSWORD": self.admin_password,
            "HEARTH_IP_LIMITS": "off",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("REDIS_URL", None)
        env.pop("HEARTH_ALLOWED_ORIGINS", None)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "server", "--port", str(self.port)],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_healthy(self.proc, self.base_url, self.log_path)

    def stop(self) -> None:
        """SIGTERM (a graceful shutdown: sockets get `server:closing`), then wait for the exit."""
        proc, self.proc = self.proc, None
        if proc is not None:
            stop_process(proc, timeout=10)


def new_server(tmp_path_factory: pytest.TempPathFactory) -> ServerProcess:
    data_dir = tmp_path_factory.mktemp("hearth-data")
    return ServerProcess(
        port=_free_port(),
        data_dir=data_dir,
        secret_key=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        admin_password=secrets.token_urlsafe(18),
        log_path=data_dir.parent / f"{data_dir.name}.log",
    )


@pytest.fixture(scope="package")
def hearth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hearth]:
    """The real server, started once for the browser tests, stopped with SIGTERM."""
    server = new_server(tmp_path_factory)
    try:
        server.start()
        yield Hearth(base_url=server.base_url, admin_password=server.admin_password, log_path=server.log_path)
    finally:
        server.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (make system-deps)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _console(msg: Any, problems: list[str], allowed: tuple[str, ...] = ()) -> None:
    # An HTTP error answer (a 400 for a refused pseudonym, say) is logged by Chromium as
    # "Failed to load resource"; the page handles those itself.
    if msg.type != "error" or "Failed to load resource" in msg.text:
        return
    if not any(a in msg.text for a in allowed):
        problems.append(f"console {msg.type}: {msg.text}")


@pytest.fixture
def new_page(browser: Any, hearth: Hearth) -> Iterator[Callable[..., Any]]:
    """Factory: a page in a fresh browser context (its own localStorage), closed after the test.

    Every page collects console errors and page errors (a CSP violation or an exception
    in app.js fails the test at teardown)."""
    contexts: list[Any] = []
    problems: list[str] = []

    def make(
        path: str = "/",
        viewport: dict[str, int] | None = None,
        before_goto: Callable[[Any], None] | None = None,
        base_url: str | None = None,
        color_scheme: str = "light",
        allowed_console: tuple[str, ...] = (),
    ) -> Any:
        """allowed_console: substrings of console errors the test expects (a refused websocket
        while the server restarts, say)."""
        context = browser.new_context(
            base_url=base_url or hearth.base_url,
            viewport=viewport or {"width": 1200, "height": 900},
            color_scheme=color_scheme,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on("console", lambda msg: _console(msg, problems, allowed_console))
        if before_goto is not None:
            before_goto(page)
        page.goto(path)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, "browser reported errors:\n" + "\n".join(problems)
