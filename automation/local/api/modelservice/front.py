"""``POST /model``: the model service front, an ASGI callable in front of the API app.

CML's ``https://modelservice.<domain>/model`` for local models. Per call, in this order:

1. ``Content-Length`` over the limit: 413 at once, body unread, connection closed.
2. The access key: from ``?accessKey=``, else from the body's first member (keyscan.py: the first
   chunk suffices), else from the whole body parsed as JSON (400 if it is not JSON or has no key, or
   if it is over ``parse_body_bytes``: a large body must name its key first or in the query).
3. The key's live deployment, from memory (routes.py). Unknown key: 404; a model whose deployment
   is still starting is waited for up to a minute; none running: 503.
4. Model auth (when on): ``Authorization: Bearer <workspace API key>``, checked on SHA-256 digests in
   constant time, else 401; the body is not read.
5. A slot in the model's lane for the declared body size (limits.py), else 429 ``model.busy`` with
   ``Retry-After``. A small body is read whole first, so a slow sender never holds a slot; a large
   one streams, so it takes its (large-lane) slot first.
6. Pass-through: the request head (content type, authorization, query) and the body, as it arrives,
   go to the deployment's server over a pooled keep-alive connection; a chunked body is cut off at
   the limit (413); the whole body must arrive within ``body_timeout`` (else 408). The deployment's
   status, headers that matter and body come back unchanged, streamed when large.

Refusals use CML's model-endpoint envelope ``{"success": false, "errors": {field: message}}`` and
close the connection when the body was left unread; those are paced under a flood (pacing.py).
Everything else goes to the wrapped app.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from automation.local.api.modelservice.keyscan import NEED_MORE, leading_key, parsed_key
from automation.local.api.modelservice.limits import Lanes, ServiceLimits
from automation.local.api.modelservice.pacing import PAUSE_READING, RefusalPacer
from automation.local.api.modelservice.upstream import Connection, UpstreamError, UpstreamPool
from automation.local.workloads.routes import KeyIndex, Route, RouteTable

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PATHS = frozenset({"/model", "/model/"})
START_WAIT = 60.0
STREAM_PIECE = 256 * 1024
_JSON = (b"content-type", b"application/json")
_CLOSE = (b"connection", b"close")
_PASSED_HEADERS = frozenset({b"content-type", b"retry-after", b"www-authenticate", b"allow"})


def failure(field: str, message: str) -> bytes:
    return json.dumps({"success": False, "errors": {field: message}}).encode()


class Refused(Exception):
    """A call answered by the front itself."""

    def __init__(self, status: int, field: str, message: str, *headers: tuple[bytes, bytes]) -> None:
        super().__init__(message)
        self.status, self.body, self.headers = status, failure(field, message), list(headers)


class _Gone(Exception):
    """The client disconnected."""


class Body:
    """The client's body, read under the size limit and the body deadline."""

    def __init__(self, receive: Receive, limits: ServiceLimits, declared: int | None) -> None:
        self._receive = receive
        self._max = limits.max_body_bytes
        self._timeout = limits.body_timeout
        self._deadline = asyncio.get_running_loop().time() + limits.body_timeout
        self.declared = declared
        self.size = 0
        self.done = False

    async def next(self) -> bytes:
        """The next piece (b"" once done); Refused 413/408 past the limits; _Gone on disconnect."""
        if self.done:
            return b""
        try:
            async with asyncio.timeout_at(self._deadline):
                message = await self._receive()
        except TimeoutError:
            raise Refused(
                408, "request", f"the body did not arrive within {self._timeout:g} s", _CLOSE
            ) from None
        if message["type"] == "http.disconnect":
            raise _Gone
        piece: bytes = message.get("body", b"")
        self.size += len(piece)
        if self.size > self._max:
            raise Refused(413, "request", too_large(self._max), _CLOSE)
        self.done = not message.get("more_body", False)
        return piece

    def extend(self, seconds: float) -> None:
        self._deadline += seconds

    async def rest(self, refuse_over: int | None = None, why: str = "") -> bytes:
        """The rest of the body; Refused 400 (``why``) once the whole passes ``refuse_over`` bytes."""
        pieces = []
        while not self.done:
            pieces.append(await self.next())
            if refuse_over is not None and self.size > refuse_over:
                raise Refused(400, "accessKey", why, _CLOSE)
        return b"".join(pieces)


def too_large(limit: int) -> str:
    return f"request body too large: the limit is {limit} bytes (keep requests under 5 MB)"


class ModelServiceFront:
    """ASGI: ``/model`` served here (see the module docstring), every other request to ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: RouteTable,
        keys: KeyIndex,
        state_of: Callable[[str], str],
        api_key_sha256: str,
        limits: ServiceLimits,
        log: logging.Logger,
        pool: UpstreamPool | None = None,
        start_wait: float = START_WAIT,
    ) -> None:
        self.app = app
        self.routes = routes
        self.keys = keys
        self.state_of = state_of
        self.limits = limits
        self.log = log
        self.pool = pool or UpstreamPool(max_idle=limits.small_concurrency + limits.large_concurrency)
        self.start_wait = start_wait
        self._api_key_sha256 = api_key_sha256.encode()
        self._lanes: dict[str, Lanes] = {}
        self.pacer = RefusalPacer(limits.refusal_rate, limits.held_refusals)
        self._key_first = (
            f"the access key must be the body's first member (or ?accessKey= in the query) for bodies "
            f"over {limits.parse_body_bytes} bytes: the model service does not parse large bodies"
        )
        self._busy = failure(
            "model.busy", "the model is busy (too many calls in flight); retry later or add replicas"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in PATHS:
            await self._model(scope, receive, send)
            return
        if scope["type"] == "lifespan":
            receive = self._watch_lifespan(receive)
        await self.app(scope, receive, send)

    def _watch_lifespan(self, receive: Receive) -> Receive:
        async def watched() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                self.pool.close()
            return message

        return watched

    # --- one call ----------------------------------------------------------------------------

    async def _model(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = await self._call(scope, receive, send)
        if refusal is None:
            return
        # Nothing of the body is referenced any more (_call's frame is gone): a held refusal costs
        # its connection, not the body pieces read before the decision.
        status, answer, headers, unread = refusal
        if unread and status != 408:  # 408: the sender has had its time already
            await self.pacer.turn(_pause_reading(scope))
        await _reply(send, status, answer, headers, closing=unread)

    async def _call(
        self, scope: Scope, receive: Receive, send: Send
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]], bool] | None:
        """Serve one call; or (status, body, headers, body left unread) of the refusal to answer."""
        body: Body | None = None
        try:
            if scope["method"] != "POST":
                raise Refused(405, "method", "use POST /model", (b"allow", b"POST"))
            declared, authorization, content_type = _head(scope["headers"])
            if declared is not None and declared > self.limits.max_body_bytes:
                raise Refused(413, "request", too_large(self.limits.max_body_bytes), _CLOSE)
            body = Body(receive, self.limits, declared)
            key, prefix = await self._access_key(scope, body)
            route = self.routes.get(key)
            if route is None:  # not deployed, or still starting: the wait does not count against the body
                waited_from = asyncio.get_running_loop().time()
                route = await self._route(key)
                body.extend(asyncio.get_running_loop().time() - waited_from)
            if route.auth and not self._authorized(authorization):
                raise Refused(
                    401,
                    "auth",
                    "missing or wrong API key: send 'Authorization: Bearer <workspace API key>'",
                    (b"www-authenticate", b"Bearer"),
                )
            lanes = self._lanes.get(key)
            if lanes is None:
                lanes = self._lanes[key] = Lanes(self.limits)
            lane = lanes.pick(declared)
            if lane is lanes.small and not body.done:
                # A small body is read whole before it takes a slot: a slow sender holds a
                # connection until the body timeout, never one of the model's slots.
                prefix = [b"".join(prefix) + await body.rest()]
            if not lane.try_acquire():
                retry = (b"retry-after", str(self.limits.retry_after).encode())
                return 429, self._busy, [retry], not body.done
            try:
                await self._pass(scope, send, route, body, prefix, authorization, content_type)
            finally:
                lane.release()
        except Refused as refusal:
            return refusal.status, refusal.body, refusal.headers, body is None or not body.done
        except _Gone:
            pass
        return None

    async def _access_key(self, scope: Scope, body: Body) -> tuple[str, list[bytes]]:
        """(key, body pieces read so far)."""
        query = scope.get("query_string") or b""
        if b"accessKey" in query:
            values = parse_qs(query.decode("latin-1")).get("accessKey")
            if values and values[0]:
                return values[0], []
        pieces: list[bytes] = []
        prefix = b""
        while True:
            piece = await body.next()
            if piece:
                pieces.append(piece)
                prefix = piece if len(pieces) == 1 else b"".join(pieces)
            found = leading_key(prefix, body.done)
            if isinstance(found, str) and found:
                return found, pieces
            if found is not NEED_MORE:
                break
        limit = self.limits.parse_body_bytes
        if body.size > limit or (body.declared is not None and body.declared > limit):
            raise Refused(400, "accessKey", self._key_first, _CLOSE)
        whole = prefix + await body.rest(limit, self._key_first)
        key, problem = parsed_key(whole)
        if key is None:
            if problem == "json":
                raise Refused(400, "request", "the body is not valid JSON")
            raise Refused(
                400, "accessKey", "missing: send the model's access key as accessKey in the body or query"
            )
        return key, [whole]

    async def _route(self, key: str) -> Route:
        route = self.routes.get(key)
        if route is not None:
            return route
        if not self.keys.known(key):
            raise Refused(404, "accessKey", "no model has this access key")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.start_wait
        state = self.state_of(key)
        while state == "starting" and loop.time() < deadline:
            await asyncio.sleep(0.25)
            route = self.routes.get(key)
            if route is not None:
                return route
            state = self.state_of(key)
        route = self.routes.get(key)
        if route is not None:
            return route
        if state == "unknown":
            raise Refused(404, "accessKey", "no model has this access key")
        raise Refused(503, "model", f"the model has no running deployment ({state}); deploy a build first")

    def _authorized(self, authorization: bytes | None) -> bool:
        if authorization is None:
            return False
        scheme, _, token = authorization.strip().partition(b" ")
        token = token.strip()
        if scheme.lower() != b"bearer" or not token:
            return False
        return hmac.compare_digest(hashlib.sha256(token).hexdigest().encode(), self._api_key_sha256)

    # --- pass-through ------------------------------------------------------------------------

    async def _pass(
        self,
        scope: Scope,
        send: Send,
        route: Route,
        body: Body,
        pieces: list[bytes],
        authorization: bytes | None,
        content_type: bytes | None,
    ) -> None:
        # A body read whole already (the usual small call) goes with its length, even if it came chunked.
        length = body.declared if body.declared is not None else (body.size if body.done else None)
        whole = length is not None
        head = _request_head(scope, route.port, authorization, content_type, length)
        first = b"".join(pieces) if whole else b"".join(_chunk(p) for p in pieces if p)
        conn: Connection | None = None
        started = False
        try:
            conn = await self.pool.acquire(route.port)
            if body.done and conn.reused:
                status_head = await self._send_whole_retrying(conn, head + first + _end(whole))
                conn = status_head[0]
                answer = status_head[1]
            else:
                conn.write(head + first)
                while not body.done:
                    piece = await body.next()
                    if piece:
                        conn.write(piece if whole else _chunk(piece))
                        await conn.drain()
                if not whole:
                    conn.write(b"0\r\n\r\n")
                answer = await conn.read_head()
            status, headers, answer_length, keep_alive = answer
            started = True
            await self._relay(send, conn, status, headers, answer_length)
            if keep_alive:
                self.pool.release(conn)
            else:
                conn.close()
            conn = None
        except (UpstreamError, OSError) as exc:
            if started:  # the answer was cut short: uvicorn closes the connection
                self.log.warning(
                    "model service: deployment %s broke off its answer: %s", route.deployment_id, exc
                )
                return
            self.log.warning(
                "model service: deployment %s on port %s did not answer: %s",
                route.deployment_id,
                route.port,
                exc,
            )
            raise Refused(
                503,
                "model",
                "the model server did not answer; see `cmlops local logs <deployment id>`",
            ) from None
        finally:
            if conn is not None:  # cut short (limit, timeout, disconnect, failure): never reused
                conn.close()

    async def _send_whole_retrying(
        self, conn: Connection, data: bytes
    ) -> tuple[Connection, tuple[int, list[tuple[bytes, bytes]], int | None, bool]]:
        """Write a fully read request on a reused connection; once more on a fresh one if that had
        been closed by the deployment meanwhile (nothing was answered, so nothing ran twice)."""
        try:
            conn.write(data)
            return conn, await conn.read_head()
        except (UpstreamError, OSError):
            conn.close()
        conn = await self.pool.acquire(conn.port, fresh=True)
        conn.write(data)
        return conn, await conn.read_head()

    async def _relay(
        self,
        send: Send,
        conn: Connection,
        status: int,
        headers: list[tuple[bytes, bytes]],
        length: int | None,
    ) -> None:
        out = [(n, v) for n, v in headers if n in _PASSED_HEADERS]
        if length is not None and length <= STREAM_PIECE:
            data = await conn.read_body(length, length)
            out.append((b"content-length", str(length).encode()))
            await send({"type": "http.response.start", "status": status, "headers": out})
            await send({"type": "http.response.body", "body": data})
            return
        if length is not None:
            out.append((b"content-length", str(length).encode()))
        await send({"type": "http.response.start", "status": status, "headers": out})
        left = length
        while True:
            data = await conn.read_body(left, STREAM_PIECE)
            if left is not None:
                left -= len(data)
            more = bool(data) and (left is None or left > 0)
            await send({"type": "http.response.body", "body": data, "more_body": more})
            if not more:
                return


def _head(headers: list[tuple[bytes, bytes]]) -> tuple[int | None, bytes | None, bytes | None]:
    """(declared body length or None when chunked, authorization, content type) from the headers."""
    declared: int | None = 0
    chunked = False
    authorization = content_type = None
    for name, value in headers:
        if name == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                raise Refused(400, "request", "bad Content-Length header") from None
        elif name == b"transfer-encoding":
            chunked = True
        elif name == b"authorization":
            authorization = value
        elif name == b"content-type":
            content_type = value
    return (None if chunked else declared), authorization, content_type


def _request_head(
    scope: Scope, port: int, authorization: bytes | None, content_type: bytes | None, length: int | None
) -> bytes:
    query = scope.get("query_string") or b""
    lines = [
        b"POST /model" + (b"?" + query if query else b"") + b" HTTP/1.1",
        b"host: 127.0.0.1:%d" % port,
        b"content-type: " + (content_type or b"application/json"),
    ]
    if authorization is not None:
        lines.append(b"authorization: " + authorization)
    lines.append(b"content-length: %d" % length if length is not None else b"transfer-encoding: chunked")
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _pause_reading(scope: Scope) -> Callable[[], None] | None:
    pause: Callable[[], None] | None = (scope.get("extensions") or {}).get(PAUSE_READING)
    return pause


def _chunk(piece: bytes) -> bytes:
    return b"%x\r\n" % len(piece) + piece + b"\r\n"


def _end(whole: bool) -> bytes:
    return b"" if whole else b"0\r\n\r\n"


async def _reply(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]], *, closing: bool
) -> None:
    head = [_JSON, (b"content-length", str(len(body)).encode()), *headers]
    if closing and _CLOSE not in head:
        head.append(_CLOSE)
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})
