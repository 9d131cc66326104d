"""The start-up check of the library internals the fast broadcast path relies on.

The fast path (``fanout.DirectManager``) reads python-socketio's room table and
python-engineio's session table and hooks our socket class into the engine.io server.
None of that is public API, so it is checked once, at start-up, against the installed
libraries: if any of it has changed, broadcasts take python-socketio's stock path and one
warning line says which names are missing.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import engineio
import socketio

log = logging.getLogger("server.transport")

# (what, object, attribute): every name the fast path touches that the libraries do not document.
REQUIRED: list[tuple[str, Any, str]] = [
    ("socketio.AsyncServer._engineio_server_class", socketio.AsyncServer, "_engineio_server_class"),
    ("socketio.AsyncServer._handle_eio_message", socketio.AsyncServer, "_handle_eio_message"),
    ("socketio.AsyncServer._handle_eio_connect", socketio.AsyncServer, "_handle_eio_connect"),
    ("socketio.AsyncServer._handle_connect", socketio.AsyncServer, "_handle_connect"),
    ("socketio.AsyncManager.get_participants", socketio.AsyncManager, "get_participants"),
    ("engineio.AsyncServer._handle_connect", engineio.AsyncServer, "_handle_connect"),
    ("engineio.AsyncServer._upgrades", engineio.AsyncServer, "_upgrades"),
    ("engineio.AsyncServer._service_task", engineio.AsyncServer, "_service_task"),
    ("engineio.AsyncSocket.schedule_ping", engineio.async_socket.AsyncSocket, "schedule_ping"),
]
# Instance attributes, checked on a live server: (what, attribute).
REQUIRED_ON_MANAGER = [("socketio.AsyncManager.rooms", "rooms")]
REQUIRED_ON_ENGINE = [("engineio.AsyncServer._async", "_async"), ("engineio.AsyncServer.sockets", "sockets")]


def missing_names(server: Any) -> list[str]:
    """Names the fast path needs that the installed libraries (or this live ``server``) lack."""
    missing = [what for what, obj, attr in REQUIRED if not hasattr(obj, attr)]
    missing += [what for what, attr in REQUIRED_ON_MANAGER if not hasattr(server.manager, attr)]
    missing += [what for what, attr in REQUIRED_ON_ENGINE if not hasattr(server.eio, attr)]
    if not missing and not isinstance(server.eio._async, dict):
        missing.append("engineio.AsyncServer._async (a dict)")
    return missing


def fast_path_allowed(server: Any) -> bool:
    """True when the fast path may run; otherwise warn, once per process, and say why."""
    missing = missing_names(server)
    if missing:
        _warn(tuple(missing))
    return not missing


@functools.cache
def _warn(missing: tuple[str, ...]) -> None:
    log.warning(
        "event=transport_fast_path code=disabled missing=%s socketio=%s engineio=%s",
        ",".join(missing),
        getattr(socketio, "__version__", "?"),
        getattr(engineio, "__version__", "?"),
    )
