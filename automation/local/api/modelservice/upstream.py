"""A pooled HTTP/1.1 client for the deployments' own servers (loopback, keep-alive).

Only what the pass-through needs: write a request head and body bytes as given, read a response head
(status, headers, ``Content-Length``), then the body in pieces. Idle connections are kept per port
and reused; one idle longer than ``idle_seconds`` is dropped rather than reused, since the
deployment's server closes idle connections after a few seconds and a request written to a
half-closed socket would be lost.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

HEAD_LIMIT = 64 * 1024


class UpstreamError(Exception):
    """The deployment's server did not answer (refused, reset, closed early or malformed)."""


@dataclass
class Connection:
    port: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    reused: bool = False
    idle_since: float = field(default_factory=time.monotonic)

    def write(self, data: bytes) -> None:
        self.writer.write(data)

    async def drain(self) -> None:
        await self.writer.drain()

    async def read_head(self) -> tuple[int, list[tuple[bytes, bytes]], int | None, bool]:
        """(status, headers, content length or None, keep-alive) of the response."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            raise UpstreamError("closed before answering") from exc
        except asyncio.LimitOverrunError as exc:
            raise UpstreamError("response head too large") from exc
        lines = head[:-4].split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise UpstreamError("not an HTTP/1.1 response")
        try:
            status = int(parts[1])
        except ValueError:
            raise UpstreamError("bad status line") from None
        headers: list[tuple[bytes, bytes]] = []
        length: int | None = None
        keep_alive = parts[0] == b"HTTP/1.1"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                keep_alive = value.lower() != b"close"
            elif name == b"transfer-encoding":
                raise UpstreamError("chunked responses are not expected from a deployment")
            headers.append((name, value))
        if length is None:
            keep_alive = False  # the body runs to the end of the connection
        return status, headers, length, keep_alive

    async def read_body(self, length: int | None, piece: int) -> bytes:
        """Up to ``piece`` bytes of the body (b"" at its end); ``length`` is what is left, or None."""
        try:
            if length is None:
                return await self.reader.read(piece)
            if length <= 0:
                return b""
            return await self.reader.readexactly(min(length, piece))
        except asyncio.IncompleteReadError as exc:
            raise UpstreamError("closed in the middle of the body") from exc

    def close(self) -> None:
        self.writer.close()


class UpstreamPool:
    """Keep-alive connections to 127.0.0.1:<port>, at most ``max_idle`` idle ones per port."""

    def __init__(self, max_idle: int = 64, idle_seconds: float = 2.0, connect_timeout: float = 5.0) -> None:
        self._idle: dict[int, list[Connection]] = {}
        self._max_idle = max_idle
        self._idle_seconds = idle_seconds
        self._connect_timeout = connect_timeout

    async def acquire(self, port: int, fresh: bool = False) -> Connection:
        idle = self._idle.get(port)
        if idle and not fresh:
            now = time.monotonic()
            while idle:
                conn = idle.pop()
                if now - conn.idle_since < self._idle_seconds and not conn.reader.at_eof():
                    conn.reused = True
                    return conn
                conn.close()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port, limit=HEAD_LIMIT), self._connect_timeout
            )
        except (OSError, asyncio.TimeoutError) as exc:
            raise UpstreamError(f"cannot connect: {type(exc).__name__}") from exc
        return Connection(port, reader, writer)

    def release(self, conn: Connection) -> None:
        idle = self._idle.setdefault(conn.port, [])
        if len(idle) >= self._max_idle or conn.writer.is_closing():
            conn.close()
            return
        conn.idle_since = time.monotonic()
        idle.append(conn)

    def close(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()
