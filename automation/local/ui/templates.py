"""Jinja2 templates of the web UI (autoescaped), and the static files' folder."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(HERE / "html")),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ago"] = _ago
    env.filters["seconds"] = _seconds
    env.filters["when"] = _when
    return env


def render(name: str, **context: Any) -> str:
    return str(_environment().get_template(name).render(**context))


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 60:
        return f"{value:.1f} s"
    minutes, secs = divmod(int(value), 60)
    return f"{minutes} min {secs:02d} s"


def _when(ts: float | None) -> str:
    if not ts:
        return "-"
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _ago(ts: float | None, now: float) -> str:
    if not ts:
        return "-"
    return _seconds(max(0.0, now - ts)) + " ago"
