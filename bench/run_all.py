"""Run every benchmark scenario against Node's socket.io, the naive baseline and Hearth, side by side.

    python -m bench.run_all                 # everything (what `make bench` runs), ~20 min
    python -m bench.run_all --quick         # small and short: a smoke run in ~2-3 min
    python -m bench.run_all --scenarios fanout,connect --servers node,hearth

Each scenario prints one JSON line (every server, and every figure as a ratio to
Node's measured in the same run) and appends it to bench/results/<scenario>.jsonl.  A full run also redraws the
plots under bench/plots/ and regenerates the tables in BENCHMARKS.md between
the ``<!-- BEGIN GENERATED: ... -->`` markers (``--no-doc`` to skip).

The generator pins itself to core 1, every server process (and redis-server)
to core 0, and records both sides' CPU seconds for every step.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import orjson

from bench import loadgen, procs
from bench.loadgen import Watched

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
PLOTS = BENCH / "plots"
DOC = procs.REPO / "BENCHMARKS.md"
SERVER_CORE = (0,)
GEN_CORE = 1
SERVERS = ("node", "baseline", "hearth")
ANCHOR = "node"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- parameters


def params(quick: bool, step_s: float | None) -> dict[str, dict[str, Any]]:
    if quick:
        p = {
            "fanout": {"rooms": 10, "room_size": 20, "senders_per_room": 2, "rates": [100, 500, 2000], "step_s": 2.0},
            "bigroom": {"rooms": 1, "room_size": 100, "senders_per_room": 1, "rates": [10, 40, 160], "step_s": 2.0},
            "connect": {"levels": [500, 1000], "room_size": 20},
            "storm": {"clients": 300, "room_size": 20, "window_s": 10.0},
            "scaleout": {
                "rooms": 10,
                "room_size": 20,
                "senders_per_room": 2,
                "rates": [100, 500, 2000],
                "step_s": 2.0,
                "processes": 2,
            },
        }
    else:
        p = {
            "fanout": {
                "rooms": 50,
                "room_size": 20,
                "senders_per_room": 2,
                "rates": [100, 400, 800, 1200, 1600, 2000, 2400, 2800, 3200, 4000, 4800, 6400],
                "step_s": 5.0,
            },
            "bigroom": {
                "rooms": 1,
                "room_size": 500,
                "senders_per_room": 1,
                "rates": [10, 20, 40, 80, 160, 320, 640, 1280, 2560],
                "step_s": 5.0,
            },
            "connect": {"levels": [2000, 5000, 10000], "room_size": 20},
            "storm": {"clients": 2000, "room_size": 20, "window_s": 10.0},
            "scaleout": {
                "rooms": 50,
                "room_size": 20,
                "senders_per_room": 2,
                "rates": [100, 250, 500, 1000, 1500, 2000, 3000, 4000],
                "step_s": 5.0,
                "processes": 2,
            },
        }
    if step_s:
        for v in p.values():
            if "step_s" in v:
                v["step_s"] = step_s
    return p


# --------------------------------------------------------------------------- one run


async def _stepped(
    kind: str, prm: dict[str, Any], redis_url: str | None = None, processes: int = 1, redis_store: bool | None = None
) -> dict[str, Any]:
    """fanout / bigroom / scaleout against ``processes`` servers of ``kind`` (on a redis-server of
    their own when more than one, or when ``redis_store``)."""
    shared = processes > 1 if redis_store is None else redis_store
    password = procs.random_password()
    secret = procs.new_secret_key()
    servers: list[procs.ServerProc] = []
    redis: procs.ServerProc | None = None
    http, api_http = loadgen.new_sessions()
    fleet = None
    try:
        if shared:
            redis = procs.start_redis(SERVER_CORE)
            await procs.wait_redis(redis)
            redis_url = f"redis://127.0.0.1:{redis.port}/0"
        for _ in range(processes):
            servers.append(
                procs.start_server(
                    kind, admin_password=password, secret_key=secret, redis_url=redis_url, cores=SERVER_CORE
                )
            )
        health = [await procs.wait_healthy(s) for s in servers]
        if shared and any(h.get("store") != "redis" for h in health):
            return {"status": "unavailable", "reason": f"Redis mode not working: /healthz said {health}"}
        watched = Watched([s.pid for s in servers])
        fleet = await loadgen.build_fleet(
            [s.url for s in servers],
            password,
            rooms=prm["rooms"],
            room_size=prm["room_size"],
            senders_per_room=prm["senders_per_room"],
            http=http,
            api_http=api_http,
        )
        log(f"  {kind}: {len(fleet.conns)} sockets ready {fleet.setup}")
        steps = await loadgen.run_steps(fleet, prm["rates"], prm["step_s"], watched, log=log)
        out: dict[str, Any] = {
            "status": "ok",
            "setup": fleet.setup,
            "steps": steps,
            **loadgen.summarize_steps(steps),
            "health": health[0],
        }
        if redis is not None:
            out["redis_cpu_s_total"] = round(redis.cpu_seconds(), 3)
        return out
    finally:
        if fleet is not None:
            await fleet.close()
        await loadgen.close_sessions(http, api_http)
        for s in servers:
            rc = s.stop()
            if rc not in (0, None, -15):
                log(f"  note: {kind} exited with {rc}")
        if redis is not None:
            redis.stop()


async def _connect(kind: str, prm: dict[str, Any]) -> dict[str, Any]:
    password = procs.random_password()
    srv = procs.start_server(kind, admin_password=password, cores=SERVER_CORE)
    try:
        await procs.wait_healthy(srv)
        rows = await loadgen.run_connect(
            srv.url, password, prm["levels"], watched=Watched([srv.pid]), room_size=prm["room_size"], log=log
        )
        return {"status": "ok", "levels": rows, "nofile_soft_limit": procs.raise_nofile()}
    finally:
        srv.stop()


async def _storm(kind: str, prm: dict[str, Any]) -> dict[str, Any]:
    password = procs.random_password()
    srv = procs.start_server(kind, admin_password=password, cores=SERVER_CORE)
    try:
        await procs.wait_healthy(srv)
        row = await loadgen.run_storm(
            srv.url,
            password,
            clients=prm["clients"],
            room_size=prm["room_size"],
            window_s=prm["window_s"],
            watched=Watched([srv.pid]),
        )
        log(
            f"  {kind}: {row['joined']}/{row['clients']} joined, last join {row['last_join_s']} s, "
            f"{row['joined_within_window']} within {row['window_s']:g} s, failed {row['failed']}"
        )
        return {"status": "ok", **row}
    finally:
        srv.stop()


async def run_one(scenario: str, kind: str, prm: dict[str, Any], timeout: float) -> dict[str, Any]:  # noqa: ASYNC109
    if kind == "hearth" and not procs.hearth_available():
        return {"status": "unavailable", "reason": "Hearth server not present (server/app.py missing)"}
    if kind == "node":
        why = procs.node_available()
        if why:
            return {"status": "unavailable", "reason": why}
        if scenario == "scaleout":
            return {"status": "not run", "reason": "the Node anchor runs one process (no Redis adapter)"}
    if scenario == "scaleout" and kind == "hearth" and not _hearth_has_redis():
        log("  (Hearth's Redis mode may not exist yet; trying anyway)")
    try:
        if scenario == "connect":
            coro = _connect(kind, prm)
        elif scenario == "storm":
            coro = _storm(kind, prm)
        elif scenario == "scaleout":
            coro = _stepped(kind, prm, processes=prm["processes"])
        else:
            coro = _stepped(kind, prm)
        return await asyncio.wait_for(coro, timeout)
    except Exception as exc:
        log(traceback.format_exc())
        text = str(exc)
        last = [ln for ln in text.splitlines() if ln.strip()]
        summary = last[-1] if last else type(exc).__name__
        return {"status": "failed", "reason": f"{type(exc).__name__}: {summary[:300]}", "detail": text[-3000:]}


def _hearth_has_redis() -> bool:
    for p in procs.REPO.glob("server/**/*.py"):
        try:
            if "REDIS_URL" in p.read_text(errors="ignore"):
                return True
        except OSError:
            pass
    return False


def _r(x: Any, y: Any) -> float | None:
    ok = isinstance(x, (int, float)) and isinstance(y, (int, float))
    return round(x / y, 3) if ok and y else None


def ratios(
    scenario: str, runs: dict[str, dict[str, Any]], num: str = "hearth", den: str = "baseline"
) -> dict[str, Any]:
    """Every figure of server ``num`` divided by server ``den``'s in the same run."""
    h, b = runs.get(num, {}), runs.get(den, {})
    if b.get("status") != "ok" or h.get("status") != "ok":
        return {"status": "pending", "reason": f"needs {num} and {den} measured in this run"}
    r = _r
    if scenario == "connect":
        out: dict[str, Any] = {}
        for hb, bb in zip(h["levels"], b["levels"], strict=False):
            n = bb["connections"]
            out[str(n)] = {
                "connect_join_per_s": r(hb["connect_join_per_s"], bb["connect_join_per_s"]),
                "rss_per_conn": r(hb["rss_per_conn_kb"], bb["rss_per_conn_kb"]),
            }
        return out
    if scenario == "storm":
        return {
            "last_join_s": r(h["last_join_s"], b["last_join_s"]),
            "server_cpu_s": r(h["server_cpu_s"], b["server_cpu_s"]),
        }
    by_rate_b = {s["offered_msgs_per_s"]: s for s in b["steps"]}
    p50, p99, cpu = {}, {}, {}
    for s in h["steps"]:
        o = by_rate_b.get(s["offered_msgs_per_s"])
        if o:
            k = str(s["offered_msgs_per_s"])
            p50[k] = r(s["lat_p50_ms"], o["lat_p50_ms"])
            p99[k] = r(s["lat_p99_ms"], o["lat_p99_ms"])
            cpu[k] = r(s.get("server_cpu_us_per_delivery"), o.get("server_cpu_us_per_delivery"))
    return {
        "capacity_deliveries_per_s": r(h["capacity_deliveries_per_s"], b["capacity_deliveries_per_s"]),
        "cpu_us_per_delivery_by_offered_rate": cpu,
        "p50_by_offered_rate": p50,
        "p99_by_offered_rate": p99,
    }


async def run_scenario(
    scenario: str,
    servers: list[str],
    prm: dict[str, Any],
    machine: dict[str, Any],
    loop_name: str,
    timeout: float,  # noqa: ASYNC109
) -> dict[str, Any]:
    log(f"== {scenario} {prm}")
    machine = {**machine, "loadavg_1m_at_start": round(os.getloadavg()[0], 2)}
    runs = {}
    for kind in servers:
        t0 = time.perf_counter()
        runs[kind] = await run_one(scenario, kind, prm, timeout)
        runs[kind]["elapsed_s"] = round(time.perf_counter() - t0, 1)
        log(f"  {kind}: {runs[kind].get('status')} in {runs[kind]['elapsed_s']} s {runs[kind].get('reason', '')[:300]}")
    line = {
        "scenario": scenario,
        "ts": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "generator_loop": loop_name,
        "params": prm,
        "runs": runs,
        "node_versions": procs.node_versions(),
        "ratio_to_node": {k: ratios(scenario, runs, k, ANCHOR) for k in runs if k != ANCHOR},
        "ratio_hearth_to_baseline": ratios(scenario, runs),
    }
    text = orjson.dumps(line).decode()
    print(text, flush=True)
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / f"{scenario}.jsonl", "a") as f:  # noqa: ASYNC230 - one short line
        f.write(text + "\n")
    return line


# --------------------------------------------------------------------------- plots and tables


def plot(lines: dict[str, dict[str, Any]]) -> list[str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib missing: no plots (pip install -e '.[bench]')")
        return []
    PLOTS.mkdir(exist_ok=True)
    made = []
    for sc in ("fanout", "bigroom", "scaleout"):
        line = lines.get(sc)
        if not line:
            continue
        fig, ax = plt.subplots(figsize=(7, 4.2))
        drawn = False
        for kind, run in line["runs"].items():
            if run.get("status") != "ok":
                continue
            xs = [s["offered_msgs_per_s"] for s in run["steps"] if s["lat_p99_ms"] is not None]
            ys = [s["lat_p99_ms"] for s in run["steps"] if s["lat_p99_ms"] is not None]
            ax.plot(xs, ys, marker="o", label=f"{kind} p99")
            drawn = True
        if not drawn:
            plt.close(fig)
            continue
        ax.axhline(100, color="grey", linestyle="--", linewidth=0.8, label="100 ms")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("offered messages/s (total)")
        ax.set_ylabel("delivery latency p99 (ms)")
        pr = line["params"]
        ax.set_title(f"{sc}: {pr['rooms']} room(s) x {pr['room_size']} sockets")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        fig.tight_layout()
        path = PLOTS / f"{sc}_p99.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        made.append(str(path))
    line = lines.get("connect")
    if line:
        fig, ax = plt.subplots(figsize=(7, 4.2))
        drawn = False
        for kind, run in line["runs"].items():
            if run.get("status") != "ok":
                continue
            xs = [0] + [r["connections"] for r in run["levels"]]
            ys = [run["levels"][0]["server_rss_base_mb"]] + [r["server_rss_mb"] for r in run["levels"]]
            ax.plot(xs, ys, marker="o", label=f"{kind} RSS")
            drawn = True
        if drawn:
            ax.set_xlabel("idle connections (each joined to a room)")
            ax.set_ylabel("server RSS (MB)")
            ax.set_title("connect: server memory against connections")
            ax.grid(True, alpha=0.3)
            ax.legend()
            fig.tight_layout()
            path = PLOTS / "connect_rss.png"
            fig.savefig(path, dpi=100)
            made.append(str(path))
        plt.close(fig)
    return made


def _f(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.1f}" if abs(x) >= 10 else f"{x:.3g}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


PENDING = "_pending: Hearth not measured in this run — rerun `make bench` once the server exists_"


def _load(line: dict[str, Any]) -> str:
    m = line["machine"]
    nv = line.get("node_versions") or {}
    anchor = f", Node {nv['node']} with socket.io {nv['socket.io']}" if "node" in nv and "socket.io" in nv else ""
    return (
        f"Measured {line['ts']} on {m['nproc']} × {m['cpu_model']}, Python {m['python']}{anchor}, "
        f"generator loop: {line['generator_loop']}, 1-minute load average at the start {m.get('loadavg_1m_at_start')}."
    )


def _ratio_words(sc: str, rat: dict[str, Any]) -> str:
    if rat.get("status") == "pending":
        return f"_not available: {rat.get('reason', '')}_"
    if sc == "connect":
        return "; ".join(
            f"{_f(int(n))} conns: connect+join rate ×{v['connect_join_per_s']}, RSS/conn ×{v['rss_per_conn']}"
            for n, v in rat.items()
        )
    if sc == "storm":
        return f"time to the last join ×{rat.get('last_join_s')}, server CPU ×{rat.get('server_cpu_s')}"
    cpu = ", ".join(f"{_f(_num(k))}: ×{v}" for k, v in rat.get("cpu_us_per_delivery_by_offered_rate", {}).items())
    p50 = ", ".join(f"{_f(_num(k))}: ×{v}" for k, v in rat.get("p50_by_offered_rate", {}).items())
    p99 = ", ".join(f"{_f(_num(k))}: ×{v}" for k, v in rat.get("p99_by_offered_rate", {}).items())
    return (
        f"sustainable capacity **×{rat.get('capacity_deliveries_per_s')}**; by offered msg/s — "
        f"CPU per delivery {cpu}; p50 {p50}; p99 {p99}"
    )


def _kinds(line: dict[str, Any]) -> list[str]:
    return [k for k in SERVERS if k in line["runs"]] + [k for k in line["runs"] if k not in SERVERS]


def table(line: dict[str, Any]) -> str:
    sc = line["scenario"]
    out = [_load(line), ""]
    kinds = _kinds(line)
    if sc == "connect":
        out.append(
            "| server | connections | alive | failed | connect+join/s | connect+join p99 ms "
            "| server RSS MB | RSS/conn KB | server CPU s | gen CPU s |"
        )
        out.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for kind in kinds:
            run = line["runs"].get(kind)
            if not run or run.get("status") != "ok":
                out.append(f"| {kind} | {_why(kind, run)} |||||||||")
                continue
            for r in run["levels"]:
                out.append(
                    f"| {kind} | {_f(r['connections'])} | {_f(r['alive'])} | {_f(r['failed'])} "
                    f"| {_f(r['connect_join_per_s'])} | {_f(r['connect_join_p99_ms'])} "
                    f"| {_f(r['server_rss_mb'])} | {_f(r['rss_per_conn_kb'])} "
                    f"| {_f(r['server_cpu_s'])} | {_f(r['gen_cpu_s'])} |"
                )
    elif sc == "storm":
        out.append(
            "| server | clients | joined | joined within window | failed | join p50 s | join p99 s "
            "| last join s | server CPU s | gen CPU s | server RSS MB |"
        )
        out.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for kind in kinds:
            r = line["runs"].get(kind)
            if not r or r.get("status") != "ok":
                out.append(f"| {kind} | {_why(kind, r)} ||||||||||")
                continue
            out.append(
                f"| {kind} | {_f(r['clients'])} | {_f(r['joined'])} | {_f(r['joined_within_window'])} "
                f"({_f(r['window_s'])} s) | {_f(r['failed'])} | {_f(r['join_p50_s'])} | {_f(r['join_p99_s'])} "
                f"| **{_f(r['last_join_s'])}** | {_f(r['server_cpu_s'])} | {_f(r['gen_cpu_s'])} "
                f"| {_f(r['server_rss_mb'])} |"
            )
    else:
        out.append(
            "| server | offered msg/s | sent msg/s | deliveries/s | p50 ms | p99 ms | max ms | lost "
            "| dup | error acks | server CPU µs/delivery | server CPU s (util) | gen CPU s (util) "
            "| other load core 0/1 |"
        )
        out.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for kind in kinds:
            run = line["runs"].get(kind)
            if not run or run.get("status") != "ok":
                out.append(f"| {kind} | {_why(kind, run)} ||||||||||||")
                continue
            for s in run["steps"]:
                out.append(
                    f"| {kind} | {_f(s['offered_msgs_per_s'])} | {_f(s['sent_per_s'])} "
                    f"| {_f(s['deliveries_per_s'])} | {_f(s['lat_p50_ms'])} | {_f(s['lat_p99_ms'])} "
                    f"| {_f(s['lat_max_ms'])} | {_f(s['lost'])} | {_f(s['duplicates'])} "
                    f"| {_f(s['error_acks'])} | {_f(s.get('server_cpu_us_per_delivery'))} "
                    f"| {_f(s['server_cpu_s'])} ({_f(s['server_cpu_util'])}) "
                    f"| {_f(s['gen_cpu_s'])} ({_f(s['gen_cpu_util'])}) | {_other(s)} |"
                )
        out.append("")
        for kind in kinds:
            run = line["runs"].get(kind)
            if run and run.get("status") == "ok":
                fs = run.get("first_cpu_saturated")
                sat = (
                    f"{fs['side']} first, at {_f(fs['offered_msgs_per_s'])} msg/s offered "
                    f"(server {fs['server_cpu_util']}, generator {fs['gen_cpu_util']} of a core)"
                    if fs
                    else "neither side reached 85 % of its core"
                )
                out.append(
                    f"- **{kind}**: sustainable capacity **{_f(run['capacity_deliveries_per_s'])} "
                    f"deliveries/s** (at {_f(run['capacity_at_offered_msgs_per_s'])} msg/s offered); "
                    f"ran out of CPU: {sat}."
                )
            else:
                out.append(f"- **{kind}**: {_why(kind, run)}")
    out.append("")
    for kind, rat in (line.get("ratio_to_node") or {}).items():
        out.append(f"- {kind} ÷ Node: {_ratio_words(sc, rat)}.")
    rat = line.get("ratio_hearth_to_baseline", {})
    out.append(f"- hearth ÷ baseline: {PENDING if rat.get('status') == 'pending' else _ratio_words(sc, rat)}.")
    return "\n".join(out)


def _num(k: str) -> int | float:
    x = float(k)
    return int(x) if x.is_integer() else x


def _other(s: dict[str, Any]) -> str:
    """CPU used on the server's and the generator's cores by anything else (⚠ above 0.2)."""
    cb = s.get("core_busy") or {}
    if "cpu0" not in cb or "cpu1" not in cb:
        return "–"
    o0 = max(0.0, cb["cpu0"] - (s.get("server_cpu_util") or 0))
    o1 = max(0.0, cb["cpu1"] - (s.get("gen_cpu_util") or 0))
    return f"{o0:.2f}/{o1:.2f}" + (" ⚠" if max(o0, o1) > 0.2 else "")


def _why(kind: str, run: dict[str, Any] | None) -> str:
    if kind == "hearth" and (not run or run.get("status") == "unavailable"):
        reason = (run or {}).get("reason", "")
        return PENDING + (f" ({reason[:160]})" if reason else "")
    if not run:
        return "not run"
    return f"{run.get('status')}: {str(run.get('reason', ''))[:200]}"


def _step(line: dict[str, Any] | None, kind: str, rate: float) -> dict[str, Any] | None:
    run = (line or {}).get("runs", {}).get(kind) or {}
    for s in run.get("steps", []) if run.get("status") == "ok" else []:
        if s["offered_msgs_per_s"] == rate:
            return dict(s)
    return None


def _run(line: dict[str, Any] | None, kind: str) -> dict[str, Any] | None:
    run = (line or {}).get("runs", {}).get(kind)
    return run if run and run.get("status") == "ok" else None


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("**met**" if ok else "**not met**")


def summary(lines: dict[str, dict[str, Any]]) -> str:
    """The issue's targets, each with Node's, the baseline's and Hearth's figure from one run."""
    rows: list[tuple[str, Any, Any, Any, str, bool | None]] = []

    def per_kind(get: Any) -> tuple[Any, Any, Any]:
        return get("node"), get("baseline"), get("hearth")

    fan = lines.get("fanout")
    for rate in (400.0, 1600.0):
        n, b, h = per_kind(lambda k, rate=rate: (_step(fan, k, rate) or {}).get("server_cpu_us_per_delivery"))
        ok = None if n is None or h is None else h <= n
        rows.append((f"small rooms (50 × 20): server CPU µs per delivery at {rate:g} msg/s, ≤ Node", n, b, h, "", ok))
    n, b, h = per_kind(lambda k: (_step(fan, k, 400.0) or {}).get("lat_p50_ms"))
    rows.append(("small rooms: p50 ms at 400 msg/s, ≤ 10", n, b, h, "", None if h is None else h <= 10))
    n, b, h = per_kind(lambda k: (_step(fan, k, 400.0) or {}).get("lat_p99_ms"))
    rows.append(("small rooms: p99 ms at 400 msg/s, ≤ 50", n, b, h, "", None if h is None else h <= 50))
    n, b, h = per_kind(lambda k: (_run(fan, k) or {}).get("capacity_deliveries_per_s"))
    ok = None if not n or not h else h >= n  # no sustainable step on a side: no comparison
    rows.append(("small rooms: sustainable deliveries/s, ≥ Node", n, b, h, "", ok))
    big = lines.get("bigroom")
    n, b, h = per_kind(lambda k: (_run(big, k) or {}).get("capacity_deliveries_per_s"))
    ok = None if not n or not h else h > n
    rows.append(("big room (1 × 500): sustainable deliveries/s, > Node", n, b, h, "", ok))
    con = lines.get("connect")

    def rss(k: str) -> Any:
        levels = (_run(con, k) or {}).get("levels") or []
        return levels[-1]["rss_per_conn_kb"] if levels else None

    n, b, h = per_kind(rss)
    levels = (_run(con, "hearth") or {}).get("levels") or []
    at = f"{levels[-1]['connections']:,}" if levels else "10,000"
    ok = None if h is None else h <= 20
    rows.append((f"{at} idle joined connections: RSS KB per connection, ≤ 20", n, b, h, "", ok))
    st = lines.get("storm")
    n, b, h = per_kind(lambda k: (_run(st, k) or {}).get("last_join_s"))
    hs = _run(st, "hearth")
    ok = None if hs is None else bool(hs["all_in_within_window"])
    clients = f"{hs['clients']:,}" if hs else "2,000"
    rows.append((f"storm: {clients} clients at once, seconds to the last join (all in ≤ 10 s)", n, b, h, "", ok))
    out = [
        "| target | Node socket.io | naive python-socketio | Hearth | Hearth ÷ Node | verdict |",
        "|---|--:|--:|--:|--:|---|",
    ]
    for name, n, b, h, _, ok in rows:
        out.append(f"| {name} | {_f(n)} | {_f(b)} | {_f(h)} | {_f(_r(h, n))} | {_verdict(ok)} |")
    when = sorted({ln["ts"] for ln in lines.values()})
    loads = sorted({ln["machine"].get("loadavg_1m_at_start") for ln in lines.values()}, key=str)
    out += [
        "",
        f"Scenarios measured {when[0] if when else '–'} … {when[-1] if when else '–'}; "
        f"1-minute load average at each scenario's start: {', '.join(str(x) for x in loads)}.",
    ]
    return "\n".join(out)


def latest_lines(scenarios: list[str]) -> dict[str, dict[str, Any]]:
    out = {}
    for sc in scenarios:
        f = RESULTS / f"{sc}.jsonl"
        if f.exists():
            rows = [ln for ln in f.read_text().splitlines() if ln.strip()]
            if rows:
                out[sc] = orjson.loads(rows[-1])
    return out


ALL_SCENARIOS = ("fanout", "bigroom", "connect", "storm", "scaleout")


def update_doc(lines: dict[str, dict[str, Any]]) -> None:
    if not DOC.exists():
        log("BENCHMARKS.md missing; tables not written")
        return
    text = DOC.read_text()
    blocks = {sc: table(line) for sc, line in lines.items()}
    # the summary: this run's scenarios, the last stored line for the others
    blocks["summary"] = summary({**latest_lines(list(ALL_SCENARIOS)), **lines})
    for sc, body in blocks.items():
        # An empty block ("BEGIN -->\nEND") must match too, or it stays empty for ever.
        pat = re.compile(rf"(<!-- BEGIN GENERATED: {sc} -->\n).*?(<!-- END GENERATED: {sc} -->)", re.S)
        if pat.search(text):
            text = pat.sub(lambda m, body=body: m.group(1) + body.rstrip("\n") + "\n" + m.group(2), text)
    DOC.write_text(text)
    log(f"updated {DOC}")


# --------------------------------------------------------------------------- main


async def amain(args: argparse.Namespace) -> int:
    procs.raise_nofile()
    pinned = procs.pin(0, [GEN_CORE]) if not args.no_pin else False
    if not pinned:
        global SERVER_CORE
        SERVER_CORE = None  # type: ignore[assignment]
    machine = {
        **procs.machine_info(),
        "generator_core": GEN_CORE if pinned else None,
        "server_core": SERVER_CORE[0] if SERVER_CORE else None,
    }
    prm_all = params(args.quick, args.step_seconds)
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    deadline = time.monotonic() + args.budget
    lines: dict[str, dict[str, Any]] = {}
    if args.render_only:
        lines = latest_lines(scenarios)
        scenarios = []
    for sc in scenarios:
        left = deadline - time.monotonic()
        if left < 30:
            log(f"budget spent: skipping {sc}")
            continue
        per_server = min(args.scenario_timeout, left / max(1, len(servers)))
        lines[sc] = await run_scenario(sc, servers, prm_all[sc], machine, args.loop_name, per_server)
    if not args.no_plots:
        for p in plot(lines):
            log(f"plot: {p}")
    if args.update_doc if args.update_doc is not None else (not args.quick or args.render_only):
        update_doc(lines)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small rooms, few short steps (~1-2 minutes)")
    p.add_argument("--scenarios", default=",".join(ALL_SCENARIOS))
    p.add_argument("--servers", default=",".join(SERVERS), help="node,baseline,hearth")
    p.add_argument("--step-seconds", type=float, default=None, help="override seconds per rate step")
    p.add_argument("--budget", type=float, default=22 * 60, help="stop starting scenarios after this (s)")
    p.add_argument("--scenario-timeout", type=float, default=300, help="per scenario and server (s)")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument(
        "--render-only",
        action="store_true",
        help="run nothing: redraw plots and tables from the last line of bench/results/*.jsonl",
    )
    p.add_argument("--no-pin", action="store_true", help="do not pin generator/server to cores")
    doc = p.add_mutually_exclusive_group()
    doc.add_argument(
        "--update-doc",
        dest="update_doc",
        action="store_true",
        default=None,
        help="rewrite the generated tables in BENCHMARKS.md (default unless --quick)",
    )
    doc.add_argument("--no-doc", dest="update_doc", action="store_false")
    args = p.parse_args(argv)
    args.loop_name = loadgen.install_fast_loop()
    return asyncio.run(amain(args))


if __name__ == "__main__":
    raise SystemExit(main())
