"""schemathesis against a real Hearth process: every operation of docs/openapi.yaml, on both stores.

The server is a real ``python -m server`` process on a free port (schemathesis calls are
synchronous, so the server cannot share the test's event loop). Each operation gets a bounded,
deterministic set of generated requests, valid and invalid, sent with an admin token so the
authorised paths run and not only the 401s. Every answer must be no 5xx, a documented status,
the documented content type and headers, and a body matching the documented schema. Afterwards
the server's log must hold no traceback, and SIGTERM must still end it with status 0.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import socketio
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ADMIN_PASSWORD, TEST_KEY, free_port, stop_process

# A fuzzing pass of about half a minute per store: `make test` runs it, `make check` does not.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "openapi.yaml"
MAX_EXAMPLES = 25  # per operation and variant; a peer token gets a fifth of it
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class LiveServer:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path
    admin_token: str
    peer_token: str
    targets: dict[str, str]  # path parameter -> an id that exists on this server


def _request(url: str, body: object | None = None, token: str | None = None) -> tuple[int, dict[str, Any]]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"hearth exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if _request(url + "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"hearth did not become healthy:\n{log.read_text()}")


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def live_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp_path = tmp_path_factory.mktemp("schemathesis")
    port = free_port()
    env = {
        **os.environ,
        "HEARTH_DATA_DIR": str(tmp_path / "data"),
        "HEARTH_SECRET_KEY": base64.urlsafe_b64encode(TEST_KEY).decode(),
        "HEARTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "HEARTH_IP_LIMITS": "off",
    }
    env.pop("REDIS_URL", None)
    if request.param == "redis":
        import redis

        url = request.getfixturevalue("redis_server")
        client = redis.Redis.from_url(url)
        client.flushdb()
        client.close()
        env["REDIS_URL"] = url
    log = tmp_path / "hearth.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc, log)
        yield _seed(base, proc, log)
    finally:
        stop_process(proc)
    # After every operation was fuzzed: a clean exit, and not one traceback in the log.
    assert proc.returncode == 0, log.read_text()
    assert "Traceback" not in log.read_text(), log.read_text()


def _seed(base: str, proc: subprocess.Popen[bytes], log: Path) -> LiveServer:
    """Real targets for the path parameters: rooms, a staff account and an open flag on a real message."""
    status, body = _request(base + "/api/login", {"name": "admin", "password": ADMIN_PASSWORD})
    assert status == 200, body
    admin = str(body["token"])
    for room_id in ("kept", "doomed"):
        status, body = _request(base + "/api/rooms", {"name": room_id.title(), "id": room_id}, admin)
        assert status == 201, body
    status, body = _request(
        base + "/api/admin/staff", {"name": "sam", "role": "facilitator", "password": "pw-sam-123"}, admin
    )
    assert status == 201, body
    status, body = _request(base + "/api/session", {"pseudonym": "River Otter"})
    assert status == 201, body
    peer = str(body["token"])

    async def flag_a_message() -> str:
        sio = socketio.AsyncClient(reconnection=False)
        await sio.connect(base, auth={"token": peer}, transports=["websocket"], wait_timeout=5)
        try:
            assert (await sio.call("room:join", {"room": "kept"}, timeout=5))["ok"]
            sent = await sio.call("message:send", {"room": "kept", "text": "hello"}, timeout=5)
            flagged = await sio.call(
                "message:flag", {"room": "kept", "message_id": sent["message"]["id"], "reason": "check"}, timeout=5
            )
            assert flagged["ok"], flagged
            return str(flagged["flag_id"])
        finally:
            await sio.disconnect()

    flag_id = asyncio.run(flag_a_message())
    # DELETE /api/rooms/{room_id} gets a room of its own: deleting "kept" would take the flag with it.
    targets = {"room_id": "kept", "flag_id": flag_id, "name": "sam", "DELETE room_id": "doomed"}
    return LiveServer(base, proc, log, admin, peer, targets)


SCHEMA = schemathesis.openapi.from_path(DOC)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


def _variants() -> Iterator[Any]:
    """Each operation: valid and invalid requests as admin; with the path pointing at real objects; as a peer."""
    for op in OPERATIONS:
        has_input = bool(op.path_parameters or op.query or op.body)
        secured = op.definition.raw.get("security") != []
        yield pytest.param(op, "positive", id=f"{op.label} positive")
        if has_input:
            yield pytest.param(op, "negative", id=f"{op.label} negative")
        if op.path_parameters:
            yield pytest.param(op, "existing", id=f"{op.label} existing")
        if secured:
            yield pytest.param(op, "peer", id=f"{op.label} peer")


@pytest.mark.parametrize(("operation", "variant"), list(_variants()))
def test_operation_matches_the_document(
    operation: schemathesis.APIOperation, variant: str, live_server: LiveServer
) -> None:
    token = live_server.peer_token if variant == "peer" else live_server.admin_token
    headers = {"Authorization": f"Bearer {token}"}
    mode = GenerationMode.NEGATIVE if variant == "negative" else GenerationMode.POSITIVE
    path_parameters = None
    if variant == "existing":
        targets = live_server.targets
        path_parameters = {
            p.name: targets.get(f"{operation.method.upper()} {p.name}", targets[p.name])
            for p in operation.path_parameters
        }
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES if variant != "peer" else MAX_EXAMPLES // 5,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=live_server.url, headers=headers, checks=CHECKS)

    run()
