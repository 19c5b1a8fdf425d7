"""Write plain data as readable block YAML with comments (PyYAML's dumper cannot place comments).

Mappings and lists of mappings are written in block style; lists of scalars and small nested data
inside lists (e.g. an example request) in flow style. Scalars are quoted by PyYAML's own rules, so
``"1.0"``, ``"None"``, ``"true"`` or ``"2024-01-31"`` stay text when read back. ``comments`` maps a
key path (a tuple) to a comment written at the end of that key's line; ``None`` as the path key
gives a header.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

Path_ = tuple[Any, ...]


def scalar(value: Any) -> str:
    """One scalar as YAML text (quoted when plain text would be read as something else)."""
    if isinstance(value, str) and value == "":
        return '""'
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def flow(value: Any) -> str:
    """Small nested data on one line: JSON is valid flow YAML."""
    return json.dumps(value, ensure_ascii=False)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _comment(comments: dict[Any, str], path: Path_) -> str:
    text = comments.get(path)
    return f"  # {text}" if text else ""


def _mapping(
    data: dict[str, Any], indent: int, path: Path_, comments: dict[Any, str], out: list[str]
) -> None:
    pad = " " * indent
    for key, value in data.items():
        sub = (*path, key)
        head = f"{pad}{scalar(key)}:"
        note = _comment(comments, sub)
        if indent == 0 and not _is_scalar(value) and out and out[-1] != "":
            out.append("")  # a blank line before each top-level section
        if _is_scalar(value):
            out.append(f"{head} {scalar(value)}{note}")
        elif isinstance(value, dict) and not value:
            out.append(f"{head} {{}}{note}")
        elif isinstance(value, list) and not any(isinstance(v, dict) for v in value):
            out.append(f"{head} {flow(value)}{note}")
        elif isinstance(value, dict):
            out.append(f"{head}{note}")
            _mapping(value, indent + 2, sub, comments, out)
        else:
            out.append(f"{head}{note}")
            _sequence(value, indent + 2, sub, comments, out)


def _sequence(items: list[Any], indent: int, path: Path_, comments: dict[Any, str], out: list[str]) -> None:
    pad = " " * indent
    for i, item in enumerate(items):
        sub = (*path, i)
        if isinstance(item, dict) and item:
            if i and len(path) == 1:
                out.append("")  # top-level lists of mappings (tasks) read better spaced out
            lines: list[str] = []
            _mapping(item, indent + 2, sub, comments, lines)
            first = lines[0].lstrip()
            out.append(f"{pad}- {first}")
            out.extend(lines[1:])
        elif _is_scalar(item):
            out.append(f"{pad}- {scalar(item)}{_comment(comments, sub)}")
        else:
            out.append(f"{pad}- {flow(item)}{_comment(comments, sub)}")


def dump(
    data: dict[str, Any], comments: dict[Any, str] | None = None, header: list[str] | None = None
) -> str:
    """``data`` as block YAML text, with ``# comment`` lines first and per-key comments."""
    comments = comments or {}
    out = [f"# {line}" if line else "#" for line in header or []]
    if out:
        out.append("")
    _mapping(data, 0, (), comments, out)
    return "\n".join(out) + "\n"
