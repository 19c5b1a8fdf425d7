"""RFC 3339 timestamps as API v2 renders them: UTC, fractional seconds, ``Z``."""

from __future__ import annotations

import time
from datetime import datetime, timezone

DEFAULT_TIMEZONE = "America/Los_Angeles"  # CML's default for a job's schedule


def now() -> float:
    return time.time()


def rfc3339(ts: float | None) -> str | None:
    """Epoch seconds -> ``2025-01-02T03:04:05.678901Z``; ``None`` stays ``None`` (an unset Timestamp)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ms_rfc3339(ms: int | None) -> str | None:
    """MLflow keeps milliseconds since the epoch."""
    return None if ms is None else rfc3339(ms / 1000.0)
