"""Access key -> live deployment, in memory, kept per deployment.

The deployment supervisor writes the table (a deployment becomes ``deployed``: it joins its
model's live set; it stops, fails or is restarted: it leaves it), and the model service reads it on
every call without a lock (a dict read is atomic in CPython). The table is kept by deployment, not
by model: each model's route is *derived* from its live deployments (the one made live last
answers), so stopping any one deployment can never take the route of another live one with it.
Keys of models with no live deployment come from a ``KeyIndex``: all models' access keys, re-read
from the store at most once a second and only on a miss, so a flood of bogus keys costs one small
query a second, never one per request.
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
    """Live routes; written by the supervisor's threads, read by the event loop.

    ``_live`` holds every live deployment (id -> access key, route, activation order); ``_routes``
    is derived from it after each write (access key -> the live deployment activated last), so a
    read is one dict lookup and a write never loses another deployment's route.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: dict[str, tuple[str, Route, int]] = {}
        self._routes: dict[str, Route] = {}
        self._order = 0

    def get(self, access_key: str) -> Route | None:
        return self._routes.get(access_key)

    def set(self, access_key: str, route: Route) -> None:
        """Deployment ``route.deployment_id`` of the model with ``access_key`` is live (and answers)."""
        with self._lock:
            self._order += 1
            self._live[route.deployment_id] = (access_key, route, self._order)
            self._derive(access_key)

    def drop_deployment(self, deployment_id: str) -> None:
        """The deployment no longer serves; its model falls back to its other live deployment, if any."""
        with self._lock:
            entry = self._live.pop(deployment_id, None)
            if entry is not None:
                self._derive(entry[0])

    def live(self, access_key: str) -> list[str]:
        """The live deployments of a model, the one answering first."""
        entries = sorted((e for e in self._live.values() if e[0] == access_key), key=lambda e: -e[2])
        return [route.deployment_id for _, route, _ in entries]

    def clear(self) -> None:
        with self._lock:
            self._live = {}
            self._routes = {}

    def _derive(self, access_key: str) -> None:
        best = max((e for e in self._live.values() if e[0] == access_key), key=lambda e: e[2], default=None)
        routes = dict(self._routes)
        if best is None:
            routes.pop(access_key, None)
        else:
            routes[access_key] = best[1]
        self._routes = routes


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
