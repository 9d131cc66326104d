"""What each of several Hearth processes receives from Redis, and how much of it is for rooms it does not host.

    python -m bench.hosting                       # 4 processes, 40 rooms (10 per process), 3 sockets each
    python -m bench.hosting --processes 4 --rooms-per-process 10 --sockets 3 --messages 10

Starts one redis-server and ``--processes`` Hearth processes on it, creates
``processes × rooms-per-process`` rooms and puts every socket of a room on one
process (room ``i`` on process ``i // rooms-per-process``), so each room is hosted on
exactly one process. Every room then gets its sockets' joins, ``--messages``
messages (acked, spread over its sockets) and one ``typing`` per socket. Each
process's ``/metrics`` is read before the first joins (each process holds one idle
socket by then, so that its pub/sub listener runs) and after everything has
settled, and the difference is reported per process:

* Socket.IO pub/sub (``hearth_pubsub_received_*{kind}``): messages and bytes
  heard, split into ``own`` (its own publication heard back), ``hosted`` and
  ``foreign`` (a room with no socket on that process);
* room feeds: entries read (``hearth_feed_entries_read_total{kind}``) and message
  bodies fetched (``hearth_feed_bodies_fetched_total``, ``..._body_bytes_total``).

Bytes and counts, not time: a loaded machine does not change them. Prints a
Markdown table and one JSON line (stdout).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import sys
from typing import Any

import orjson

from bench import loadgen, procs

METRIC = re.compile(r'^(hearth_(?:pubsub_received|feed)_[a-z_]+)(?:\{kind="([a-z]+)"\})? ([0-9.e+-]+)$')
SETTLE_S = 2.5  # longer than a feed read's block (1 s) and the feed's room refresh (1 s)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


async def read_metrics(api: loadgen.Api) -> dict[str, float]:
    async with api.http.get(api.base + "/metrics") as resp:
        text = await resp.text()
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = METRIC.match(line)
        if m and not m.group(1).endswith("_created"):
            name = m.group(1) + (f".{m.group(2)}" if m.group(2) else "")
            out[name] = float(m.group(3))
    return out


def delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: v - before.get(k, 0.0) for k, v in after.items()}


def row(d: dict[str, float]) -> dict[str, Any]:
    def g(name: str) -> int:
        return round(d.get(name, 0.0))

    msgs = {k: g(f"hearth_pubsub_received_total.{k}") for k in ("own", "hosted", "foreign", "rejected")}
    size = {k: g(f"hearth_pubsub_received_bytes_total.{k}") for k in ("own", "hosted", "foreign", "rejected")}
    entries = {k: g(f"hearth_feed_entries_read_total.{k}") for k in ("hosted", "foreign")}
    return {
        "pubsub_messages": msgs,
        "pubsub_bytes": size,
        "feed_entries": entries,
        "bodies_fetched": g("hearth_feed_bodies_fetched_total"),
        "body_bytes": g("hearth_feed_body_bytes_total"),
    }


def share(part: int, total: int) -> str:
    return f"{100 * part / total:.0f} %" if total else "–"


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| process | pub/sub msgs (own / hosted / foreign) | pub/sub bytes | not for its rooms (msgs, bytes) "
        "| feed entries read | not for its rooms | bodies fetched (bytes) | not for its rooms |\n"
        "|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for i, r in enumerate(rows):
        m, b, e = r["pubsub_messages"], r["pubsub_bytes"], r["feed_entries"]
        m_all, b_all, e_all = sum(m.values()), sum(b.values()), sum(e.values())
        waste_m, waste_b = m["own"] + m["foreign"], b["own"] + b["foreign"]
        lines.append(
            f"| {i} | {m_all} ({m['own']} / {m['hosted']} / {m['foreign']}) | {b_all:,} "
            f"| {share(waste_m, m_all)}, {share(waste_b, b_all)} "
            f"| {e_all} | {share(e['foreign'], e_all)} | {r['bodies_fetched']} ({r['body_bytes']:,}) | 0 % |"
        )
    return head + "\n".join(lines) + "\n"


async def run(args: argparse.Namespace) -> dict[str, Any]:
    password = procs.random_password()
    secret = procs.new_secret_key()
    redis = procs.start_redis()
    servers: list[procs.ServerProc] = []
    http, api_http = loadgen.new_sessions()
    conns: list[loadgen.Conn] = []
    try:
        await procs.wait_redis(redis)
        url = f"redis://127.0.0.1:{redis.port}/0"
        servers = [
            procs.start_server("hearth", admin_password=password, secret_key=secret, redis_url=url)
            for _ in range(args.processes)
        ]
        health = [await procs.wait_healthy(s) for s in servers]
        if any(h.get("store") != "redis" for h in health):
            raise RuntimeError(f"Redis mode not working: /healthz said {health}")
        apis = [loadgen.Api(api_http, s.url) for s in servers]
        admin = await apis[0].login("admin", password)
        run_id = secrets.token_hex(3)
        rooms = [f"h{run_id}-{i}" for i in range(args.processes * args.rooms_per_process)]
        for r in rooms:
            await apis[0].create_room(admin, r, f"Hosting {r}")
        # A process starts listening on pub/sub with its first socket: give each one an idle
        # socket (in no room) first, so every process hears everything from the start.
        rec = loadgen.Recorder()
        for s in servers:
            idle = loadgen.Conn(len(conns), s.url, await apis[0].session(), rec)
            conns.append(idle)
            await idle.open(http)
        await asyncio.sleep(1.5)  # every feed has picked the rooms up (refreshed each second)
        before = [await read_metrics(a) for a in apis]

        by_room: dict[str, list[loadgen.Conn]] = {}
        for i, r in enumerate(rooms):
            by_room[r] = []
            for j in range(args.sockets):
                # --spread: the room's sockets on consecutive processes, for contrast
                host = servers[(i + j) % len(servers)] if args.spread else servers[i // args.rooms_per_process]
                token = await apis[0].session()
                c = loadgen.Conn(len(conns), host.url, token, rec)
                conns.append(c)
                by_room[r].append(c)
                await c.open(http)
                await c.join(r)
        log(f"  {len(conns)} sockets joined {len(rooms)} rooms on {len(servers)} processes")
        for r, members in by_room.items():
            for c in members:
                ack = await c.call("typing", {"room": r})
                assert isinstance(ack, dict) and ack.get("ok"), ack
            for k in range(args.messages):
                c = members[k % len(members)]
                ack = await c.call("message:send", {"room": r, "text": f"hosting bench {k}", "client_id": f"h{k}"})
                assert isinstance(ack, dict) and ack.get("ok"), ack
        await asyncio.sleep(SETTLE_S)
        after = [await read_metrics(a) for a in apis]
        rows = [row(delta(a, b)) for a, b in zip(after, before, strict=True)]
        return {
            "processes": args.processes,
            "rooms": len(rooms),
            "rooms_per_process": args.rooms_per_process,
            "sockets_per_room": args.sockets,
            "messages_per_room": args.messages,
            "spread": args.spread,
            "per_process": rows,
        }
    finally:
        await loadgen.gather_limited(64, [c.close for c in conns])
        await loadgen.close_sessions(http, api_http)
        for s in servers:
            s.stop()
        redis.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.hosting", description=__doc__.split("\n\n")[0])
    p.add_argument("--processes", type=int, default=4)
    p.add_argument("--rooms-per-process", type=int, default=10)
    p.add_argument("--sockets", type=int, default=3, help="sockets per room (peers; a send burst is 5 each)")
    p.add_argument("--messages", type=int, default=10, help="messages per room")
    p.add_argument("--spread", action="store_true", help="put each room's sockets on different processes instead")
    args = p.parse_args(argv)
    if args.messages > 5 * args.sockets:
        p.error("--messages above 5 per socket would meet the peers' send limit")
    procs.raise_nofile()
    result = asyncio.run(asyncio.wait_for(run(args), timeout=600))
    print(table(result["per_process"]))
    print(orjson.dumps(result).decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
