"""A cap on request bodies, enforced before the app reads them.

Checked on the declared Content-Length and again while reading (a chunked upload declares
none), so an oversized paste is refused without ever being held in memory whole.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """ASGI middleware: bodies over ``limit`` bytes sent to ``paths`` get ``too_large``."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        paths: tuple[str, ...],
        too_large: Callable[[Request], Response],
    ) -> None:
        self.app = app
        self.limit = limit
        self.paths = paths
        self.too_large = too_large

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        body, more = [], True
        size = 0
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            body.append(chunk)
            more = message.get("more_body", False)
        await self.app(scope, _replay(b"".join(body), receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.too_large(Request(scope, receive))
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Hand the app the body already read, then whatever the client sends next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
