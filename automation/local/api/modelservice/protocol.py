"""uvicorn's httptools protocol with a header read timeout.

uvicorn bounds the idle time between requests on a keep-alive connection, but not the time a client
takes to send a request's headers: a client that connects and trickles a header line every few
seconds holds its connection forever. This protocol closes a connection whose request headers are
not complete ``header_timeout`` seconds after it connected or after the request's first byte.
It also offers the model service front a way to stop reading a request's connection (the scope
extension ``cmlops.pause_reading``), used while a refusal waits its turn (pacing.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from automation.local.api.modelservice.pacing import PAUSE_READING


class HeaderTimeoutProtocol(HttpToolsProtocol):
    header_timeout = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._disarm_header_timer()
        super().on_headers_complete()  # builds the request's cycle on self.scope; its task has not run yet
        self.scope.setdefault("extensions", {})[PAUSE_READING] = self.flow.pause_reading

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def with_header_timeout(seconds: float) -> type[Any]:
    """A protocol class for ``uvicorn.Config(http=...)`` with this header timeout."""
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout": seconds})
