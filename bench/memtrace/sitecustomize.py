"""Memory probes for a soak's server processes; not imported by Hearth itself.

Put this folder on ``PYTHONPATH`` for ``python -m bench.soak``: the servers it starts (they
inherit the environment, and only they have ``HEARTH_DATA_DIR``) then install what is asked:

    PYTHONPATH=bench/memtrace MEMTRACE_DIR=/tmp/snaps SOAK_SECONDS=300 python -m bench.soak
        tracemalloc (MEMTRACE_FRAMES, default 5); ``kill -USR1 <server pid>`` writes the Python heap
        by source line and by file, as JSON (``{"lineno": {"file:line": [bytes, blocks]}, "filename":
        {...}}``), to MEMTRACE_DIR/<pid>-<n>.json; ``bench.idle_memory.growth`` diffs two of them
    PYTHONPATH=bench/memtrace MEMTRACE_TRIM=1 ...
        ``kill -USR2 <server pid>`` calls glibc's malloc_trim(0)
    PYTHONPATH=bench/memtrace MEMTRACE_MALLOCSTATS=1 ...
        ``kill -USR1 <server pid>`` writes sys._debugmallocstats() (pymalloc arenas) to the server log
    PYTHONPATH=bench/memtrace MEMTRACE_TYPES=/tmp/types ...
        no tracing (nothing slows down); ``kill -USR1 <server pid>`` writes the live objects the garbage
        collector tracks, counted and sized (``sys.getsizeof``) by type, and
        ``sys.getallocatedblocks()``, to MEMTRACE_TYPES/<pid>-<n>.json
    PYTHONPATH=bench/memtrace MEMTRACE_GARBAGE=/tmp/garbage ...
        ``kill -USR1 <server pid>`` collects and writes what was unreachable (reference cycles the
        collector had to free), counted by type, to MEMTRACE_GARBAGE/<pid>-<n>.json
    PYTHONPATH=bench/memtrace MEMTRACE_GC_EVERY=2 ...
        a full garbage collection every 2 s (SIGALRM), besides the collector's own
    PYTHONPATH=bench/memtrace MEMTRACE_NO_UVLOOP=1 ...
        the servers run on asyncio's own event loop instead of uvloop
"""

from __future__ import annotations

import os
import signal
from types import FrameType
from typing import Any

_written = [0]


def _write_json(folder: str, data: Any) -> None:
    """``data`` as ``<folder>/<pid>-<n>.json``, n counting up; a reader never sees half a file."""
    import json

    _written[0] += 1
    path = os.path.join(folder, f"{os.getpid()}-{_written[0]:03d}.json")
    with open(path + ".tmp", "w") as f:
        json.dump(data, f)
    os.rename(path + ".tmp", path)


def _install() -> None:
    if not os.environ.get("HEARTH_DATA_DIR"):
        return  # not a Hearth server (the soak itself, pip, ...)
    snaps = os.environ.get("MEMTRACE_DIR")
    if snaps:
        import gc
        import tracemalloc

        tracemalloc.start(int(os.environ.get("MEMTRACE_FRAMES", "5")))

        def dump(signum: int, frame: FrameType | None) -> None:
            gc.collect()
            snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
            heap = {
                "lineno": {
                    f"{s.traceback[0].filename}:{s.traceback[0].lineno}": [s.size, s.count]
                    for s in snap.statistics("lineno")
                },
                "filename": {s.traceback[0].filename: [s.size, s.count] for s in snap.statistics("filename")},
            }
            _write_json(snaps, heap)

        signal.signal(signal.SIGUSR1, dump)
    elif types_dir := os.environ.get("MEMTRACE_TYPES"):
        import collections
        import gc
        import sys

        def count_types(signum: int, frame: FrameType | None) -> None:
            gc.collect()
            by_type: collections.Counter[str] = collections.Counter()
            size_by_type: collections.Counter[str] = collections.Counter()
            for o in gc.get_objects():
                name = type(o).__qualname__
                by_type[name] += 1
                size_by_type[name] += sys.getsizeof(o)
            out = {
                "allocated_blocks": sys.getallocatedblocks(),
                "types": dict(by_type.most_common()),
                "bytes": dict(size_by_type.most_common()),
            }
            _write_json(types_dir, out)

        signal.signal(signal.SIGUSR1, count_types)
    elif garbage_dir := os.environ.get("MEMTRACE_GARBAGE"):
        import collections
        import gc

        gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds unreachable is kept in gc.garbage

        def count_garbage(signum: int, frame: FrameType | None) -> None:
            gc.collect()
            by_type = collections.Counter(type(o).__qualname__ for o in gc.garbage)
            gc.garbage.clear()
            _write_json(garbage_dir, dict(by_type.most_common()))

        signal.signal(signal.SIGUSR1, count_garbage)
    elif os.environ.get("MEMTRACE_MALLOCSTATS"):
        import gc
        import sys

        def stats(signum: int, frame: FrameType | None) -> None:
            gc.collect()
            sys.stderr.write("=== MALLOCSTATS ===\n")
            sys.stderr.flush()
            sys._debugmallocstats()
            sys.stderr.write("=== END ===\n")
            sys.stderr.flush()

        signal.signal(signal.SIGUSR1, stats)
    if every := float(os.environ.get("MEMTRACE_GC_EVERY", "0") or 0):
        import gc

        def collect(signum: int, frame: FrameType | None) -> None:
            gc.collect()

        signal.signal(signal.SIGALRM, collect)
        signal.setitimer(signal.ITIMER_REAL, every, every)
    if os.environ.get("MEMTRACE_NO_UVLOOP"):
        import sys

        sys.modules["uvloop"] = None  # type: ignore[assignment]  # server/cli.py falls back on ImportError
    if os.environ.get("MEMTRACE_TRIM"):
        import ctypes

        libc = ctypes.CDLL("libc.so.6")

        def trim(signum: int, frame: FrameType | None) -> None:
            libc.malloc_trim(0)

        signal.signal(signal.SIGUSR2, trim)


_install()
