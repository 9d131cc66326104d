"""The transport adapter: aiohttp app, Socket.IO handlers, HTTP API, config and CLI."""
