"""GitHub Actions output: errors as annotations on the file and line, results as a job summary.

Active only under GitHub Actions (``GITHUB_ACTIONS=true``). Workflow commands go to stderr (the
runner reads both streams), so ``-o json`` keeps stdout one document; the summary is appended to
the file ``GITHUB_STEP_SUMMARY`` names.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS", "").lower() == "true"


def _escape(text: str, *, prop: bool = False) -> str:
    """Workflow-command escaping (%, CR, LF; and : , in properties)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def _relative(file: str) -> str:
    """A path the annotation can point at: relative to the checkout (GITHUB_WORKSPACE) when inside it."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    try:
        path = Path(file).resolve()
        return path.relative_to(Path(workspace).resolve()).as_posix() if workspace else file
    except (ValueError, OSError):
        return file


def annotation(
    level: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    col: int | None = None,
    title: str | None = None,
) -> str:
    """One ``::error`` / ``::warning`` / ``::notice`` command line."""
    props = []
    if file:
        props.append(f"file={_escape(_relative(file), prop=True)}")
    if line:
        props.append(f"line={line}")
    if col:
        props.append(f"col={col}")
    if title:
        props.append(f"title={_escape(title, prop=True)}")
    return f"::{level}{' ' + ','.join(props) if props else ''}::{_escape(message)}"


def error_annotation(exc: Any) -> str:
    """The annotation of a cmlops error: at the spec's file and line when it is a spec error."""
    title = f"cmlops: {type(exc).__name__} (exit {exc.exit_code})"
    text = exc.message + (f"\n{exc.hint}" if getattr(exc, "hint", None) else "")
    return annotation(
        "error",
        text,
        file=getattr(exc, "file", None),
        line=getattr(exc, "line", None),
        col=getattr(exc, "column", None),
        title=title,
    )


def add_summary(markdown: str) -> bool:
    """Append ``markdown`` to the job summary; False when there is none to write to."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return False
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(markdown.rstrip() + "\n\n")
    return True


def _cell(value: Any) -> str:
    return str(value if value not in (None, "") else "-").replace("|", "\\|").replace("\n", " ")


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def plan_summary(spec_path: str, plan: Any) -> str:
    """The job summary of a plan: one row per action, changes first."""
    n = len(plan.changes)
    head = f"### cmlops plan `{spec_path}`\n\n" + (
        f"**{n} change(s)**, {len(plan.actions) - n} up to date."
        if n
        else "**No changes**: the workspace matches the spec."
    )
    rows = [
        [a.kind, a.resource, a.name, a.reason] for a in sorted(plan.actions, key=lambda a: a.kind == "noop")
    ]
    return head + "\n\n" + markdown_table(["action", "resource", "name", "reason"], rows)
