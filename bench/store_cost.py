"""What Redis costs Hearth per delivery: one process on SQLite, one on Redis, two on Redis, side by side.

    python -m bench.store_cost                                  # fanout, this checkout
    python -m bench.store_cost --scenario bigroom --repeat 2
    python -m bench.store_cost --rates 400 800 1600 -- 078ed0d HEAD   # revisions, from temporary worktrees

Each configuration serves the same workload as ``make bench``'s fanout (50 rooms x 20) or
bigroom (1 x 500) at fixed rates, every Hearth process and redis-server pinned to core 0,
the generator to core 1. Printed per configuration and rate: the Hearth processes' CPU µs per
delivery (all of them together), redis-server's CPU over the whole run per delivery, p50 and
p99, and whether anything was lost. With two processes the sockets of every room are spread
over both (round robin), so each process hosts every room: the case where per-room channels
save nothing and every broadcast crosses Redis. JSON lines: bench/results/store_cost.jsonl.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from typing import Any

import orjson

from bench import procs
from bench.run_all import GEN_CORE, RESULTS, _stepped

CONFIGS = {"sqlite-1": (1, False), "redis-1": (1, True), "redis-2": (2, True)}
WORKLOADS = {
    "fanout": {"rooms": 50, "room_size": 20, "senders_per_room": 2, "rates": [400, 800, 1600]},
    "bigroom": {"rooms": 1, "room_size": 500, "senders_per_room": 1, "rates": [40, 80, 160]},
}


def line(label: str, config: str, rate: float, step: dict[str, Any], redis_us: float | None) -> str:
    cpu = step.get("server_cpu_us_per_delivery")
    cpu = float("nan") if cpu is None else cpu
    lost = step["lost"] + step["duplicates"] + step["error_acks"]
    redis = f"{redis_us:6.1f}" if redis_us is not None else "     -"
    return (
        f"{label:>10} {config:9} {rate:>6g} msg/s | Hearth CPU {cpu:6.1f} µs/delivery"
        f" | redis-server {redis} µs/delivery (run) | p50 {step['lat_p50_ms']} p99 {step['lat_p99_ms']} ms"
        f" | lost+dup+err {lost} | load {step.get('loadavg_1m', '?')}"
    )


async def measure(rev: str | None, config: str, scenario: str, rates: list[float], step_s: float) -> dict[str, Any]:
    processes, redis_store = CONFIGS[config]
    prm = {**WORKLOADS[scenario], "rates": rates, "step_s": step_s}
    with contextlib.ExitStack() as checkout:
        if rev is not None:
            _, path = checkout.enter_context(procs.worktree(rev))
            os.environ["HEARTH_BENCH_REPO"] = str(path)
        try:
            return await _stepped("hearth", prm, processes=processes, redis_store=redis_store)
        finally:
            os.environ.pop("HEARTH_BENCH_REPO", None)


async def run(args: argparse.Namespace) -> None:
    RESULTS.mkdir(exist_ok=True)
    rates = args.rates or WORKLOADS[args.scenario]["rates"]
    revs: list[str | None] = list(args.revs) or [None]
    for _ in range(args.repeat):
        for rev in revs:
            label = rev or "checkout"
            for config in args.configs:
                out = await measure(rev, config, args.scenario, rates, args.step_seconds)
                if out.get("status") != "ok":
                    print(f"{label:>10} {config:9} {out.get('status')}: {out.get('reason')}", flush=True)
                    continue
                deliveries = sum(s["deliveries"] for s in out["steps"])
                redis_s = out.get("redis_cpu_s_total")
                redis_us = redis_s * 1e6 / deliveries if redis_s is not None and deliveries else None
                for step in out["steps"]:
                    print(line(label, config, step["offered_msgs_per_s"], step, redis_us), flush=True)
                record = {"rev": label, "config": config, "scenario": args.scenario, **out}
                with (RESULTS / "store_cost.jsonl").open("ab") as fh:
                    fh.write(orjson.dumps(record) + b"\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", choices=sorted(WORKLOADS), default="fanout")
    p.add_argument("--rates", type=float, nargs="+")
    p.add_argument("--step-seconds", type=float, default=4.0)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=list(CONFIGS))
    p.add_argument("revs", nargs="*", help="git revisions (default: this checkout as it is)")
    args = p.parse_args(argv)
    procs.pin(0, [GEN_CORE])
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
