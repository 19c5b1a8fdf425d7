"""The model endpoint of a local deployment, as a bare ASGI application.

Contract (CML's model endpoint, DESIGN.md section 4, cml-api-v2.md section 5):

* ``POST /model`` with ``{"accessKey": K, "request": {...}}`` (form A), or ``POST /model?accessKey=K``
  with ``{"request": {...}}`` (form B). A key in the body wins over one in the query.
* Success: ``200 {"success": true, "response": {"prediction": [...]}, "ReplicaID": "local-<port>-0"}``.
  CML returns whatever the model's predict function returned under ``response``; registry-deployed
  MLflow models have no documented shape there, so the local workspace answers with an object
  holding a ``prediction`` list (one entry per input row). The client reads
  ``response["prediction"]``; the object leaves room for more fields without breaking it. A
  file-based model (``raw_response``, see function.py) answers with its function's return value
  as it is, as CML does.
* Failures: ``{"success": false, "errors": {<field>: <message>}}`` with
  401 ``auth`` (model auth on and no or wrong ``Authorization: Bearer <workspace API key>``),
  404 ``accessKey`` (missing or wrong access key), 400 ``request`` (bad JSON or bad model input,
  naming the problem), 413 ``request`` (body over the size limit), 429 ``model.busy`` (too many
  calls in flight), 500 ``model`` (the model itself failed). Never a stack trace.
* ``GET /health``: ``200 {"status": "ready"}``, no auth and nothing secret.

Order of checks: concurrency limit, bearer key (header only, so an unauthenticated caller never
gets its body parsed), body size, JSON, access key, then the model input. The bearer key is checked
by comparing SHA-256 digests in constant time; the server never holds the key itself.

Why raw ASGI rather than a framework: the endpoint has two routes and its per-request cost is
what the benchmark measures; a framework's routing, request objects and middleware would add more
than the prediction costs on the fast path.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs

from automation.local.serving.errors import RequestError, one_line
from automation.local.serving.limiter import InFlightLimiter

if TYPE_CHECKING:
    from automation.local.serving.offload import Offload

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_JSON = (b"content-type", b"application/json")
_HEALTH = json.dumps({"status": "ready"}).encode()


class Model(Protocol):
    """What the endpoint needs from a loaded model (see predictor.ServedModel)."""

    @property
    def inline(self) -> bool: ...

    def predict(self, request: Any) -> Any: ...


def _failure(field: str, message: str) -> bytes:
    return json.dumps({"success": False, "errors": {field: message}}).encode()


class _Refused(Exception):
    """A call refused before the model sees it; ``answer`` is its (status, body, headers)."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.answer: tuple[int, bytes, list[tuple[bytes, bytes]]] = (status, _failure(field, message), [])


class _Disconnected(Exception):
    """The client went away while sending its body."""


class ModelEndpoint:
    """ASGI callable serving one model (see the module docstring for the contract)."""

    def __init__(
        self,
        model: Model,
        *,
        access_key: str,
        api_key_sha256: str | None,
        max_body_bytes: int,
        max_concurrency: int,
        replica_id: str,
        executor: Executor | None = None,
    ) -> None:
        self._model = model
        self._access_key = access_key.encode()
        self._api_key_sha256 = api_key_sha256.encode() if api_key_sha256 else None
        self._max_body = max_body_bytes
        self._replica_id = replica_id
        # A file-based model's return value is the response as it is (CML); registry models' output
        # goes under "prediction".
        self._raw_response = bool(getattr(model, "raw_response", False))
        self.limiter = InFlightLimiter(max_concurrency)
        self._executor = executor
        if executor is None and not model.inline:
            # One worker: a replica serves one generic prediction at a time, as CML's replicas do.
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="predict")
        self.offload: Offload | None = None  # set by the runner: large calls go to a worker process
        self._busy = _failure(
            "model.busy",
            f"the model is busy ({max_concurrency} calls in flight); retry later or add replicas",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if path == "/model" or path == "/model/":
            if method != "POST":
                await _send(send, 405, _failure("method", "use POST /model"), [(b"allow", b"POST")])
                return
            if not self.limiter.try_acquire():
                await _send(send, 429, self._busy, [(b"retry-after", b"1")])
                return
            try:
                status, body, headers = await self._call_model(scope, receive)
                await _send(send, status, body, headers)
            except _Disconnected:
                pass
            finally:
                self.limiter.release()
        elif path == "/health":
            if method in ("GET", "HEAD"):
                await _send(send, 200, _HEALTH)
            else:
                await _send(send, 405, _failure("method", "use GET /health"), [(b"allow", b"GET")])
        else:
            await _send(send, 404, _failure("path", "no such route; use POST /model or GET /health"))

    async def _call_model(
        self, scope: Scope, receive: Receive
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        if self._api_key_sha256 is not None and not self._authorized(scope["headers"]):
            return (
                401,
                _failure(
                    "auth", "missing or wrong API key: send 'Authorization: Bearer <workspace API key>'"
                ),
                [(b"www-authenticate", b"Bearer")],
            )
        raw = await self._read_body(scope, receive)
        if raw is None:
            message = (
                f"request body too large: the limit is {self._max_body} bytes (keep requests under 5 MB)"
            )
            return 413, _failure("request", message), [(b"connection", b"close")]
        query_key = _query_key(scope)
        if self.offload is not None and len(raw) > self.offload.threshold:
            answer = await self.offload.answer(raw, query_key)
            if answer is not None:
                return answer
        try:
            parsed = self._parse(raw, query_key)
        except _Refused as refusal:
            return refusal.answer
        try:
            if self._model.inline:
                prediction = self._model.predict(parsed)
            else:
                loop = asyncio.get_running_loop()
                prediction = await loop.run_in_executor(self._executor, self._model.predict, parsed)
        except Exception as exc:
            return self._failed(exc)
        return self._finish(prediction)

    def answer(self, raw: bytes, query_key: str | None) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        """A call's whole answer from its body, synchronously (what the large-call worker runs)."""
        try:
            parsed = self._parse(raw, query_key)
            prediction = self._model.predict(parsed)
        except _Refused as refusal:
            return refusal.answer
        except Exception as exc:
            return self._failed(exc)
        return self._finish(prediction)

    def _parse(self, raw: bytes, query_key: str | None) -> Any:
        """The ``request`` object of a call; _Refused (400/404) when the body is not a valid call."""
        try:
            body = json.loads(raw)
        except RecursionError:
            raise _Refused(400, "request", "nesting too deep in the JSON body") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise _Refused(400, "request", f"the body is not valid JSON ({exc})") from None
        if not isinstance(body, dict):
            raise _Refused(
                400, "request", 'the body must be a JSON object: {"accessKey": ..., "request": {...}}'
            )
        if not self._key_matches(body.get("accessKey", query_key)):
            raise _Refused(404, "accessKey", "no model has this access key (send it as accessKey)")
        if "request" not in body:
            raise _Refused(400, "request", 'missing "request": send {"accessKey": ..., "request": {...}}')
        return body["request"]

    @staticmethod
    def _failed(exc: Exception) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        if isinstance(exc, RequestError):
            return 400, _failure("request", str(exc)), []
        if isinstance(exc, RecursionError):
            return 400, _failure("request", "nesting too deep in 'request'"), []
        reason = one_line(exc)
        log.warning("prediction failed: %s", reason)
        return 500, _failure("model", f"prediction failed: {reason}"), []

    def _finish(self, prediction: Any) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        try:
            response = prediction if self._raw_response else {"prediction": prediction}
            payload = json.dumps(
                {"success": True, "response": response, "ReplicaID": self._replica_id},
                allow_nan=False,
            ).encode()
        except (TypeError, ValueError) as exc:
            return 500, _failure("model", f"the model's output is not JSON: {one_line(exc)}"), []
        return 200, payload, []

    def _authorized(self, headers: list[tuple[bytes, bytes]]) -> bool:
        for name, value in headers:
            if name == b"authorization":
                scheme, _, token = value.strip().partition(b" ")
                token = token.strip()
                if scheme.lower() != b"bearer" or not token:
                    return False
                digest = hashlib.sha256(token).hexdigest().encode()
                return hmac.compare_digest(digest, self._api_key_sha256 or b"")
        return False

    def _key_matches(self, key: Any) -> bool:
        if not isinstance(key, str):
            return False
        return hmac.compare_digest(key.encode("utf-8", "surrogatepass"), self._access_key)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it is known to exceed the limit."""
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    if int(value) > self._max_body:
                        return None
                except ValueError:
                    pass
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def _query_key(scope: Scope) -> str | None:
    query = scope.get("query_string") or b""
    if b"accessKey" not in query:
        return None
    values = parse_qs(query.decode("latin-1")).get("accessKey")
    return values[0] if values else None


async def _send(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    head = [_JSON, (b"content-length", str(len(body)).encode()), *(headers or ())]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})
