"""Where does a server's time go?  py-spy on a server under a steady load.

    .venv/bin/pip install py-spy
    .venv/bin/python -m bench.profile --start hearth --rooms 50 --room-size 20 --rate 800 --duration 20

Starts the server on core 0 (the generator on core 1), joins the fleet, then samples
the server with ``py-spy record --nonblocking -f raw`` (every Python thread, idle
frames excluded) while the generator offers ``--rate`` messages/s for
``--duration`` seconds.  Prints the share of samples each function is on the
stack for (inclusive) and at the top of the stack (self), and keeps the collapsed
stacks under bench/results/ for a flame graph (e.g. with inferno or flamegraph.pl).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench import loadgen, procs

RESULTS = Path(__file__).resolve().parent / "results"


def py_spy() -> str:
    exe = Path(sys.executable).with_name("py-spy")
    if exe.exists():
        return str(exe)
    found = shutil.which("py-spy")
    if found is None:
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    return found


def _frame(f: str) -> str:
    # py-spy raw frames look like "function (path/to/file.py:123)"; drop the line number
    name, _, where = f.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    path = path.replace(str(procs.REPO) + "/", "")
    return f"{name} ({path})"


def summarize(raw: str, top: int = 30) -> str:
    total = 0
    incl: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, n_s = line.rpartition(" ")
        if not stack or not n_s.isdigit():
            continue
        n = int(n_s)
        frames = stack.split(";")
        total += n
        names = [_frame(f) for f in frames if not f.startswith(("thread (", "process "))]
        for name in set(names):
            incl[name] += n
        if names:
            own[names[-1]] += n
    if not total:
        return "no samples"
    out = [f"{total} samples"]
    out.append("\ninclusive (on the stack):")
    out += [f"{100 * c / total:6.1f} %  {name}" for name, c in incl.most_common(top)]
    out.append("\nself (top of the stack):")
    out += [f"{100 * c / total:6.1f} %  {name}" for name, c in own.most_common(top)]
    return "\n".join(out)


def _spy(args: argparse.Namespace, pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    cmd = [py_spy(), "record", *([] if args.blocking else ["--nonblocking"]), "-r", str(args.hz), "-f", "raw"]
    cmd += ["-o", str(out), "-d", str(int(seconds)), "-p", str(pid)]
    if args.native:
        cmd.append("--native")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def _profile_storm(args: argparse.Namespace, srv: procs.ServerProc, password: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"profile-{args.start}-storm-{args.storm}-{time.strftime('%Y%m%dT%H%M%S')}.txt"
    spies: list[subprocess.Popen[bytes]] = []

    async def start() -> None:
        spies.append(_spy(args, srv.pid, out, args.duration))
        await asyncio.sleep(0.5)

    row = await loadgen.run_storm(
        srv.url, password, clients=args.storm, watched=loadgen.Watched([srv.pid]), on_ready=start
    )
    await asyncio.to_thread(spies[0].communicate, timeout=120)
    print({k: row[k] for k in ("joined", "connected_p50_s", "last_connected_s", "join_p50_s", "last_join_s")})
    print(f"collapsed stacks: {out}")
    print(summarize(out.read_text(), args.top))


async def amain(args: argparse.Namespace) -> None:
    procs.raise_nofile()
    procs.pin(0, [1])
    password = procs.random_password()
    redis = None
    redis_url = None
    if args.redis:  # one process on a redis-server of its own, on the server's core
        redis = procs.start_redis((0,))
        await procs.wait_redis(redis)
        redis_url = f"redis://127.0.0.1:{redis.port}/0"
    srv = procs.start_server(
        args.start, admin_password=password, cores=(0,), redis_url=redis_url, secret_key=procs.new_secret_key()
    )
    http, api_http = loadgen.new_sessions()
    fleet = None
    try:
        await procs.wait_healthy(srv)
        if args.storm:
            await _profile_storm(args, srv, password)
            return
        fleet = await loadgen.build_fleet(
            [srv.url],
            password,
            rooms=args.rooms,
            room_size=args.room_size,
            senders_per_room=args.senders,
            http=http,
            api_http=api_http,
        )
        await loadgen.run_step(fleet, args.rate, 2.0, 1, loadgen.Watched([srv.pid]))  # warm up
        RESULTS.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        out = RESULTS / f"profile-{args.start}-{args.rooms}x{args.room_size}-{args.rate:g}-{stamp}.txt"
        spy = _spy(args, srv.pid, out, args.duration)
        await asyncio.sleep(0.5)
        step = await loadgen.run_step(fleet, args.rate, args.duration, 2, loadgen.Watched([srv.pid]))
        _, err = await asyncio.to_thread(spy.communicate, timeout=60)
        print(
            f"step: sent {step['sent_per_s']}/s, deliveries {step['deliveries_per_s']}/s, "
            f"p50 {step['lat_p50_ms']} ms, p99 {step['lat_p99_ms']} ms, server CPU util {step['server_cpu_util']}, "
            f"{step['server_cpu_us_per_delivery']} µs per delivery"
        )
        if not out.exists():
            raise SystemExit(f"py-spy wrote nothing: {err.decode(errors='replace')[-500:]}")
        print(f"collapsed stacks: {out}")
        print(summarize(out.read_text(), args.top))
    finally:
        if fleet is not None:
            await fleet.close()
        await loadgen.close_sessions(http, api_http)
        srv.stop()
        if redis is not None:
            redis.stop()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n\n")[0])
    p.add_argument("--start", choices=["hearth", "baseline"], default="hearth")
    p.add_argument("--rooms", type=int, default=50)
    p.add_argument("--room-size", type=int, default=20)
    p.add_argument("--senders", type=int, default=2)
    p.add_argument("--rate", type=float, default=800.0)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--hz", type=int, default=250)
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--native", action="store_true", help="include C frames (slower sampling)")
    p.add_argument("--redis", action="store_true", help="serve from a redis-server of its own (Redis mode)")
    p.add_argument("--storm", type=int, default=0, help="profile a connection storm of this many clients instead")
    p.add_argument("--blocking", action="store_true", help="pause the server for each sample (exact idle detection)")
    args = p.parse_args()
    loadgen.install_fast_loop()
    asyncio.run(asyncio.wait_for(amain(args), timeout=900))


if __name__ == "__main__":
    main()
