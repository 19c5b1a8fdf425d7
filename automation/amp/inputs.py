"""What a launch takes in from the user's side: the AMP's environment variables (with overrides and
prompts, secrets masked). The files to upload are ``files.py``'s."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from automation.amp.model import AmpFile, EnvVar
from automation.errors import InputError
from automation.redact import is_secret_name

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


RECORD_VAR = "CMLOPS_AMP_DEFAULTS"
"""Project variable in which a launch records which AMP variables it set to the AMP's default (a
digest of each value, never the value): on a re-launch a variable still holding that value follows
the AMP's default; any other value was set by the user (in the project or with ``--env``) and is kept."""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def launch_record(amp: AmpFile, values: Mapping[str, str]) -> str:
    """The ``RECORD_VAR`` value a launch writing ``values`` leaves: the AMP variables at their default."""
    at_default = {
        name: _digest(values[name])
        for name, var in amp.environment_variables.items()
        if name in values and values[name] == var.value
    }
    return json.dumps(at_default, sort_keys=True, separators=(",", ":"))


def _record_of(project_env: Mapping[str, str]) -> dict[str, str]:
    try:
        record = json.loads(project_env.get(RECORD_VAR) or "{}")
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


@dataclass
class EnvChoice:
    """The project variables a launch sets, which required ones are still empty, and which AMP
    variables keep the value the project holds instead of the AMP's default."""

    values: dict[str, str]
    missing: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def choose_environment(
    amp: AmpFile,
    overrides: Mapping[str, str] | None = None,
    project_env: Mapping[str, str] | None = None,
) -> EnvChoice:
    """Each AMP variable's value: its ``--env`` value; else, in an existing project (``project_env``),
    the value it holds unless that is the default the last launch wrote (``RECORD_VAR``); else the
    AMP's default. Extra ``--env`` names are kept (they become project variables too)."""
    rest = dict(overrides or {})
    record = _record_of(project_env or {})
    choice = EnvChoice(values={})
    for name, var in amp.environment_variables.items():
        if name in rest:
            value = rest.pop(name)
        elif (
            project_env is not None and name in project_env and record.get(name) != _digest(project_env[name])
        ):
            value = project_env[name]
            if value != var.value:
                choice.kept.append(name)
        else:
            value = var.value
        if var.required and not value.strip():
            choice.missing.append(name)
        choice.values[name] = value
    choice.values.update(rest)
    return choice


def environment_values(
    amp: AmpFile,
    overrides: Mapping[str, str] | None = None,
    project_env: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], list[str]]:
    """(values, required names still empty) of ``choose_environment``."""
    choice = choose_environment(amp, overrides, project_env)
    return choice.values, choice.missing


def resolve_environment(
    amp: AmpFile,
    overrides: Mapping[str, str] | None = None,
    *,
    prompt: Callable[[str, EnvVar], str] | None = None,
    project_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The project environment a launch sets (see ``choose_environment``).

    A ``required`` variable left empty is asked for through ``prompt`` (interactive use); without a
    prompt, or when the answer is empty, an InputError (exit 2) names every missing variable. A
    required variable the project already holds a value for is satisfied.
    """
    values, missing = environment_values(amp, overrides, project_env)
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
