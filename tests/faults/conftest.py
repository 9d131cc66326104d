"""Faults on real processes: `hearth` servers on a private redis-server that the tests stop,
restart and starve. The slow ones are marked `slow`: `make check` skips them, `make test` runs them."""

from __future__ import annotations

from tests.multiproc.conftest import cluster, redis_proc

__all__ = ["cluster", "redis_proc"]
