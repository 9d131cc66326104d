"""Soak: two Hearth processes on one Redis, 1,000 sockets in 50 rooms, traffic and churn for 10 min.

    python -m bench.soak                    # what `make soak` runs
    SOAK_SECONDS=120 python -m bench.soak   # shorter (also SOAK_SOCKETS, SOAK_ROOMS, SOAK_RATE,
                                            # SOAK_CHURN_PERCENT: 0 for traffic alone)

After a warm-up (the same traffic and churn) it samples each Hearth process's resident memory (RSS), open file
descriptors and asyncio tasks; then it runs rounds of traffic (SOAK_RATE messages/s over
every room) with churn (a tenth of the peers close their socket and connect and join again
each round) until SOAK_SECONDS have passed, lets things settle with every socket connected
again, and samples once more. It prints one JSON line and exits 1 when any figure of any
process grew by more than 10 % (or a message was lost, duplicated or refused).

RSS is also sampled after every round (warm-up included) and printed as a series
(``rss_series_mb``: seconds since the fleet joined, then each process's MB), with the growth
over the second half of the measured part alone (``rss_drift_second_half``): a leak keeps its
pace, while an allocator settling on the churn's working set slows down.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from typing import Any

import aiohttp
import orjson

from bench import loadgen, procs

DRIFT = 0.10


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def tasks(http: aiohttp.ClientSession, url: str) -> int:
    async with http.get(url + "/metrics") as resp:
        for line in (await resp.text()).splitlines():
            if line.startswith("hearth_asyncio_tasks "):
                return int(float(line.split()[1]))
    raise RuntimeError("hearth_asyncio_tasks is missing from /metrics")


async def sample(http: aiohttp.ClientSession, servers: list[procs.ServerProc]) -> list[dict[str, float]]:
    return [
        {
            "rss_mb": round(s.rss_bytes() / 2**20, 1),
            "fds": fds(s.pid),
            "tasks": await tasks(http, s.url),
        }
        for s in servers
    ]


async def churn(fleet: loadgen.Fleet, share: float, rng: random.Random) -> None:
    """Close a share of the peers' sockets, then connect them again and rejoin their room."""
    sender_conns = {id(s.conn) for s in fleet.senders}
    peers = [c for c in fleet.conns if id(c) not in sender_conns]
    chosen = rng.sample(peers, max(1, int(len(peers) * share)))
    await loadgen.gather_limited(64, [c.close for c in chosen])
    for c in chosen:
        rooms, c.rooms = list(c.rooms), []
        c.ws, c.reader, c.closed, c.error, c.futures, c.pending = None, None, False, None, {}, {}

        async def reopen(c: loadgen.Conn = c, rooms: list[str] = rooms) -> None:
            await c.open(fleet.http)
            for r in rooms:
                await c.join(r)

        await reopen()


async def soak() -> dict[str, Any]:
    seconds = env_int("SOAK_SECONDS", 600)
    sockets = env_int("SOAK_SOCKETS", 1000)
    rooms = env_int("SOAK_ROOMS", 50)
    rate = env_int("SOAK_RATE", 50)
    churn_share = env_int("SOAK_CHURN_PERCENT", 10) / 100  # of the peers, closed and back each round
    # The warm-up runs the same traffic and churn, so the start sample is taken with every pool,
    # cache and buffer at its working size (RSS rose 95.3 -> 96.7 MB during it in the last run).
    warmup = env_int("SOAK_WARMUP_SECONDS", min(180, max(10, seconds // 3)))
    round_s = 10.0
    rng = random.Random(1)
    procs.raise_nofile()
    password = procs.random_password()
    key = procs.new_secret_key()
    redis = procs.start_redis()
    servers: list[procs.ServerProc] = []
    ws_http, api_http = loadgen.new_sessions()
    fleet: loadgen.Fleet | None = None
    try:
        await procs.wait_redis(redis)
        url = f"redis://127.0.0.1:{redis.port}/0"
        servers = [
            procs.start_server("hearth", admin_password=password, secret_key=key, redis_url=url) for _ in range(2)
        ]
        for s in servers:
            await procs.wait_healthy(s)
        fleet = await loadgen.build_fleet(
            [s.url for s in servers],
            password,
            rooms=rooms,
            room_size=max(2, sockets // rooms),
            senders_per_room=1,
            http=ws_http,
            api_http=api_http,
        )
        # The API's kept-alive connections would count as file descriptors and tasks: samples go
        # over connections of their own, closed after each request.
        await api_http.close()
        api_http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
        log(f"soak: {len(fleet.conns)} sockets in {rooms} rooms on 2 processes; warming up {warmup} s")
        step = 0
        t_begin = time.monotonic()
        series: list[list[float]] = []  # [seconds since the fleet joined, RSS MB of each process], every round

        async def record() -> None:
            rss = [round(s.rss_bytes() / 2**20, 1) for s in servers]
            series.append([round(time.monotonic() - t_begin), *rss])
            log(f"soak: rss {series[-1]}")

        await record()
        t_end = time.monotonic() + warmup
        while time.monotonic() < t_end:
            step += 1
            if churn_share:
                await churn(fleet, churn_share, rng)
            await loadgen.run_step(fleet, rate, round_s, step)
            await record()
        await asyncio.sleep(2)
        start = await sample(api_http, servers)
        measured_from = len(series)  # the series' entries from here on are the measured part
        log(f"soak: start {start}")
        totals = {"sent": 0, "lost": 0, "duplicates": 0, "error_acks": 0, "rounds": 0}
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            step += 1
            if churn_share:
                await churn(fleet, churn_share, rng)
            r = await loadgen.run_step(fleet, rate, round_s, step)
            for k in ("sent", "lost", "duplicates", "error_acks"):
                totals[k] += r[k]
            totals["rounds"] += 1
            await record()
            if totals["rounds"] % 6 == 0:
                log(f"soak: {time.monotonic() - t0:.0f} s {totals} {await sample(api_http, servers)}")
        await asyncio.sleep(5)  # settle: every socket connected, nothing in flight
        end = await sample(api_http, servers)
        log(f"soak: end {end}")
        drift = [
            {k: round((e[k] - s[k]) / s[k], 3) if s[k] else 0.0 for k in s} for s, e in zip(start, end, strict=True)
        ]
        # Growth over the second half of the measured part alone: a leak keeps its pace, while an
        # allocator settling on its working set slows down (reported; the pass mark stays start -> end).
        measured = series[measured_from:]
        halfway = measured[len(measured) // 2][1:] if measured else [e["rss_mb"] for e in end]
        late_rss_drift = [round((e["rss_mb"] - h) / h, 3) if h else 0.0 for h, e in zip(halfway, end, strict=True)]
        worst = max(v for d in drift for v in d.values())  # growth: a figure that went down did not leak
        clean = totals["lost"] == 0 and totals["duplicates"] == 0 and totals["error_acks"] == 0
        return {
            "seconds": seconds,
            "warmup_seconds": warmup,
            "sockets": len(fleet.conns),
            "rooms": rooms,
            "rate_msgs_per_s": rate,
            "churn_per_round": f"{churn_share:.0%} of peers",
            "start": start,
            "end": end,
            "drift": drift,
            "traffic": totals,
            "rss_series_mb": series,
            "rss_drift_second_half": late_rss_drift,
            "passed": worst <= DRIFT and clean,
        }
    finally:
        if fleet is not None:
            await fleet.close()
        await loadgen.close_sessions(ws_http, api_http)
        for s in servers:
            s.stop()
        redis.stop()


def main() -> int:
    result = asyncio.run(soak())
    print(orjson.dumps(result).decode(), flush=True)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
