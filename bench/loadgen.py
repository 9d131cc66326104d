"""Hearth's load generator: Socket.IO v5 / Engine.IO v4 over raw websockets.

The framing is done here, by hand, to keep the generator cheap:

* ``GET /socket.io/?EIO=4&transport=websocket`` → server sends ``0{open}``;
* client sends ``40{"token": T}`` → server answers ``40{sid}`` or ``44{error}``;
* server pings ``2``, the client answers ``3``;
* client events ``42<id>["event",{...}]``, acks ``43<id>[{...}]``; every
  ``message:send`` carries a ``client_id``, as the browser client's do;
* server events ``42["message:new",{...}]``.

Every message the generator sends carries ``hb|<step>|<sender>|<seq>|<t_ns>`` as
its text (``t_ns`` is CLOCK_MONOTONIC at send time), so each recipient's copy
yields one latency sample, and per-socket sets of ``(sender, seq)`` give the
deliveries lost (expected − received after a drain) and duplicated.

Senders are staff (facilitator) accounts, exempt from the per-member send
limit (docs/PROTOCOL.md precise rule 9); the other members are ordinary peers.  The
generator creates its own sessions, staff accounts and rooms through the HTTP
API, talks only to 127.0.0.1, and every loop in it is bounded in count and time.

Use it as a library (``build_fleet`` / ``run_step`` / ``run_steps`` /
``run_connect``) or from the command line: ``python -m bench.loadgen --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import secrets
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson

from bench import procs

TEXT = aiohttp.WSMsgType.TEXT
MARK = "hb|"
now_ns = time.monotonic_ns


def _check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise ValueError(f"the load generator talks to loopback only, not {host!r}")


# --------------------------------------------------------------------------- HTTP API


class ApiError(RuntimeError):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status
        self.body = body


class Api:
    """The few HTTP calls the generator needs, with bounded retries on 429/503."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str) -> None:
        _check_loopback(base_url)
        self.http = http
        self.base = base_url.rstrip("/")

    async def post(self, path: str, body: dict[str, Any] | None, token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for attempt in range(8):
            async with self.http.post(self.base + path, json=body, headers=headers) as resp:
                text = await resp.text()
                if resp.status in (200, 201):
                    return orjson.loads(text) if text else {}
                if resp.status in (429, 503) and attempt < 7:
                    try:
                        wait = orjson.loads(text)["error"].get("retry_after_ms", 200) / 1000
                    except (ValueError, KeyError, TypeError, AttributeError):
                        wait = 0.2
                    await asyncio.sleep(min(max(wait, 0.05), 2.0))
                    continue
                raise ApiError(resp.status, text)
        raise AssertionError("unreachable")

    async def session(self) -> str:
        return str((await self.post("/api/session", {}))["token"])

    async def login(self, name: str, password: str) -> str:
        return str((await self.post("/api/login", {"name": name, "password": password}))["token"])

    async def create_room(self, admin: str, room_id: str, name: str) -> dict[str, Any]:
        return dict(await self.post("/api/rooms", {"id": room_id, "name": name}, admin))

    async def create_staff(self, admin: str, name: str, password: str) -> None:
        body = {"name": name, "role": "facilitator", "password": password}
        await self.post("/api/admin/staff", body, admin)


async def gather_limited(n: int, factories: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run coroutine factories with at most ``n`` in flight; exceptions are returned."""
    sem = asyncio.Semaphore(n)

    async def one(f: Callable[[], Any]) -> Any:
        async with sem:
            return await f()

    return list(await asyncio.gather(*(one(f) for f in factories), return_exceptions=True))


# --------------------------------------------------------------------------- recorder


class Recorder:
    """Counts for one step; shared by every connection."""

    def __init__(self) -> None:
        self.step = -1
        self.reset(0)

    def reset(self, step: int) -> None:
        self.step = step
        self.lat: list[int] = []  # ns, one per delivery
        self.ack_lat: list[int] = []
        self.unique = 0
        self.dups = 0
        self.late = 0  # deliveries of an earlier step's messages
        self.foreign = 0  # message:new without our marker
        self.expected = 0
        self.sent = 0
        self.ack_ok = 0
        self.ack_err = 0
        self.err_codes: Counter[str] = Counter()
        self.last_recv_ns = 0
        self.disconnects = 0

    def on_message(self, conn: Conn, d: str) -> None:
        i = d.find(MARK)
        if i < 0:
            self.foreign += 1
            return
        j = d.find('"', i)
        parts = d[i + 3 : j].split("|")
        t = now_ns()
        try:
            step = int(parts[0])
            key = (int(parts[1]) << 32) | int(parts[2])
            t0 = int(parts[3])
        except (ValueError, IndexError):
            self.foreign += 1
            return
        if step != self.step:
            self.late += 1
            return
        seen = conn.seen
        if key in seen:
            self.dups += 1
            return
        seen.add(key)
        self.unique += 1
        self.lat.append(t - t0)
        self.last_recv_ns = t

    def on_send_ack(self, ok: bool, code: str | None, t0: int, expect: int, step: int) -> None:
        if step != self.step:
            return
        self.ack_lat.append(now_ns() - t0)
        if ok:
            self.ack_ok += 1
        else:
            self.ack_err += 1
            self.expected -= expect
            self.err_codes[code or "?"] += 1


# --------------------------------------------------------------------------- connection


class ConnectError(RuntimeError):
    pass


class Conn:
    """One Socket.IO client over one raw websocket."""

    __slots__ = (
        "idx",
        "base",
        "token",
        "rec",
        "ws",
        "reader",
        "next_id",
        "futures",
        "pending",
        "seen",
        "closed",
        "error",
        "rooms",
    )

    def __init__(self, idx: int, base_url: str, token: str, rec: Recorder) -> None:
        _check_loopback(base_url)
        self.idx = idx
        self.base = base_url.rstrip("/")
        self.token = token
        self.rec = rec
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None
        self.next_id = 0
        self.futures: dict[int, asyncio.Future[Any]] = {}
        self.pending: dict[int, tuple[int, int, int]] = {}  # ack id -> (t0, expected, step)
        self.seen: set[int] = set()
        self.closed = False
        self.error: str | None = None
        self.rooms: list[str] = []

    async def open(self, http: aiohttp.ClientSession, timeout: float = 30.0, compress: int = 0) -> None:  # noqa: ASYNC109
        url = self.base.replace("http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
        async with asyncio.timeout(timeout):
            self.ws = ws = await http.ws_connect(
                url,
                compress=compress,
                autoping=True,
                max_msg_size=16 * 1024 * 1024,
                timeout=aiohttp.ClientWSTimeout(ws_close=3.0),
            )
            connected = False
            for _ in range(16):  # bounded: open packet, maybe a ping, the connect answer
                msg = await ws.receive()
                if msg.type is not TEXT:
                    raise ConnectError(f"websocket closed during handshake ({msg.type!r})")
                d = msg.data
                if d.startswith("0"):
                    await ws.send_str("40" + orjson.dumps({"token": self.token}).decode())
                elif d == "2":
                    await ws.send_str("3")
                elif d.startswith("40"):
                    connected = True
                    break
                elif d.startswith("44"):
                    raise ConnectError(f"connect refused: {d[2:300]}")
            if not connected:
                raise ConnectError("no Socket.IO connect answer")
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        ws = self.ws
        assert ws is not None
        rec = self.rec
        pending = self.pending
        try:
            while True:
                msg = await ws.receive()
                if msg.type is not TEXT:
                    break
                d: str = msg.data
                if d.startswith("42"):
                    if d.startswith('42["message:new"'):
                        rec.on_message(self, d)
                elif d.startswith("43"):
                    k = d.find("[")
                    aid = int(d[2:k])
                    p = pending.pop(aid, None)
                    if p is not None:
                        o = d.find('"ok"', k)
                        ok = o >= 0 and d[o + 4 : o + 12].lstrip(": ").startswith("t")
                        code = None
                        if not ok:
                            try:
                                code = orjson.loads(d[k:])[0]["error"]["code"]
                            except (ValueError, KeyError, IndexError, TypeError):
                                code = "unparsable"
                        rec.on_send_ack(ok, code, p[0], p[1], p[2])
                    else:
                        f = self.futures.pop(aid, None)
                        if f is not None and not f.done():
                            f.set_result(orjson.loads(d[k:])[0])
                elif d == "2":
                    await ws.send_str("3")
                elif d.startswith("41") or d.startswith("1"):
                    break
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.error = repr(exc)
        finally:
            self.closed = True
            rec.disconnects += 1
            for f in self.futures.values():
                if not f.done():
                    f.set_exception(ConnectionError("socket closed"))
            self.futures.clear()

    async def call(self, event: str, data: dict[str, Any], timeout: float = 30.0) -> Any:  # noqa: ASYNC109
        assert self.ws is not None
        if self.closed:
            raise ConnectionError(f"socket closed ({self.error})")
        self.next_id += 1
        aid = self.next_id
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.futures[aid] = fut
        await self.ws.send_str(f"42{aid}" + orjson.dumps([event, data]).decode())
        try:
            async with asyncio.timeout(timeout):
                return await fut
        finally:
            self.futures.pop(aid, None)

    async def join(self, room: str, timeout: float = 30.0) -> dict[str, Any]:  # noqa: ASYNC109
        ack = await self.call("room:join", {"room": room}, timeout)
        if not isinstance(ack, dict) or not ack.get("ok"):
            raise ConnectError(f"room:join {room} failed: {str(ack)[:300]}")
        self.rooms.append(room)
        return ack

    async def send_message(self, room: str, text: str, expect: int, step: int) -> None:
        """Fire one message:send; the ack is counted by the reader."""
        self.next_id += 1
        aid = self.next_id
        self.pending[aid] = (now_ns(), expect, step)
        assert self.ws is not None
        # a client id on every send, as the browser client does (the server deduplicates resends by it)
        cid = f"{self.idx}-{aid}"
        await self.ws.send_str(f'42{aid}["message:send",{{"room":"{room}","text":"{text}","client_id":"{cid}"}}]')

    async def close(self) -> None:
        if self.ws is not None and not self.ws.closed:
            try:
                await self.ws.send_str("41")
            except (ConnectionError, RuntimeError):
                pass
            try:
                await self.ws.close()
            except (TimeoutError, ConnectionError, RuntimeError):
                pass
        if self.reader is not None:
            if not self.reader.done():
                self.reader.cancel()
            try:
                await self.reader
            except asyncio.CancelledError:
                pass


# --------------------------------------------------------------------------- fleet


@dataclass
class Sender:
    conn: Conn
    room: str
    index: int
    seq: int = 0


@dataclass
class Fleet:
    """Connections joined to rooms, ready to send."""

    targets: list[str]
    http: aiohttp.ClientSession
    api_http: aiohttp.ClientSession
    rec: Recorder
    admin_token: str = ""
    conns: list[Conn] = field(default_factory=list)
    senders: list[Sender] = field(default_factory=list)
    room_size: dict[str, int] = field(default_factory=dict)
    setup: dict[str, float] = field(default_factory=dict)
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))

    async def close(self) -> None:
        await gather_limited(256, [c.close for c in self.conns])
        self.conns.clear()
        self.senders.clear()


def new_sessions(limit_per_host: int = 64) -> tuple[aiohttp.ClientSession, aiohttp.ClientSession]:
    """(websocket session, API session); close both with ``close_sessions``."""
    ws_http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=False))
    api_http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit_per_host),
        timeout=aiohttp.ClientTimeout(total=60),
    )
    return ws_http, api_http


async def close_sessions(*sessions: aiohttp.ClientSession) -> None:
    for s in sessions:
        await s.close()
    await asyncio.sleep(0.05)  # let transports finish closing (no ResourceWarning)


async def build_fleet(
    targets: Sequence[str],
    admin_password: str,
    *,
    rooms: int,
    room_size: int,
    senders_per_room: int,
    http: aiohttp.ClientSession,
    api_http: aiohttp.ClientSession,
    rec: Recorder | None = None,
    concurrency: int = 64,
    room_prefix: str = "b",
) -> Fleet:
    """Create ``rooms`` rooms of ``room_size`` sockets each, ``senders_per_room``
    of which are staff senders; sockets are spread round-robin over ``targets``."""
    if senders_per_room < 1 or room_size < senders_per_room:
        raise ValueError("need 1 <= senders_per_room <= room_size")
    rec = rec or Recorder()
    fleet = Fleet(list(targets), http, api_http, rec)
    api = Api(api_http, targets[0])
    rid = fleet.run_id
    t0 = time.perf_counter()
    fleet.admin_token = await api.login("admin", admin_password)

    staff_pw = secrets.token_urlsafe(12)
    staff_names = [f"bench-{rid}-s{k}" for k in range(senders_per_room)]
    for name in staff_names:
        await api.create_staff(fleet.admin_token, name, staff_pw)
    staff_tokens = [await api.login(n, staff_pw) for n in staff_names]

    room_ids = [f"{room_prefix}{rid}-{i}" for i in range(rooms)]
    res = await gather_limited(
        concurrency,
        [lambda r=r: api.create_room(fleet.admin_token, r, f"Bench {r}") for r in room_ids],
    )
    for r in res:
        if isinstance(r, BaseException):
            raise r
    t1 = time.perf_counter()
    peers = rooms * (room_size - senders_per_room)
    tokens = await gather_limited(concurrency, [api.session for _ in range(peers)])
    for t in tokens:
        if isinstance(t, BaseException):
            raise t
    t2 = time.perf_counter()

    plan: list[tuple[str, str, int | None]] = []  # (room, token, sender k or None)
    ti = 0
    for r in room_ids:
        for k in range(senders_per_room):
            plan.append((r, staff_tokens[k], k))
        for _ in range(room_size - senders_per_room):
            plan.append((r, tokens[ti], None))
            ti += 1
    conns = [Conn(i, targets[i % len(targets)], tok, rec) for i, (_, tok, _) in enumerate(plan)]
    fleet.conns = conns

    async def connect_join(i: int) -> None:
        c = conns[i]
        await c.open(http)
        await c.join(plan[i][0])

    res = await gather_limited(concurrency, [lambda i=i: connect_join(i) for i in range(len(plan))])
    errors = [r for r in res if isinstance(r, BaseException)]
    if errors:
        await fleet.close()
        raise RuntimeError(f"{len(errors)} of {len(plan)} connections failed; first: {errors[0]!r}")
    t3 = time.perf_counter()
    for r in room_ids:
        fleet.room_size[r] = room_size
    for i, (r, _, k) in enumerate(plan):
        if k is not None:
            fleet.senders.append(Sender(conns[i], r, len(fleet.senders)))
    fleet.setup = {
        "staff_rooms_s": round(t1 - t0, 3),
        "sessions_s": round(t2 - t1, 3),
        "connect_join_s": round(t3 - t2, 3),
        "connect_join_per_s": round(len(plan) / max(t3 - t2, 1e-9), 1),
    }
    await asyncio.sleep(0.5)  # let member:joined broadcasts settle
    return fleet


# --------------------------------------------------------------------------- steps


def pct(sorted_ns: list[int], q: float) -> float | None:
    if not sorted_ns:
        return None
    i = min(len(sorted_ns) - 1, max(0, math.ceil(q * len(sorted_ns)) - 1))
    return round(sorted_ns[i] / 1e6, 3)


@dataclass
class Watched:
    """Server processes whose CPU and RSS are read for each step."""

    pids: list[int]

    def cpu(self) -> float:
        return sum(procs.proc_cpu_seconds(p) for p in self.pids)

    def rss_mb(self) -> float:
        return round(sum(procs.proc_rss_bytes(p) for p in self.pids) / 2**20, 1)


async def run_step(
    fleet: Fleet,
    rate: float,
    duration: float,
    step: int,
    watched: Watched | None = None,
    drain_timeout: float = 10.0,
    tick: float = 0.002,
) -> dict[str, Any]:
    """Send ``rate`` messages/s (total, round-robin over every sender) for
    ``duration`` seconds, drain, and return the step's figures."""
    rec = fleet.rec
    for c in fleet.conns:
        c.seen = set()
    rec.reset(step)
    gc_was = gc.isenabled()
    gc.collect()
    gc.freeze()
    gc.disable()  # no collector pauses in the generator while measuring
    senders = fleet.senders
    n = len(senders)
    room_size = fleet.room_size
    srv_cpu0 = watched.cpu() if watched else 0.0
    gen_cpu0 = time.process_time()
    cores0 = procs.cpu_times()
    start = now_ns()
    t_start = time.perf_counter()
    end = t_start + duration
    sent = 0
    i = 0
    max_total = int(rate * duration) + 1
    while sent < max_total:
        now = time.perf_counter()
        if now >= end:
            break
        due = min(max_total, int(rate * (now - t_start)) + 1)
        while sent < due:
            s = senders[i]
            i = i + 1 if i + 1 < n else 0
            if s.conn.closed:
                continue
            s.seq += 1
            expect = room_size[s.room]
            rec.expected += expect
            await s.conn.send_message(s.room, f"{MARK}{step}|{s.index}|{s.seq}|{now_ns()}", expect, step)
            sent += 1
        await asyncio.sleep(tick)
    send_wall = time.perf_counter() - t_start
    rec.sent = sent
    # drain: wait for every ack and every expected delivery (bounded)
    drain_deadline = time.perf_counter() + drain_timeout
    while time.perf_counter() < drain_deadline:
        if rec.unique >= rec.expected and rec.ack_ok + rec.ack_err >= sent:
            break
        await asyncio.sleep(0.01)
    wall = time.perf_counter() - t_start
    gen_cpu = time.process_time() - gen_cpu0
    cores = procs.core_busy(cores0, procs.cpu_times())
    if gc_was:
        gc.enable()
    srv_cpu = (watched.cpu() - srv_cpu0) if watched else float("nan")
    lat = sorted(rec.lat)
    ack = sorted(rec.ack_lat)
    span = ((rec.last_recv_ns - start) / 1e9) if rec.last_recv_ns else wall
    lost = max(0, rec.expected - rec.unique)
    return {
        "step": step,
        "offered_msgs_per_s": rate,
        "sent": sent,
        "sent_per_s": round(sent / send_wall, 1) if send_wall else None,
        "deliveries_expected": rec.expected,
        "deliveries": rec.unique,
        "deliveries_per_s": round(rec.unique / span, 1) if span > 0 else None,
        "lat_p50_ms": pct(lat, 0.50),
        "lat_p90_ms": pct(lat, 0.90),
        "lat_p99_ms": pct(lat, 0.99),
        "lat_max_ms": round(lat[-1] / 1e6, 3) if lat else None,
        "ack_p50_ms": pct(ack, 0.50),
        "ack_p99_ms": pct(ack, 0.99),
        "lost": lost,
        "duplicates": rec.dups,
        "late_from_earlier_step": rec.late,
        "error_acks": rec.ack_err,
        "error_codes": dict(rec.err_codes),
        "unacked": max(0, sent - rec.ack_ok - rec.ack_err),
        "closed_sockets": sum(1 for c in fleet.conns if c.closed),
        "wall_s": round(wall, 3),
        "drained": lost == 0 and rec.ack_ok + rec.ack_err >= sent,
        "server_cpu_s": round(srv_cpu, 3),
        "gen_cpu_s": round(gen_cpu, 3),
        "server_cpu_util": round(srv_cpu / wall, 3) if wall else None,
        "server_cpu_us_per_delivery": round(srv_cpu * 1e6 / rec.unique, 2) if rec.unique else None,
        "gen_cpu_util": round(gen_cpu / wall, 3) if wall else None,
        "server_rss_mb": watched.rss_mb() if watched else None,
        # busy share of each core by anyone: busy minus server/generator util = other load on the box
        "core_busy": cores,
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


SATURATED = 0.85  # share of one core that counts as "ran out of CPU"


def summarize_steps(steps: list[dict[str, Any]], p99_ok_ms: float = 100.0) -> dict[str, Any]:
    """Sustainable capacity and which side ran out of CPU first."""
    good = [
        s
        for s in steps
        if s["lat_p99_ms"] is not None
        and s["lat_p99_ms"] < p99_ok_ms
        and s["lost"] == 0
        and s["duplicates"] == 0
        and s["error_acks"] == 0
    ]
    best = max(good, key=lambda s: s["deliveries_per_s"] or 0, default=None)
    first_sat = None
    for s in steps:
        srv = s.get("server_cpu_util") or 0
        gen = s.get("gen_cpu_util") or 0
        if srv >= SATURATED or gen >= SATURATED:
            side = "server" if srv >= gen else "generator"
            first_sat = {
                "side": side,
                "offered_msgs_per_s": s["offered_msgs_per_s"],
                "server_cpu_util": srv,
                "gen_cpu_util": gen,
            }
            break
    return {
        "capacity_deliveries_per_s": best["deliveries_per_s"] if best else 0,
        "capacity_at_offered_msgs_per_s": best["offered_msgs_per_s"] if best else None,
        "capacity_rule": f"highest deliveries/s with p99 < {p99_ok_ms:g} ms, nothing lost, no error acks",
        "first_cpu_saturated": first_sat,
        "cpu_bound_side": first_sat["side"] if first_sat else "neither",
    }


async def run_steps(
    fleet: Fleet,
    rates: Sequence[float],
    duration: float,
    watched: Watched | None = None,
    stop_p99_ms: float = 1000.0,
    drain_timeout: float = 10.0,
    log: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Step the offered rate up; stop once p99 passes ``stop_p99_ms``, loss or
    error acks appear, or the generator could not offer the rate."""
    out = []
    for k, rate in enumerate(rates, start=1):
        r = await run_step(fleet, rate, duration, k, watched, drain_timeout)
        out.append(r)
        if log:
            log(
                f"  step {k}: offered {rate:g}/s sent {r['sent_per_s']}/s "
                f"deliveries {r['deliveries_per_s']}/s p50 {r['lat_p50_ms']} p99 {r['lat_p99_ms']} "
                f"max {r['lat_max_ms']} ms lost {r['lost']} dup {r['duplicates']} err {r['error_acks']} "
                f"cpu srv {r['server_cpu_util']} gen {r['gen_cpu_util']}"
            )
        if (
            r["lat_p99_ms"] is None
            or r["lat_p99_ms"] > stop_p99_ms
            or r["lost"] > 0
            or r["error_acks"] > 0
            or r["closed_sockets"] > 0
        ):
            r["stop_reason"] = "p99/loss/errors"
            break
        if r["sent_per_s"] is not None and r["sent_per_s"] < 0.8 * rate:
            r["stop_reason"] = "generator could not offer the rate"
            break
        await asyncio.sleep(0.3)
    return out


# --------------------------------------------------------------------------- connect scenario


async def run_connect(
    target: str,
    admin_password: str,
    levels: Sequence[int],
    *,
    watched: Watched | None = None,
    room_size: int = 20,
    concurrency: int = 100,
    settle_s: float = 2.0,
    log: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Open idle authenticated connections in increasing totals (each joins a
    room of ``room_size``); per level: connect-and-join rate and server RSS."""
    procs.raise_nofile()
    rec = Recorder()
    http, api_http = new_sessions(concurrency)
    api = Api(api_http, target)
    conns: list[Conn] = []
    out: list[dict[str, Any]] = []
    rid = secrets.token_hex(3)
    try:
        admin = await api.login("admin", admin_password)
        await asyncio.sleep(settle_s)
        rss0 = watched.rss_mb() if watched else 0.0
        rooms: list[str] = []
        for level in levels:
            need = level - len(conns)
            if need <= 0:
                continue
            srv0 = watched.cpu() if watched else 0.0
            gen0 = time.process_time()
            want_rooms = math.ceil(level / room_size)
            new_rooms = [f"c{rid}-{i}" for i in range(len(rooms), want_rooms)]
            res = await gather_limited(32, [lambda r=r: api.create_room(admin, r, f"Idle {r}") for r in new_rooms])
            for r in res:
                if isinstance(r, BaseException):
                    raise r
            rooms += new_rooms
            t0 = time.perf_counter()
            tokens = await gather_limited(concurrency, [api.session for _ in range(need)])
            bad = [t for t in tokens if isinstance(t, BaseException)]
            if bad:
                raise RuntimeError(f"{len(bad)} sessions failed; first: {bad[0]!r}")
            t1 = time.perf_counter()
            base = len(conns)
            new = [Conn(base + i, target, tokens[i], rec) for i in range(need)]
            conns += new
            lat: list[int] = []

            async def cj(c: Conn, rooms: list[str] = rooms, lat: list[int] = lat) -> None:
                a = now_ns()
                await c.open(http, timeout=60)
                await c.join(rooms[c.idx // room_size], timeout=60)
                lat.append(now_ns() - a)

            res = await gather_limited(concurrency, [lambda c=c: cj(c) for c in new])
            t2 = time.perf_counter()
            failed = [r for r in res if isinstance(r, BaseException)]
            await asyncio.sleep(settle_s)
            rss = watched.rss_mb() if watched else 0.0
            lat.sort()
            alive = sum(1 for c in conns if not c.closed and c.ws is not None)
            row = {
                "connections": level,
                "alive": alive,
                "failed": len(failed),
                "first_failure": repr(failed[0])[:300] if failed else None,
                "sessions_per_s": round(need / (t1 - t0), 1),
                "connect_join_per_s": round(need / (t2 - t1), 1),
                "connect_join_p50_ms": pct(lat, 0.5),
                "connect_join_p99_ms": pct(lat, 0.99),
                "server_rss_mb": rss,
                "server_rss_base_mb": rss0,
                "rss_per_conn_kb": round((rss - rss0) * 1024 / level, 1) if watched else None,
                "server_cpu_s": round(watched.cpu() - srv0, 3) if watched else None,
                "gen_cpu_s": round(time.process_time() - gen0, 3),
                "gen_rss_mb": round(procs.proc_rss_bytes(os.getpid()) / 2**20, 1),
            }
            out.append(row)
            if log:
                log(
                    f"  {level} conns: {row['connect_join_per_s']}/s, rss {rss} MB "
                    f"({row['rss_per_conn_kb']} KB/conn), failed {len(failed)}"
                )
            if failed and len(failed) > need // 10:
                break
    finally:
        await gather_limited(512, [c.close for c in conns])
        await close_sessions(http, api_http)
    return out


# --------------------------------------------------------------------------- storm scenario


async def run_storm(
    target: str,
    admin_password: str,
    *,
    clients: int = 2000,
    room_size: int = 20,
    window_s: float = 10.0,
    timeout_s: float = 30.0,
    watched: Watched | None = None,
    on_ready: Callable[[], Any] | None = None,
) -> dict[str, Any]:
    """A connection storm: ``clients`` sockets (tokens fetched beforehand, as after a
    server restart) all open a websocket, connect and join their room at the same
    moment.  Reports the time from the start to the last join and how many got in
    within ``window_s`` and at all (each client gives up after ``timeout_s``)."""
    procs.raise_nofile()
    rec = Recorder()
    http, api_http = new_sessions(100)
    api = Api(api_http, target)
    conns: list[Conn] = []
    rid = secrets.token_hex(3)
    try:
        admin = await api.login("admin", admin_password)
        rooms = [f"s{rid}-{i}" for i in range(math.ceil(clients / room_size))]
        res = await gather_limited(32, [lambda r=r: api.create_room(admin, r, f"Storm {r}") for r in rooms])
        for r in res:
            if isinstance(r, BaseException):
                raise r
        tokens = await gather_limited(100, [api.session for _ in range(clients)])
        bad = [t for t in tokens if isinstance(t, BaseException)]
        if bad:
            raise RuntimeError(f"{len(bad)} sessions failed; first: {bad[0]!r}")
        conns = [Conn(i, target, tokens[i], rec) for i in range(clients)]
        done_ns: list[int] = []
        open_ns: list[int] = []
        if on_ready is not None:  # e.g. start a profiler
            await on_ready()
        gc.collect()
        srv0 = watched.cpu() if watched else 0.0
        gen0 = time.process_time()
        t0 = now_ns()

        async def cj(c: Conn) -> None:
            await c.open(http, timeout=timeout_s)
            open_ns.append(now_ns() - t0)
            await c.join(rooms[c.idx // room_size], timeout=timeout_s)
            done_ns.append(now_ns() - t0)

        results = await asyncio.gather(*(cj(c) for c in conns), return_exceptions=True)
        wall = (now_ns() - t0) / 1e9
        failed = [r for r in results if isinstance(r, BaseException)]
        done_ns.sort()
        open_ns.sort()
        joined = len(done_ns)
        within = sum(1 for d in done_ns if d <= window_s * 1e9)
        return {
            "clients": clients,
            "joined": joined,
            "joined_within_window": within,
            "window_s": window_s,
            "failed": len(failed),
            "first_failure": repr(failed[0])[:300] if failed else None,
            "last_join_s": round(done_ns[-1] / 1e9, 3) if done_ns else None,
            "connected_p50_s": round(open_ns[len(open_ns) // 2] / 1e9, 3) if open_ns else None,
            "last_connected_s": round(open_ns[-1] / 1e9, 3) if open_ns else None,
            "join_p50_s": round(done_ns[len(done_ns) // 2] / 1e9, 3) if done_ns else None,
            "join_p99_s": (pct(done_ns, 0.99) or 0) / 1000 if done_ns else None,
            "all_in_within_window": joined == clients and within == clients,
            "wall_s": round(wall, 3),
            "server_cpu_s": round(watched.cpu() - srv0, 3) if watched else None,
            "gen_cpu_s": round(time.process_time() - gen0, 3),
            "server_rss_mb": watched.rss_mb() if watched else None,
        }
    finally:
        await gather_limited(512, [c.close for c in conns])
        await close_sessions(http, api_http)


# --------------------------------------------------------------------------- CLI


def install_fast_loop() -> str:
    """Use uvloop when it is installed (the generator is then cheaper)."""
    try:
        import uvloop  # type: ignore[import-not-found]
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


async def _cli(args: argparse.Namespace) -> None:
    procs.raise_nofile()
    if args.pin_core is not None:
        procs.pin(0, [args.pin_core])
    server = None
    targets = args.url
    password = args.admin_password
    if args.start:
        password = procs.random_password()
        server = procs.start_server(
            args.start, admin_password=password, cores=(args.server_core,) if args.server_core is not None else None
        )
        await procs.wait_healthy(server)
        targets = [server.url]
    if not targets or not password:
        raise SystemExit("give --url and --admin-password, or --start hearth|baseline|node")
    watched = Watched(args.server_pid or ([server.pid] if server else []))
    http, api_http = new_sessions()
    fleet = None
    try:
        fleet = await build_fleet(
            targets,
            password,
            rooms=args.rooms,
            room_size=args.room_size,
            senders_per_room=args.senders,
            http=http,
            api_http=api_http,
        )
        steps = await run_steps(fleet, args.rates, args.duration, watched, log=lambda s: print(s, file=sys.stderr))
        print(orjson.dumps({"setup": fleet.setup, "steps": steps, **summarize_steps(steps)}).decode())
    finally:
        if fleet:
            await fleet.close()
        await close_sessions(http, api_http)
        if server:
            server.stop()


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", action="append", help="server base URL (repeat to spread sockets); loopback only")
    p.add_argument("--admin-password", default=os.environ.get("HEARTH_ADMIN_PASSWORD"))
    p.add_argument("--start", choices=["hearth", "baseline", "node"], help="start this server on a free port")
    p.add_argument("--server-pid", type=int, action="append", help="pid(s) whose CPU to record")
    p.add_argument("--rooms", type=int, default=2)
    p.add_argument("--room-size", type=int, default=5, help="sockets per room, senders included")
    p.add_argument("--senders", type=int, default=1, help="staff senders per room")
    p.add_argument("--rates", type=float, nargs="+", default=[20.0], help="total messages/s per step")
    p.add_argument("--duration", type=float, default=3.0, help="seconds per step")
    p.add_argument("--pin-core", type=int, default=None, help="pin the generator to this core")
    p.add_argument("--server-core", type=int, default=None, help="pin a started server to this core")
    args = p.parse_args(argv)
    install_fast_loop()
    asyncio.run(asyncio.wait_for(_cli(args), timeout=1800))


if __name__ == "__main__":
    main()
