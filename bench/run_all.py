"""Run every benchmark scenario against the naive baseline and Hearth, side by side.

    python -m bench.run_all                 # everything (what `make bench` runs), < 15 min
    python -m bench.run_all --quick         # small and short: a smoke run in ~1-2 min
    python -m bench.run_all --scenarios fanout,connect --servers baseline

Each scenario prints one JSON line (both servers and the Hearth/baseline ratios)
and appends it to bench/results/<scenario>.jsonl.  A full run also redraws the
plots under bench/plots/ and regenerates the tables in BENCHMARKS.md between
the ``<!-- BEGIN GENERATED: ... -->`` markers (``--no-doc`` to skip).

The generator pins itself to core 1, every server process (and redis-server)
to core 0, and records both sides' CPU seconds for every step.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
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
SERVERS = ("baseline", "hearth")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- parameters


def params(quick: bool, step_s: float | None) -> dict[str, dict[str, Any]]:
    if quick:
        p = {
            "fanout": {"rooms": 10, "room_size": 20, "senders_per_room": 2, "rates": [100, 500, 2000], "step_s": 2.0},
            "bigroom": {"rooms": 1, "room_size": 100, "senders_per_room": 1, "rates": [10, 40, 160], "step_s": 2.0},
            "connect": {"levels": [500, 1000], "room_size": 20},
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
                "rates": [100, 250, 500, 1000, 1500, 2000, 3000, 4000, 8000],
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


async def _stepped(kind: str, prm: dict[str, Any], redis_url: str | None = None, processes: int = 1) -> dict[str, Any]:
    """fanout / bigroom / scaleout against ``processes`` servers of ``kind``."""
    password = procs.random_password()
    secret = procs.new_secret_key()
    servers: list[procs.ServerProc] = []
    redis: procs.ServerProc | None = None
    http, api_http = loadgen.new_sessions()
    fleet = None
    try:
        if processes > 1:
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
        if processes > 1 and any(h.get("store") != "redis" for h in health):
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


async def run_one(scenario: str, kind: str, prm: dict[str, Any], timeout: float) -> dict[str, Any]:  # noqa: ASYNC109
    if kind == "hearth" and not procs.hearth_available():
        return {"status": "unavailable", "reason": "Hearth server not present (server/app.py missing)"}
    if scenario == "scaleout" and kind == "hearth" and not _hearth_has_redis():
        log("  (Hearth's Redis mode may not exist yet; trying anyway)")
    try:
        if scenario == "connect":
            coro = _connect(kind, prm)
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


def ratios(scenario: str, runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    b, h = runs.get("baseline", {}), runs.get("hearth", {})
    if b.get("status") != "ok" or h.get("status") != "ok":
        return {"status": "pending", "reason": "needs both servers measured in this run"}

    def r(x: Any, y: Any) -> float | None:
        return round(x / y, 3) if isinstance(x, (int, float)) and isinstance(y, (int, float)) and y else None

    if scenario == "connect":
        out: dict[str, Any] = {}
        for hb, bb in zip(h["levels"], b["levels"], strict=False):
            n = bb["connections"]
            out[str(n)] = {
                "connect_join_per_s": r(hb["connect_join_per_s"], bb["connect_join_per_s"]),
                "rss_per_conn": r(hb["rss_per_conn_kb"], bb["rss_per_conn_kb"]),
            }
        return out
    by_rate_b = {s["offered_msgs_per_s"]: s for s in b["steps"]}
    p99 = {}
    for s in h["steps"]:
        o = by_rate_b.get(s["offered_msgs_per_s"])
        if o:
            p99[str(s["offered_msgs_per_s"])] = r(s["lat_p99_ms"], o["lat_p99_ms"])
    return {
        "capacity_deliveries_per_s": r(h["capacity_deliveries_per_s"], b["capacity_deliveries_per_s"]),
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


def table(line: dict[str, Any]) -> str:
    sc = line["scenario"]
    out = [
        f"Measured {line['ts']} on {line['machine']['nproc']} × {line['machine']['cpu_model']}, "
        f"Python {line['machine']['python']}, generator loop: {line['generator_loop']}.",
        "",
    ]
    if sc == "connect":
        out.append(
            "| server | connections | alive | failed | connect+join/s | connect+join p99 ms "
            "| server RSS MB | RSS/conn KB | server CPU s | gen CPU s |"
        )
        out.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for kind in SERVERS:
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
    else:
        out.append(
            "| server | offered msg/s | sent msg/s | deliveries/s | p50 ms | p99 ms | max ms | lost "
            "| dup | error acks | server CPU s (util) | gen CPU s (util) | other load core 0/1 |"
        )
        out.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for kind in SERVERS:
            run = line["runs"].get(kind)
            if not run or run.get("status") != "ok":
                out.append(f"| {kind} | {_why(kind, run)} |||||||||||")
                continue
            for s in run["steps"]:
                out.append(
                    f"| {kind} | {_f(s['offered_msgs_per_s'])} | {_f(s['sent_per_s'])} "
                    f"| {_f(s['deliveries_per_s'])} | {_f(s['lat_p50_ms'])} | {_f(s['lat_p99_ms'])} "
                    f"| {_f(s['lat_max_ms'])} | {_f(s['lost'])} | {_f(s['duplicates'])} "
                    f"| {_f(s['error_acks'])} | {_f(s['server_cpu_s'])} ({_f(s['server_cpu_util'])}) "
                    f"| {_f(s['gen_cpu_s'])} ({_f(s['gen_cpu_util'])}) | {_other(s)} |"
                )
        out.append("")
        for kind in SERVERS:
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
    rat = line.get("ratio_hearth_to_baseline", {})
    out.append("")
    if rat.get("status") == "pending":
        out.append(f"Hearth ÷ baseline: {PENDING}")
    elif sc == "connect":
        parts = [
            f"{_f(int(n))} conns: connect+join rate ×{v['connect_join_per_s']}, RSS/conn ×{v['rss_per_conn']}"
            for n, v in rat.items()
        ]
        out.append("Hearth ÷ baseline: " + "; ".join(parts) + ".")
    else:
        p99 = ", ".join(f"{_f(_num(k))}: ×{v}" for k, v in rat.get("p99_by_offered_rate", {}).items())
        out.append(
            f"Hearth ÷ baseline: sustainable capacity **×{rat.get('capacity_deliveries_per_s')}**; "
            f"p99 by offered msg/s — {p99}."
        )
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


def update_doc(lines: dict[str, dict[str, Any]]) -> None:
    if not DOC.exists():
        log("BENCHMARKS.md missing; tables not written")
        return
    text = DOC.read_text()
    for sc, line in lines.items():
        pat = re.compile(rf"(<!-- BEGIN GENERATED: {sc} -->\n).*?(\n<!-- END GENERATED: {sc} -->)", re.S)
        if pat.search(text):
            body = table(line)
            text = pat.sub(lambda m, body=body: m.group(1) + body + m.group(2), text)
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
        for sc in scenarios:
            f = RESULTS / f"{sc}.jsonl"
            if f.exists():
                rows = [ln for ln in f.read_text().splitlines() if ln.strip()]
                if rows:
                    lines[sc] = orjson.loads(rows[-1])
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
    p.add_argument("--scenarios", default="fanout,bigroom,connect,scaleout")
    p.add_argument("--servers", default=",".join(SERVERS), help="baseline,hearth")
    p.add_argument("--step-seconds", type=float, default=None, help="override seconds per rate step")
    p.add_argument("--budget", type=float, default=14 * 60, help="stop starting scenarios after this (s)")
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
