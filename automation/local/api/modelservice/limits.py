"""The model service's limits, and the per-model lanes that bound calls in flight.

Every limit is enforced before the body is read, or while it is read:

* ``max_body_bytes``: a declared ``Content-Length`` over it is refused with 413 at once; a chunked
  body is cut off (413, connection closed) as soon as it passes it.
* ``header_timeout``: a connection must deliver a request's headers within this many seconds of its
  first byte (or of connecting); otherwise it is closed (protocol.py).
* ``body_timeout``: the whole body must arrive within this many seconds of the headers, else 408
  and the connection is closed, so a slow sender cannot hold a slot.
* Lanes, per model: a call whose declared body is at most ``small_body_bytes`` takes a slot in the
  small lane (``small_concurrency`` slots), any other (larger, or chunked of unknown size) a slot in
  the large lane (``large_concurrency``). A full lane answers 429 ``model.busy`` with
  ``Retry-After`` at once, never a queue. Large batches can therefore never take the slots small
  calls need, and at most ``large_concurrency`` of them reach a deployment at a time.
* ``parse_body_bytes``: the front finds the access key in a body's first bytes (keyscan.py); only a
  body up to this size whose first member is not ``accessKey`` is parsed whole to find it. A larger
  one is refused (400) unless the key comes first or in the query, so a flood of big bodies never
  costs the front a JSON parse.
* ``refusal_rate`` and ``held_refusals``: refusals that leave the body unread are answered at once
  up to ``refusal_rate`` a second; beyond, each is held (at most ``held_refusals`` at a time) until
  its turn (pacing.py), so a flood of refused bodies cannot take the CPU legitimate calls need.

``CMLOPS_MODEL_SERVICE="body_timeout=2,small_concurrency=4"`` overrides any of them (tests, benches).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from automation.local.serving.limiter import InFlightLimiter

ENV = "CMLOPS_MODEL_SERVICE"


@dataclass(frozen=True)
class ServiceLimits:
    max_body_bytes: int = 5 * 1024 * 1024
    small_body_bytes: int = 64 * 1024
    small_concurrency: int = 32
    large_concurrency: int = 1
    header_timeout: float = 10.0
    body_timeout: float = 15.0
    retry_after: int = 1
    parse_body_bytes: int = 256 * 1024
    refusal_rate: float = 20.0
    held_refusals: int = 256

    @classmethod
    def from_env(cls, environ: Mapping[str, str], base: ServiceLimits | None = None) -> ServiceLimits:
        """``base`` (or the defaults) with the overrides of ``$CMLOPS_MODEL_SERVICE``; ValueError names a bad one."""
        limits = base or cls()
        text = environ.get(ENV, "").strip()
        if not text:
            return limits
        types = {f.name: f.type for f in fields(cls)}
        changes: dict[str, int | float] = {}
        for item in text.split(","):
            name, sep, value = item.partition("=")
            name = name.strip()
            if not sep or name not in types:
                raise ValueError(f"{ENV}: unknown setting {item!r}; known: {', '.join(types)}")
            try:
                number = float(value) if types[name] in (float, "float") else int(value)
            except ValueError:
                raise ValueError(f"{ENV}: {name} must be a number, got {value!r}") from None
            if number <= 0:
                raise ValueError(f"{ENV}: {name} must be positive, got {value!r}")
            changes[name] = number
        return replace(limits, **changes)


class Lanes:
    """A model's two lanes of in-flight calls (see the module docstring)."""

    def __init__(self, limits: ServiceLimits) -> None:
        self.small = InFlightLimiter(limits.small_concurrency)
        self.large = InFlightLimiter(limits.large_concurrency)
        self.small_body_bytes = limits.small_body_bytes

    def pick(self, declared_length: int | None) -> InFlightLimiter:
        if declared_length is not None and declared_length <= self.small_body_bytes:
            return self.small
        return self.large
