"""Bound the number of in-flight model calls, answering the excess at once instead of queueing.

CML answers HTTP 429 ``model.busy`` when a replica cannot take a request; the local endpoint does
the same as soon as more than ``limit`` calls are in flight, so a burst gets a fast, explicit
refusal rather than an unbounded queue and growing memory. The limiter is used from the server's
single event-loop thread only, so a plain counter is enough (no lock).
"""

from __future__ import annotations


class InFlightLimiter:
    """A counter with a ceiling: ``try_acquire`` is False when ``limit`` calls are already in flight."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.in_flight = 0
        self.rejected = 0

    def try_acquire(self) -> bool:
        if self.in_flight >= self.limit:
            self.rejected += 1
            return False
        self.in_flight += 1
        return True

    def release(self) -> None:
        if self.in_flight <= 0:
            raise RuntimeError("release() without a matching try_acquire()")
        self.in_flight -= 1
