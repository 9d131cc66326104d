"""Smoke test of the benchmark load generator against the real Hearth server.

Starts Hearth as a subprocess on a free loopback port with a fresh data dir,
runs bench.loadgen at a low rate (2 rooms x 5 sockets, 20 msgs/s for 3 s) and
checks that every message reached every member exactly once with no error
acks.  No timing assertions.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import loadgen, procs  # noqa: E402


async def test_loadgen_delivers_every_message_exactly_once() -> None:
    password = procs.random_password()
    server = procs.start_server("hearth", admin_password=password)
    http, api_http = loadgen.new_sessions()
    fleet = None
    try:
        await procs.wait_healthy(server, timeout=60)
        fleet = await loadgen.build_fleet(
            [server.url],
            password,
            rooms=2,
            room_size=5,
            senders_per_room=1,
            http=http,
            api_http=api_http,
            concurrency=8,
        )
        assert len(fleet.conns) == 10
        assert len(fleet.senders) == 2
        step = await loadgen.run_step(
            fleet,
            rate=20,
            duration=3.0,
            step=1,
            watched=loadgen.Watched([server.pid]),
            drain_timeout=20.0,
        )
        assert step["sent"] >= 50
        assert step["error_acks"] == 0, step["error_codes"]
        assert step["unacked"] == 0
        assert step["deliveries_expected"] == step["sent"] * 5
        assert step["deliveries"] == step["deliveries_expected"]
        assert step["lost"] == 0
        assert step["duplicates"] == 0
        assert step["late_from_earlier_step"] == 0
        assert step["closed_sockets"] == 0
        assert len(fleet.rec.lat) == step["deliveries"]
        assert fleet.rec.foreign == 0
        # every socket saw every message of its room exactly once
        per_room = {s.room: s.seq for s in fleet.senders}
        for c in fleet.conns:
            assert len(c.seen) == per_room[c.rooms[0]]
    finally:
        if fleet is not None:
            await fleet.close()
        await loadgen.close_sessions(http, api_http)
        rc = server.stop()
    assert rc == 0, server.log_tail()
