"""What every Redis store shares: key names, the client, errors as Unavailable, reply decoding, Lua loading."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Coroutine
from importlib import resources
from typing import Any, ParamSpec, TypeVar

import redis.asyncio as aioredis
import redis.exceptions as rex
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript

from rooms.errors import Unavailable

P = ParamSpec("P")
T = TypeVar("T")

PREFIX = "hearth:"

# Errors that mean "Redis cannot serve this now" (down, loading, a read-only replica, out of
# memory under maxmemory with noeviction), as opposed to a bug in a command.
DOWN = (
    rex.ConnectionError,
    rex.TimeoutError,
    rex.BusyLoadingError,
    rex.ReadOnlyError,
    rex.OutOfMemoryError,
    TimeoutError,
)


def key(*parts: str) -> str:
    """The one place key names are made: ``hearth:part:part`` (the layout: docs/ARCHITECTURE.md)."""
    return PREFIX + ":".join(parts)


def guarded(fn: Callable[P, Awaitable[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """Turn Redis being down or loading into Unavailable, so no caller sees a redis exception."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(*args, **kwargs)
        except DOWN as exc:
            raise Unavailable("The shared store (Redis) is unavailable; retry later.") from exc

    return wrapper


async def stop_task(task: asyncio.Task[Any]) -> None:
    """Cancel a background loop and wait until it has really ended.

    One cancel is not always enough: on Python 3.11, ``asyncio.wait_for`` (which redis-py
    uses inside its calls) swallows a cancellation that lands just as its inner call
    completes (CPython gh-86296), and a retrying loop then carries on for ever, holding its
    connection. Cancelling again until the task is done makes stopping certain.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=0.1)
    with contextlib.suppress(asyncio.CancelledError):
        task.exception()  # retrieved: a loop that died of an error was logged where it died


POOL_SIZE = 50  # connections per process (HEARTH_REDIS_POOL_SIZE); see docs/OPERATIONS.md
POOL_TIMEOUT_S = 30.0  # how long a call may wait for a free connection in a burst (HEARTH_REDIS_POOL_TIMEOUT_S)


def connect(url: str, *, pool_size: int = POOL_SIZE, pool_timeout_s: float = POOL_TIMEOUT_S) -> aioredis.Redis:
    """A pooled client for binary values that reconnects by itself after Redis comes back.

    The pool blocks: a burst of calls beyond ``pool_size`` waits up to ``pool_timeout_s`` for a
    connection instead of failing at once (redis-py's default pool raises).
    """
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=pool_size,
        timeout=pool_timeout_s,
        socket_timeout=2,
        socket_connect_timeout=2,
        health_check_interval=15,
        # One immediate retry on a broken connection: a pooled connection that died with a
        # restarted server is replaced without the caller noticing. Timeouts are not retried,
        # so a hung server costs one socket timeout, not several.
        retry=Retry(NoBackoff(), 1, supported_errors=(rex.ConnectionError,)),
        decode_responses=False,
    )
    return aioredis.Redis.from_pool(pool)


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def texts(values: Any) -> list[str]:
    """Members of a set or zset reply as strings (redis-py types these replies loosely)."""
    return [text(v) for v in values]


def score(value: bytes | str | float) -> int:
    return int(float(value))


@functools.cache
def lua(package: str, *names: str) -> str:
    """The source of ``<package>/lua/<name>.lua``, several files joined in order (a library first)."""
    folder = resources.files(package).joinpath("lua")
    return "\n".join(folder.joinpath(f"{name}.lua").read_text(encoding="utf-8") for name in names)


def script(client: aioredis.Redis, package: str, *names: str) -> AsyncScript:
    """Register a Lua script from its file; redis-py runs it by SHA and loads it when Redis lacks it."""
    return client.register_script(lua(package, *names))
