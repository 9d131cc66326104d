"""The naive baseline: a plain python-socketio server written the obvious way.

It implements only what the benchmark scenarios use, with the same shapes as
Hearth (docs/PROTOCOL.md): POST /api/session, /api/login, /api/rooms,
/api/admin/staff, GET /healthz; Socket.IO connect with ``auth: {token}``;
``room:join``; ``message:send`` broadcasting ``message:new`` to the room and
acking ``{ok, message}``.  No persistence, no moderation, no rate limits, no
text normalisation beyond a strip and a length check.

With ``REDIS_URL`` set it uses python-socketio's ``AsyncRedisManager`` for
broadcasts and keeps rooms and staff in Redis hashes, so several processes act
as one (the scale-out scenario).  Tokens are HMAC-signed with
``HEARTH_SECRET_KEY``, so any process accepts any process's token.

    python -m bench.baseline_naive --host 127.0.0.1 --port 8081
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
from collections import deque
from typing import Any

import socketio
from aiohttp import web

SECRET = (os.environ.get("HEARTH_SECRET_KEY") or secrets.token_urlsafe(32)).encode()
ADMIN_PASSWORD = os.environ.get("HEARTH_ADMIN_PASSWORD")
REDIS_URL = os.environ.get("REDIS_URL")

rooms: dict[str, dict[str, Any]] = {}
staff: dict[str, dict[str, str]] = {}  # name -> {role, hash}
history: dict[str, deque[dict[str, Any]]] = {}
online: dict[str, dict[str, dict[str, Any]]] = {}  # room -> sid -> member
redis: Any = None

if REDIS_URL:
    import redis.asyncio as aioredis

    mgr = socketio.AsyncRedisManager(REDIS_URL)
    redis = aioredis.from_url(REDIS_URL)
    sio = socketio.AsyncServer(async_mode="aiohttp", client_manager=mgr)
else:
    sio = socketio.AsyncServer(async_mode="aiohttp")


def sign(identity: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(identity).encode()).decode()
    mac = hmac.new(SECRET, body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def verify(token: str) -> dict[str, Any] | None:
    try:
        body, mac = token.rsplit(".", 1)
    except ValueError:
        return None
    good = hmac.new(SECRET, body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(good, mac):
        return None
    return dict(json.loads(base64.urlsafe_b64decode(body)))


def hash_pw(pw: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    return salt.hex() + ":" + hashlib.pbkdf2_hmac("sha256", pw.encode(), salt, 10_000).hex()


def check_pw(pw: str, stored: str) -> bool:
    salt, _ = stored.split(":")
    return hmac.compare_digest(hash_pw(pw, bytes.fromhex(salt)), stored)


def err(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def bearer(request: web.Request) -> dict[str, Any] | None:
    h = request.headers.get("Authorization", "")
    return verify(h[7:]) if h.startswith("Bearer ") else None


async def get_room(room_id: str) -> dict[str, Any] | None:
    room = rooms.get(room_id)
    if room is None and redis is not None:
        raw = await redis.hget("baseline:rooms", room_id)
        if raw:
            room = rooms[room_id] = json.loads(raw)
    return room


async def get_staff(name: str) -> dict[str, str] | None:
    s = staff.get(name)
    if s is None and redis is not None:
        raw = await redis.hget("baseline:staff", name)
        if raw:
            s = staff[name] = json.loads(raw)
    return s


async def body_json(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        data = None
    return data if isinstance(data, dict) else {}


async def http_session(request: web.Request) -> web.Response:
    data = await body_json(request)
    pseudonym = data.get("pseudonym") or f"Guest {secrets.randbelow(100000)}"
    ident = {"id": uuid.uuid4().hex, "pseudonym": pseudonym, "role": "peer"}
    return web.json_response({"token": sign(ident), "identity": ident}, status=201)


async def http_login(request: web.Request) -> web.Response:
    data = await body_json(request)
    name, pw = str(data.get("name", "")), str(data.get("password", ""))
    if name == "admin" and ADMIN_PASSWORD and hmac.compare_digest(pw, ADMIN_PASSWORD):
        role = "admin"
    else:
        s = await get_staff(name)
        if s is None or not check_pw(pw, s["hash"]):
            return err(401, "unauthorized", "wrong name or password")
        role = s["role"]
    ident = {"id": "staff-" + name, "pseudonym": name, "role": role}
    return web.json_response({"token": sign(ident), "identity": ident})


async def http_create_room(request: web.Request) -> web.Response:
    who = bearer(request)
    if who is None:
        return err(401, "unauthorized", "no token")
    if who["role"] not in ("admin", "facilitator"):
        return err(403, "forbidden", "staff only")
    data = await body_json(request)
    name = str(data.get("name", "")).strip()
    if not name:
        return err(400, "invalid", "name required")
    room_id = str(data.get("id") or name.lower().replace(" ", "-"))
    if await get_room(room_id) is not None:
        return err(409, "conflict", "room exists")
    room = {
        "id": room_id,
        "name": name,
        "topic": data.get("topic", ""),
        "message_ttl_s": int(data.get("message_ttl_s", 86400)),
        "slow_mode_s": 0,
        "locked": False,
        "capacity": None,
    }
    rooms[room_id] = room
    if redis is not None:
        await redis.hset("baseline:rooms", room_id, json.dumps(room))
    return web.json_response({**room, "members": 0}, status=201)


async def http_add_staff(request: web.Request) -> web.Response:
    who = bearer(request)
    if who is None or who["role"] != "admin":
        return err(403, "forbidden", "admin only")
    data = await body_json(request)
    name, role, pw = str(data.get("name", "")), str(data.get("role", "")), str(data.get("password", ""))
    if not name or role not in ("facilitator", "admin") or not pw:
        return err(400, "invalid", "name, role, password")
    if await get_staff(name) is not None:
        return err(409, "conflict", "staff exists")
    staff[name] = {"role": role, "hash": hash_pw(pw)}
    if redis is not None:
        await redis.hset("baseline:staff", name, json.dumps(staff[name]))
    return web.json_response({"name": name, "role": role}, status=201)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "store": "redis" if redis is not None else "memory"})


def member_of(ident: dict[str, Any], room_id: str) -> dict[str, Any]:
    mid = hashlib.sha256(f"{ident['id']}:{room_id}".encode()).hexdigest()[:16]
    return {"id": mid, "pseudonym": ident["pseudonym"], "role": ident["role"]}


@sio.event
async def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
    ident = verify(auth.get("token", "")) if isinstance(auth, dict) else None
    if ident is None:
        raise socketio.exceptions.ConnectionRefusedError({"code": "unauthorized", "message": "bad token"})
    await sio.save_session(sid, {"identity": ident, "rooms": {}})


@sio.event
async def disconnect(sid: str, *args: Any) -> None:
    session = await sio.get_session(sid)
    for room_id, member in session["rooms"].items():
        online.get(room_id, {}).pop(sid, None)
        await sio.emit(
            "member:left", {"room": room_id, "member_id": member["id"], "reason": "disconnected"}, room=room_id
        )


@sio.on("room:join")
async def room_join(sid: str, data: Any) -> dict[str, Any]:
    room_id = data.get("room") if isinstance(data, dict) else None
    room = await get_room(str(room_id))
    if room is None:
        return {"ok": False, "error": {"code": "not_found", "message": "no such room"}}
    session = await sio.get_session(sid)
    member = member_of(session["identity"], room["id"])
    session["rooms"][room["id"]] = member
    await sio.enter_room(sid, room["id"])
    members = online.setdefault(room["id"], {})
    members[sid] = member
    await sio.emit("member:joined", {"room": room["id"], "member": member}, room=room["id"], skip_sid=sid)
    return {
        "ok": True,
        "room": {**room, "members": len(members)},
        "you": member,
        "members": list(members.values()),
        "history": list(history.get(room["id"], ())),
    }


@sio.on("message:send")
async def message_send(sid: str, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        return {"ok": False, "error": {"code": "invalid", "message": "payload"}}
    session = await sio.get_session(sid)
    room_id = data.get("room")
    member = session["rooms"].get(room_id)
    if member is None:
        return {"ok": False, "error": {"code": "not_member", "message": "join first"}}
    text = data.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > 2000:
        return {"ok": False, "error": {"code": "invalid", "message": "text"}}
    ts = int(time.time() * 1000)
    room = rooms[room_id]
    msg = {
        "id": uuid.uuid4().hex,
        "room": room_id,
        "author": member,
        "text": text.strip(),
        "ts": ts,
        "expires_at": ts + room["message_ttl_s"] * 1000,
        "client_id": data.get("client_id"),
    }
    history.setdefault(room_id, deque(maxlen=200)).append(msg)
    await sio.emit("message:new", msg, room=room_id)
    return {"ok": True, "message": msg}


@sio.on("*")
async def unknown(event: str, sid: str, *args: Any) -> dict[str, Any]:
    return {"ok": False, "error": {"code": "invalid", "message": "unknown event"}}


def make_app() -> web.Application:
    app = web.Application()
    sio.attach(app)
    app.router.add_post("/api/session", http_session)
    app.router.add_post("/api/login", http_login)
    app.router.add_post("/api/rooms", http_create_room)
    app.router.add_post("/api/admin/staff", http_add_staff)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    p = argparse.ArgumentParser(description="naive python-socketio baseline for the benchmarks")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8081)
    args = p.parse_args()
    print(f"baseline listening on http://{args.host}:{args.port} store={'redis' if redis else 'memory'}", flush=True)
    web.run_app(make_app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
