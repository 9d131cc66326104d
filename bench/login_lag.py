"""Event-loop lag of a Hearth process while it serves concurrent staff logins.

Runs the server in this process (embedded store, temporary directory), fires N concurrent
POST /api/login (half with the right password, half wrong, each from its own address), and reports the largest delay
seen by a 5 ms ticker on the server's own event loop. Usage:

    .venv/bin/python -m bench.login_lag [N]
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from server.app import create_app
from server.config import Config, Password, Secret

TICK_S = 0.005


async def idle_lag(seconds: float) -> float:
    """The same ticker with nothing else to do: what the machine's load alone costs."""
    worst, end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        await asyncio.sleep(TICK_S)
        worst = max(worst, time.perf_counter() - start - TICK_S)
    return worst * 1000


async def measure(concurrent: int) -> tuple[float, float, list[int]]:
    with tempfile.TemporaryDirectory() as tmp:
        config = Config(
            data_dir=Path(tmp),
            secret=Secret((base64.urlsafe_b64decode(base64.urlsafe_b64encode(os.urandom(32))),)),
            admin_password=Password("bench-admin-password"),
            ip_limits=False,
            trusted_proxies=("127.0.0.1/32",),  # each login comes "from" its own address
        )
        runner = web.AppRunner(create_app(config), handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/login"
        worst = 0.0
        running = True

        async def ticker() -> None:
            nonlocal worst
            while running:
                start = time.perf_counter()
                await asyncio.sleep(TICK_S)
                worst = max(worst, time.perf_counter() - start - TICK_S)

        async with aiohttp.ClientSession() as session:

            async def login(password: str, n: int = 0) -> int:
                body = {"name": "admin", "password": password}
                async with session.post(url, json=body, headers={"X-Forwarded-For": f"198.51.100.{n}"}) as resp:
                    await resp.read()
                    return resp.status

            await login("bench-admin-password")  # warm up the connection pool and the code paths
            task = asyncio.create_task(ticker())
            await asyncio.sleep(0.05)
            began = time.perf_counter()
            passwords = ["bench-admin-password", "wrong-password"] * (concurrent // 2) + ["x" * 9] * (concurrent % 2)
            statuses = await asyncio.gather(*(login(p, n + 1) for n, p in enumerate(passwords)))
            elapsed = time.perf_counter() - began
            running = False
            await task
        await runner.cleanup()
        return worst * 1000, elapsed, sorted(statuses)


def main() -> None:
    concurrent = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    lag_ms, elapsed, statuses = asyncio.run(measure(concurrent))
    idle_ms = asyncio.run(idle_lag(max(elapsed, 1.0)))
    print(f"{concurrent} concurrent logins (half right, half wrong) in {elapsed:.2f} s")
    print(f"statuses: {statuses}")
    print(f"max event-loop lag: {lag_ms:.1f} ms (idle, same duration, no logins: {idle_ms:.1f} ms)")


if __name__ == "__main__":
    main()
