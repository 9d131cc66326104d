"""Memory per idle joined connection, per git revision (issue 15 point 3), and where it goes.

    python -m bench.idle_memory HEAD~1 HEAD                      # RSS KB per connection, 2,000 and 10,000
    python -m bench.idle_memory --levels 2000 HEAD               # one level
    python -m bench.idle_memory --tracemalloc --levels 2000 HEAD # Python heap per connection, top lines

The connect scenario of ``make bench`` (``loadgen.run_connect``: idle authenticated sockets,
each joined to a room of 20, 100 connecting at once) against Hearth served from a temporary
worktree of each revision, by this checkout's virtualenv, on core 0 (generator on core 1).
The RSS figure is (server VmRSS after the level - before the first connection) / connections,
as in BENCHMARKS.md. With ``--tracemalloc`` the server runs under ``tracemalloc`` (one frame
per allocation) and the script prints the Python-heap growth per connection by source line
instead; tracemalloc's own bookkeeping inflates RSS there, so that run gives no RSS figure.
Memory does not depend on the machine's load the way time does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import loadgen, procs

MEMTRACE = Path(__file__).resolve().parent / "memtrace"  # the probe the server loads (sitecustomize.py)
Heap = dict[str, dict[str, list[int]]]  # what the probe writes: {"lineno"|"filename": {where: [bytes, blocks]}}


def growth(base: Heap, later: Heap, kind: str) -> list[tuple[str, int, int]]:
    """(where, bytes, blocks) grown from ``base`` to ``later``, largest change first."""
    before, after = base[kind], later[kind]
    rows = []
    for where in before.keys() | after.keys():
        size0, count0 = before.get(where, (0, 0))
        size1, count1 = after.get(where, (0, 0))
        rows.append((where, size1 - size0, count1 - count0))
    return sorted(rows, key=lambda r: abs(r[1]), reverse=True)


class TracedWatched(loadgen.Watched):
    """A watched server whose every RSS reading also has it write its heap (bench/memtrace)."""

    def __init__(self, pid: int, directory: Path) -> None:
        super().__init__([pid])
        self.directory = directory
        self.heaps: list[Heap] = []

    def rss_mb(self) -> float:
        path = self.directory / f"{self.pids[0]}-{len(self.heaps) + 1:03d}.json"
        os.kill(self.pids[0], signal.SIGUSR1)
        deadline = time.monotonic() + 120
        while not path.exists():
            if time.monotonic() > deadline:
                raise TimeoutError("no heap statistics from the server")
            time.sleep(0.2)
        self.heaps.append(json.loads(path.read_text()))
        return super().rss_mb()


async def measure(rev_dir: Path, levels: list[int], traced: bool, top: int) -> list[dict[str, Any]]:
    password = procs.random_password()
    os.environ["HEARTH_BENCH_REPO"] = str(rev_dir)
    tm_dir = Path(tempfile.mkdtemp(prefix="hearth-tm-"))
    probe = {"PYTHONPATH": str(MEMTRACE), "MEMTRACE_DIR": str(tm_dir), "MEMTRACE_FRAMES": "1"}
    if traced:
        os.environ.update(probe)
    try:
        srv = procs.start_server("hearth", admin_password=password, cores=(0,))
    finally:
        for k in probe:
            os.environ.pop(k, None)
    try:
        await procs.wait_healthy(srv)
        watched = TracedWatched(srv.pid, tm_dir) if traced else loadgen.Watched([srv.pid])
        rows = await loadgen.run_connect(srv.url, password, levels, watched=watched, room_size=20)
        if isinstance(watched, TracedWatched):
            base = watched.heaps[0]
            for row, heap in zip(rows, watched.heaps[1:], strict=False):
                n = row["connections"]
                by_line = growth(base, heap, "lineno")
                row["heap_per_conn_kb"] = round(sum(r[1] for r in by_line) / n / 1024, 2)
                per_conn = [(w, round(size / n), round(count / n, 2)) for w, size, count in by_line[:top]]
                by_file = growth(base, heap, "filename")[:top]
                row["heap_top"] = per_conn
                row["heap_by_file"] = [(w, round(size / n), round(count / n, 2)) for w, size, count in by_file]
        return rows
    finally:
        srv.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.idle_memory", description=__doc__.split("\n\n")[0])
    p.add_argument("revisions", nargs="+")
    p.add_argument("--levels", type=int, nargs="+", default=[2000, 10000])
    p.add_argument("--tracemalloc", action="store_true", help="Python heap per connection by source line")
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args(argv)
    procs.raise_nofile()
    procs.pin(0, [1])
    loadgen.install_fast_loop()
    with contextlib.ExitStack() as checkouts:
        trees = [checkouts.enter_context(procs.worktree(rev)) for rev in args.revisions]
        for sha, path in trees:
            rows = asyncio.run(measure(path, args.levels, args.tracemalloc, args.top))
            for row in rows:
                n = row["connections"]
                if args.tracemalloc:
                    print(
                        f"{sha} {n:>6,} conns (alive {row['alive']:,}, failed {row['failed']}): "
                        f"Python heap {row.get('heap_per_conn_kb')} KB per connection; top lines "
                        "(bytes per connection, blocks per connection):"
                    )
                    for where, size, count in row.get("heap_top", []):
                        print(f"    {size:>7,} B {count:>6} {where}")
                    print("  by file:")
                    for where, size, count in row.get("heap_by_file", []):
                        print(f"    {size:>7,} B {count:>6} {where}")
                else:
                    print(
                        f"{sha} {n:>6,} conns (alive {row['alive']:,}, failed {row['failed']}): "
                        f"RSS {row['server_rss_mb']} MB, base {row['server_rss_base_mb']} MB, "
                        f"{row['rss_per_conn_kb']} KB per connection"
                    )
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
