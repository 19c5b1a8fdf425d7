"""Plain-text tables for human output: aligned columns, no markup, one row a line (greppable)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def format_table(rows: Sequence[Sequence[Any]], *, indent: str = "") -> list[str]:
    """Lines of ``rows`` (the first is the header) with every column padded to its widest cell."""
    cells = [["-" if c is None or c == "" else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return [
        indent + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]


def metrics_text(metrics: dict[str, float] | None) -> str:
    return ", ".join(f"{k}={v:.4f}" for k, v in sorted((metrics or {}).items()))
