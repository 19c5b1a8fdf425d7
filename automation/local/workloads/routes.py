"""Access key -> live deployment, in memory.

The deployment supervisor writes the table (a deployment becomes ``deployed``: its key points at its
port; it stops: the entry goes), and the model service reads it on every call without a lock
(a dict read is atomic in CPython). Keys of models with no live deployment come from a
``KeyIndex``: all models' access keys, re-read from the store at most once a second and only on a
miss, so a flood of bogus keys costs one small query a second, never one per request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    deployment_id: str
    port: int
    auth: bool


class RouteTable:
    """Live routes; written by the supervisor's threads, read by the event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[str, Route] = {}

    def get(self, access_key: str) -> Route | None:
        return self._routes.get(access_key)

    def set(self, access_key: str, route: Route) -> None:
        with self._lock:
            self._routes[access_key] = route

    def drop_deployment(self, deployment_id: str) -> None:
        with self._lock:
            self._routes = {k: r for k, r in self._routes.items() if r.deployment_id != deployment_id}

    def clear(self) -> None:
        with self._lock:
            self._routes = {}


class KeyIndex:
    """Which access keys belong to a model at all, refreshed from ``load`` at most every ``max_age`` s."""

    def __init__(
        self,
        load: Callable[[], Iterable[str]],
        max_age: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._max_age = max_age
        self._clock = clock
        self._keys: frozenset[str] = frozenset()
        self._loaded_at: float | None = None

    def known(self, access_key: str) -> bool:
        if access_key in self._keys:
            return True
        now = self._clock()
        if self._loaded_at is None or now - self._loaded_at >= self._max_age:
            self._keys = frozenset(self._load())
            self._loaded_at = now
        return access_key in self._keys
