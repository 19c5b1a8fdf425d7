"""Seeded fault injection for the local workspace's API v2 routes (off unless ``CMLOPS_FAULTS`` is set).

Why: the toolkit claims that retries, look-ups by name and resumable applies survive a misbehaving
workspace. The reliability suite proves it against the real local server by making a chosen share of
API requests fail the way real networks and gateways fail::

    CMLOPS_FAULTS="rate=0.2,kinds=500|502|503|429|drop_before|drop_after|slow,seed=7,slow_ms=300"

Kinds: ``500``/``502``/``503`` (an API v2 error body, the request is not acted on), ``429`` (with
``Retry-After: 0``), ``drop_before`` (the connection is closed before the app sees the request),
``drop_after`` (the app acts, then the answer is thrown away and the connection closed) and ``slow``
(``slow_ms`` of added latency, then normal service). Only ``/api/v2`` paths are touched; ``/health``
and the model service never are. Counts per kind are kept in ``<state dir>/faults.json``.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ENV_VAR = "CMLOPS_FAULTS"
KINDS = ("500", "502", "503", "429", "drop_before", "drop_after", "slow")
API_PREFIX = "/api/v2"
_GRPC = {"500": 13, "502": 14, "503": 14, "429": 8}
_ERROR_NAME = {"500": "Internal", "502": "Unavailable", "503": "Unavailable", "429": "ResourceExhausted"}


class FaultConfigError(ValueError):
    """``CMLOPS_FAULTS`` is malformed; the server refuses to start rather than run with a guess."""


@dataclass(frozen=True)
class FaultConfig:
    """What to inject: ``rate`` (0..1) of API requests, drawn uniformly from ``kinds``, with ``seed``."""

    rate: float
    kinds: tuple[str, ...] = KINDS
    seed: int = 0
    slow_ms: int = 300


def parse_faults(text: str) -> FaultConfig:
    """Parse ``rate=R,kinds=A|B,seed=N,slow_ms=M`` strictly (``rate`` required, the rest optional)."""
    fields: dict[str, str] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value:
            raise FaultConfigError(f"{ENV_VAR}: expected key=value, got {part!r}")
        if key not in ("rate", "kinds", "seed", "slow_ms"):
            raise FaultConfigError(f"{ENV_VAR}: unknown key {key!r} (known: rate, kinds, seed, slow_ms)")
        if key in fields:
            raise FaultConfigError(f"{ENV_VAR}: {key!r} given twice")
        fields[key] = value
    if "rate" not in fields:
        raise FaultConfigError(f"{ENV_VAR}: 'rate' is required, e.g. {ENV_VAR}='rate=0.2,seed=7'")
    try:
        rate = float(fields["rate"])
    except ValueError:
        raise FaultConfigError(
            f"{ENV_VAR}: rate must be a number in [0, 1], got {fields['rate']!r}"
        ) from None
    if not 0.0 <= rate <= 1.0:
        raise FaultConfigError(f"{ENV_VAR}: rate must be in [0, 1], got {rate}")
    kinds = KINDS
    if "kinds" in fields:
        kinds = tuple(k.strip() for k in fields["kinds"].split("|"))
        unknown = [k for k in kinds if k not in KINDS]
        if unknown or not kinds:
            raise FaultConfigError(f"{ENV_VAR}: unknown fault kind(s) {unknown} (known: {'|'.join(KINDS)})")
    seed = _int_field(fields, "seed", 0)
    slow_ms = _int_field(fields, "slow_ms", 300)
    if not 0 <= slow_ms <= 60_000:
        raise FaultConfigError(f"{ENV_VAR}: slow_ms must be between 0 and 60000, got {slow_ms}")
    return FaultConfig(rate=rate, kinds=kinds, seed=seed, slow_ms=slow_ms)


def _int_field(fields: Mapping[str, str], key: str, default: int) -> int:
    if key not in fields:
        return default
    try:
        return int(fields[key])
    except ValueError:
        raise FaultConfigError(f"{ENV_VAR}: {key} must be an integer, got {fields[key]!r}") from None


def config_from_env(environ: Mapping[str, str]) -> FaultConfig | None:
    """The fault config from the environment, or None when fault injection is off (the default)."""
    text = environ.get(ENV_VAR, "").strip()
    return parse_faults(text) if text else None


class FaultInjector:
    """ASGI middleware; must wrap the whole app (outermost) so ``send`` is the server's own callable."""

    def __init__(self, app: ASGIApp, config: FaultConfig, counts_file: Path | None = None) -> None:
        self.app = app
        self.config = config
        self.counts_file = counts_file
        self.counts: dict[str, int] = {kind: 0 for kind in config.kinds}
        self.requests = 0
        self._rng = random.Random(config.seed)
        self._lock = threading.Lock()
        self._write_counts()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        kind = self._draw()
        if kind is None:
            await self.app(scope, receive, send)
        elif kind == "slow":
            await asyncio.sleep(self.config.slow_ms / 1000)
            await self.app(scope, receive, send)
        elif kind == "drop_before":
            _drop(send)
        elif kind == "drop_after":
            await self.app(scope, receive, _swallow)
            _drop(send)
        else:
            await _error(send, kind)

    def _draw(self) -> str | None:
        with self._lock:
            self.requests += 1
            if self._rng.random() >= self.config.rate:
                return None
            kind = self._rng.choice(self.config.kinds)
            self.counts[kind] += 1
        self._write_counts()
        return kind

    def _write_counts(self) -> None:
        if self.counts_file is None:
            return
        with self._lock:
            data = {
                "config": _config_dict(self.config),
                "requests": self.requests,
                "injected": dict(self.counts),
            }
        tmp = self.counts_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        tmp.replace(self.counts_file)


def read_counts(state_dir: Path) -> dict[str, Any]:
    """The injector's counters as written in ``<state dir>/faults.json`` ({} when faults are off)."""
    try:
        return json.loads((Path(state_dir) / "faults.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def install(app: Any, state_dir: Path, environ: Mapping[str, str]) -> None:
    """Wrap ``app``'s middleware stack (outermost) when ``CMLOPS_FAULTS`` is set; raise if it is malformed."""
    config = config_from_env(environ)
    counts_file = Path(state_dir) / "faults.json"
    if config is None:
        counts_file.unlink(missing_ok=True)
        return
    build = app.build_middleware_stack

    def build_with_faults() -> ASGIApp:
        return FaultInjector(build(), config, counts_file)

    app.build_middleware_stack = build_with_faults


def _config_dict(config: FaultConfig) -> dict[str, Any]:
    return {"rate": config.rate, "kinds": list(config.kinds), "seed": config.seed, "slow_ms": config.slow_ms}


async def _swallow(message: Message) -> None:
    """The ``send`` of a drop_after request: the app's answer goes nowhere."""


def _drop(send: Send) -> None:
    """Close the client's connection without a (further) byte, as a crashed proxy would.

    uvicorn's per-request ``send`` is a bound method of its request cycle, which holds the transport;
    marking the cycle disconnected keeps uvicorn from writing its own 500 afterwards.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("fault injection needs uvicorn's transport: install FaultInjector outermost")
    cycle.disconnected = True  # type: ignore[union-attr]
    transport.abort()


async def _error(send: Send, kind: str) -> None:
    status = int(kind)
    message = f"injected fault: HTTP {status} (CMLOPS_FAULTS)"
    body = json.dumps(
        {"error": _ERROR_NAME[kind], "code": _GRPC[kind], "message": message, "details": []}
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 429:
        headers.append((b"retry-after", b"0"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
