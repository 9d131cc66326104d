"""Hearth's Socket.IO / Engine.IO transport, scoped to Hearth's own server instances.

Modules, one concern each (see docs/ARCHITECTURE.md):
``settings`` (TransportSettings), ``socket_server`` (TransportServer: strict Socket.IO parsing,
connect timeout), ``engine_server`` (EngineServer: handshake, per-address cap, protocol fixes),
``engine_socket`` (EngineSocket: bounded queue, poll, long-polling and websocket loops),
``outbound_queue`` (the socket's queue, lean),
``websocket`` (the aiohttp websocket, uncompressed), ``fanout`` (the broadcast fast path and the
one-process client manager), ``pubsub`` (the Redis client manager: sealed, a channel per room),
``frames`` (websocket frames), ``compat`` (the start-up check of library internals),
``refusals`` and ``counters`` (what is refused or dropped, counted and logged once).
"""

from server.transport.engine_server import EngineServer
from server.transport.engine_socket import EngineSocket
from server.transport.fanout import DirectManager
from server.transport.pubsub import DirectRedisManager, make_manager
from server.transport.settings import TransportSettings
from server.transport.socket_server import TransportServer

__all__ = [
    "DirectManager",
    "DirectRedisManager",
    "EngineServer",
    "EngineSocket",
    "TransportServer",
    "TransportSettings",
    "make_manager",
]
