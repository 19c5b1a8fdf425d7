"""A live model service front for tests: two uvicorn servers on threads, no workspace.

The upstream is the real model endpoint (``ModelEndpoint``) around a recording fake model; the
front is the real ``ModelServiceFront`` under uvicorn with the header-timeout protocol, routing one
access key to the upstream from a ``RouteTable``. Raw sockets reach it, so tests can send exactly
the bytes an attacker would.
"""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from automation.local.api.modelservice.front import ModelServiceFront
from automation.local.api.modelservice.limits import ServiceLimits
from automation.local.api.modelservice.protocol import with_header_timeout
from automation.local.serving.app import ModelEndpoint
from automation.local.workloads.routes import KeyIndex, Route, RouteTable

KEY = "f" * 32
OTHER_KEY = "0" * 32  # a model that exists but has no running deployment
API_KEY = "front-test-api-key"


class Recorder:
    """A fake model: records each request; a request with ``"hold": true`` waits for ``release``."""

    inline = False

    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()

    def predict(self, request: Any) -> list[Any]:
        self.calls.append(request)
        self.entered.release()
        if isinstance(request, dict) and request.get("hold"):
            self.release.wait(30)
        rows = request.get("input", []) if isinstance(request, dict) else []
        return [len(rows)]


async def _inner_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Stands in for the API app: every other path answers 200 "inner"."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})
    await send({"type": "http.response.body", "body": b"inner"})


@dataclass
class Rig:
    port: int
    model: Recorder
    front: ModelServiceFront
    limits: ServiceLimits
    servers: list[uvicorn.Server] = field(default_factory=list)

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        return sock


def _listen() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def _serve(app: Any, http: Any = "httptools") -> tuple[uvicorn.Server, socket.socket]:
    sock = _listen()
    server = uvicorn.Server(uvicorn.Config(app, http=http, lifespan="on", log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "test server did not start"
        time.sleep(0.01)
    return server, sock


@contextmanager
def running_front(**overrides: Any) -> Iterator[Rig]:
    limits = ServiceLimits(
        **{
            "max_body_bytes": 64 * 1024,
            "small_body_bytes": 4 * 1024,
            "small_concurrency": 2,
            "large_concurrency": 1,
            "header_timeout": 1.0,
            "body_timeout": 1.0,
            **overrides,
        }
    )
    model = Recorder()
    upstream_app = ModelEndpoint(
        model,
        access_key=KEY,
        api_key_sha256=hashlib.sha256(API_KEY.encode()).hexdigest(),
        max_body_bytes=8 * 1024 * 1024,
        max_concurrency=64,
        replica_id="local-test-0",
        executor=ThreadPoolExecutor(max_workers=8),
    )
    upstream, upstream_sock = _serve(upstream_app)
    routes = RouteTable()
    routes.set(KEY, Route("dep-1", upstream_sock.getsockname()[1], auth=True))
    front = ModelServiceFront(
        _inner_app,
        routes=routes,
        keys=KeyIndex(lambda: [KEY, OTHER_KEY]),
        state_of=lambda key: "not deployed" if key == OTHER_KEY else "unknown",
        api_key_sha256=hashlib.sha256(API_KEY.encode()).hexdigest(),
        limits=limits,
        log=logging.getLogger("test.front"),
    )
    server, sock = _serve(front, http=with_header_timeout(limits.header_timeout))
    rig = Rig(sock.getsockname()[1], model, front, limits, [server, upstream])
    try:
        yield rig
    finally:
        model.release.set()
        for s in rig.servers:
            s.should_exit = True
        time.sleep(0.2)


def body(request: Any, key: str = KEY, **extra: Any) -> bytes:
    return json.dumps({"accessKey": key, "request": request, **extra}).encode()


def head(length: int | None, *, auth: bool = True, path: str = "/model") -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: t", "Content-Type: application/json"]
    if auth:
        lines.append(f"Authorization: Bearer {API_KEY}")
    lines.append(f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response (needs Content-Length); status 0 if the server closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return 0, {}, data
        data += chunk
    raw_head, _, rest = data.partition(b"\r\n\r\n")
    lines = raw_head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return int(lines[0].split()[1]), headers, rest[:length]


def closed_by_peer(sock: socket.socket, timeout: float = 10.0) -> bool:
    """True once the server closed the connection (EOF or reset) within ``timeout``."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True
