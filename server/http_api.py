"""HTTP routes under /api/, the health and metrics endpoints, and the static pages."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from moderation import audit, review, room_admin, staff
from rooms.errors import HearthError, NotFound, RateLimited, Unauthorized
from rooms.models import Identity
from server import logs, metrics, payloads, wire
from server.acks import internal_error
from server.auth import bearer
from server.ip_limits import client_address
from server.realtime import Realtime
from server.services import Services

log = logging.getLogger(__name__)
SERVICES = web.AppKey("services", Services)
REALTIME = web.AppKey("realtime", Realtime)
WEB_DIR = Path(__file__).resolve().parent.parent / "web"
CSP = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(exc: HearthError) -> web.Response:
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(max(1, (exc.retry_after_ms + 999) // 1000))
    return web.json_response({"error": exc.to_wire()}, status=exc.status, headers=headers)


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/api/") and request.headers.get("Content-Encoding", "identity") != "identity":
        # Bodies arrive as sent (the app turns aiohttp's decompression off): refuse encodings outright
        # rather than inflate attacker-chosen data or fail inside the parser.
        return _error(415, "invalid", "Content-Encoding is not supported; send plain JSON.")
    try:
        return await handler(request)
    except HearthError as exc:
        if exc.status >= 500:  # a refused request is the access log's one line; a failing store is worth another
            log.warning("path=%s code=%s", logs.escape(request.rel_url.raw_path), exc.code)
        return error_response(exc)
    except web.HTTPException as exc:
        if not request.path.startswith("/api/") or exc.status < 400:
            raise
        code = {404: "not_found", 405: "invalid", 413: "invalid"}.get(exc.status, "invalid")
        return _error(exc.status, code, exc.reason)
    except Exception:
        return web.json_response({"error": internal_error(f"path={logs.escape(request.rel_url.raw_path)}")}, status=500)


def cors_middleware(allowed: tuple[str, ...]) -> Any:
    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        granted = origin is not None and origin in allowed and request.path.startswith("/api/")
        if request.method == "OPTIONS" and request.path.startswith("/api/"):
            response: web.StreamResponse = web.Response(status=204)
        else:
            response = await handler(request)
        if granted:
            response.headers["Access-Control-Allow-Origin"] = origin  # type: ignore[assignment]
            response.headers["Vary"] = "Origin"
            response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PATCH, DELETE, OPTIONS"
        return response

    return cors


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if request.path.startswith("/api/"):
        response.headers["Cache-Control"] = "no-store"  # tokens and private data: never cached
    else:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def _address(request: web.Request) -> str:
    svc = request.app[SERVICES]
    return client_address(request.remote, request.headers.get("X-Forwarded-For"), svc.config.trusted_proxies)


async def identity(request: web.Request) -> Identity:
    token = bearer(request.headers.get("Authorization"))
    if token is None:
        raise Unauthorized("An Authorization: Bearer token is required.")
    return await request.app[SERVICES].auth.identify(token)


# identity -----------------------------------------------------------------


async def post_session(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    svc.ip_limiter.hit("session", _address(request))
    body = payloads.body(payloads.Session, await request.read(), optional=True)
    pseudonym = await staff.peer_pseudonym(svc.mod, body.pseudonym)
    token, ident = svc.auth.issue_peer(pseudonym)
    return web.json_response({"token": token, "identity": wire.identity(ident)}, status=201)


async def post_login(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    svc.ip_limiter.hit("login", _address(request))
    body = payloads.body(payloads.Login, await request.read())
    account = await staff.login(svc.mod, svc.login_limiter, body.name, body.password, _address(request))
    token, ident = svc.auth.issue_staff(account)
    return web.json_response({"token": token, "identity": wire.identity(ident)})


# rooms --------------------------------------------------------------------


async def get_rooms(request: web.Request) -> web.Response:
    await identity(request)
    rooms = await request.app[SERVICES].rooms.list_rooms()
    return web.json_response({"rooms": [wire.room_with_status(r, status) for r, status in rooms]})


async def post_room(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    actor = await identity(request)
    body = payloads.body(payloads.RoomCreate, await request.read())
    room = await room_admin.create_room(svc.mod, actor, payloads.room_settings(body))
    return web.json_response(wire.room(room, 0, False), status=201)


async def patch_room(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    actor = await identity(request)
    body = payloads.body(payloads.RoomBody, await request.read())
    room = await room_admin.update_room(svc.mod, actor, request.match_info["room_id"], payloads.room_settings(body))
    return web.json_response(await request.app[REALTIME].room_updated(room))


async def delete_room(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    room = await room_admin.delete_room(svc.mod, await identity(request), request.match_info["room_id"])
    await svc.stores.safety.delete_room(room.id)
    await request.app[REALTIME].room_deleted(room.id)
    return web.Response(status=204)


async def get_safety(request: web.Request) -> web.Response:
    """What the page needs before any join: where the quick exit goes, and the resources (no token)."""
    svc = request.app[SERVICES]
    return web.json_response({"quick_exit_url": svc.config.quick_exit_url, "resources": svc.crisis.resources_wire()})


# admin review -------------------------------------------------------------


async def get_flags(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    actor = await identity(request)
    flags = await review.list_flags(svc.mod, actor, payloads.flag_status(request.query.get("status")))
    return web.json_response({"flags": [wire.flag(f) for f in flags]})


async def resolve_flag(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    rt = request.app[REALTIME]
    actor = await identity(request)
    body = payloads.body(payloads.Resolve, await request.read())
    result = await review.resolve(svc.mod, actor, request.match_info["flag_id"], body.action, body.note, body.ban_s)
    if result.deleted_message is not None:
        await rt.notify.message_deleted(result.flag.room, result.deleted_message)
    if result.kick is not None:
        if result.kick.banned_until is not None:
            await rt.control.sanctioned(result.kick.room, result.kick.member_id, result.kick.banned_until)
        await rt.kick(result.kick)
    return web.json_response(wire.flag(result.flag))


async def get_audit(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    actor = await identity(request)
    limit = payloads.audit_limit(request.query.get("limit"), default=audit.DEFAULT_LIMIT, most=audit.MAX_LIMIT)
    entries = await audit.read(svc.mod, actor, request.query.get("room"), limit)
    return web.json_response({"entries": [wire.audit_entry(e) for e in entries]})


async def post_staff(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    actor = await identity(request)
    body = payloads.body(payloads.StaffAdd, await request.read())
    account = await staff.add(svc.mod, actor, body.name, body.role, body.password)
    return web.json_response(wire.staff_account(account), status=201)


async def get_staff(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    accounts = await staff.list_all(svc.mod, await identity(request))
    return web.json_response({"staff": [wire.staff_account(a) for a in accounts]})


async def patch_staff(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    body = payloads.body(payloads.StaffPassword, await request.read())
    account = await staff.change_password(svc.mod, await identity(request), request.match_info["name"], body.password)
    await request.app[REALTIME].control.staff_removed(account.id)
    return web.json_response(wire.staff_account(account))


async def delete_staff(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    account = await staff.remove(svc.mod, await identity(request), request.match_info["name"])
    await request.app[REALTIME].control.staff_removed(account.id)
    return web.Response(status=204)


# operations and pages -----------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    try:
        await svc.ping()
    except HearthError:
        return web.json_response({"status": "unavailable", "store": svc.config.store_name}, status=503)
    return web.json_response({"status": "ok", "store": svc.config.store_name})


async def metrics_endpoint(request: web.Request) -> web.Response:
    return web.Response(
        body=metrics.render(), content_type="text/plain", charset="utf-8", headers={"Cache-Control": "no-store"}
    )


def page(name: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(WEB_DIR / name, headers={"Cache-Control": "no-cache"})

    return handler


async def api_not_found(request: web.Request) -> web.Response:
    raise NotFound(f"No API route {request.method} {request.path}.")


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/session", post_session)
    r.add_post("/api/login", post_login)
    r.add_get("/api/rooms", get_rooms)
    r.add_post("/api/rooms", post_room)
    r.add_patch("/api/rooms/{room_id}", patch_room)
    r.add_delete("/api/rooms/{room_id}", delete_room)
    r.add_get("/api/safety", get_safety)
    r.add_get("/api/admin/flags", get_flags)
    r.add_post("/api/admin/flags/{flag_id}/resolve", resolve_flag)
    r.add_get("/api/admin/audit", get_audit)
    r.add_post("/api/admin/staff", post_staff)
    r.add_get("/api/admin/staff", get_staff)
    r.add_patch("/api/admin/staff/{name}", patch_staff)
    r.add_delete("/api/admin/staff/{name}", delete_staff)
    r.add_route("*", "/api/{tail:.*}", api_not_found)
    r.add_get("/healthz", healthz)
    r.add_get("/metrics", metrics_endpoint)
    r.add_get("/", page("index.html"))
    r.add_get("/admin", page("admin.html"))
    if WEB_DIR.is_dir():
        r.add_static("/static/", WEB_DIR, show_index=False, follow_symlinks=False)
