"""What a launch takes in from the user's side: the AMP's environment variables (with overrides and
prompts, secrets masked) and the repository files to upload."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath

from automation.amp.model import AmpFile, EnvVar
from automation.errors import InputError
from automation.redact import is_secret_name

MAX_FILES = 5000
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
SKIPPED_PARTS = frozenset({".git", ".cmlops", "__pycache__"})
SKIPPED_TOP = frozenset({"data"})
MASK = "****"


# --- environment --------------------------------------------------------------------------------------


def masked(env: Mapping[str, str]) -> dict[str, str]:
    return {k: (MASK if v and is_secret_name(k) else v) for k, v in env.items()}


def parse_env_pairs(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["A=1", "B=x=y"]`` -> ``{"A": "1", "B": "x=y"}``; an InputError names a malformed pair."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise InputError(
                f"--env {pair.split('=')[0]!r}: expected NAME=VALUE",
                hint="e.g. --env MODEL_NAME=wine-quality",
            )
        out[name] = value
    return out


def environment_values(
    amp: AmpFile, overrides: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """(values, required names still empty): each variable's ``--env`` value, else its default; extra
    ``--env`` names are kept (they become project variables too)."""
    rest = dict(overrides or {})
    values: dict[str, str] = {}
    missing: list[str] = []
    for name, var in amp.environment_variables.items():
        value = rest.pop(name) if name in rest else var.value
        if var.required and not value.strip():
            missing.append(name)
        values[name] = value
    values.update(rest)
    return values, missing


def resolve_environment(
    amp: AmpFile,
    overrides: Mapping[str, str] | None = None,
    *,
    prompt: Callable[[str, EnvVar], str] | None = None,
) -> dict[str, str]:
    """The project environment a launch sets (see ``environment_values``).

    A ``required`` variable left empty is asked for through ``prompt`` (interactive use); without a
    prompt, or when the answer is empty, an InputError (exit 2) names every missing variable.
    """
    values, missing = environment_values(amp, overrides)
    if prompt is not None:
        for name in missing:
            values[name] = prompt(name, amp.environment_variables[name])
        missing = [name for name in missing if not values[name].strip()]
    if missing:
        raise InputError(
            f"required AMP variable{'s' if len(missing) > 1 else ''} without a value: {', '.join(missing)}",
            hint="give "
            + " ".join(f"--env {n}=..." for n in missing)
            + " (or run interactively to be asked)",
        )
    return values


# --- files ----------------------------------------------------------------------------------------------


def _git_files(root: Path) -> list[str] | None:
    """Files git tracks or would track (not ignored) under ``root``; None when it is not a git checkout."""
    try:
        inside = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--is-inside-work-tree"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return None
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if listed.returncode != 0:
        return None
    return [p for p in listed.stdout.decode("utf-8", "replace").split("\0") if p]


def _walk_files(root: Path) -> list[str]:
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root)
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIPPED_PARTS and not (rel_dir == Path(".") and d in SKIPPED_TOP)
        )
        out.extend((rel_dir / f).as_posix() for f in filenames)
    return out


def collect_files(root: Path) -> list[str]:
    """Project-relative paths to upload: what git tracks (plus untracked, not ignored) in a checkout,
    else every file except .git, .cmlops, __pycache__ and the top-level data/ folder."""
    root = root.resolve()
    listed = _git_files(root)
    paths = listed if listed is not None else _walk_files(root)
    found: list[str] = []
    total = 0
    for rel in sorted(set(paths)):
        parts = PurePosixPath(rel).parts
        if SKIPPED_PARTS & set(parts) or (parts and parts[0] in SKIPPED_TOP and listed is None):
            continue
        path = root / rel
        if not path.is_file() or (path.is_symlink() and root not in path.resolve().parents):
            continue
        total += path.stat().st_size
        found.append(rel)
    if len(found) > MAX_FILES or total > MAX_UPLOAD_BYTES:
        raise InputError(
            f"{root} holds {len(found)} files ({total // (1024 * 1024)} MB) to upload; that is too many for an upload",
            hint="create the project from git instead: --git-url https://...",
        )
    return found


def changed_files(root: Path, present: Mapping[str, int]) -> list[str]:
    """Files whose project copy has another size than the local one (a launch never overwrites)."""
    return sorted(
        p for p, size in present.items() if (root / p).is_file() and (root / p).stat().st_size != size
    )
