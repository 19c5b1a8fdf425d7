"""Ownership marks: what a spec created carries its name, so `destroy` deletes only that.

API v2 has no tags on projects, jobs or models, so the mark goes where each create request allows:
an environment variable on projects and jobs (``CMLOPS_SPEC=<spec name>``), a suffix on a model's
description (``[cmlops:<spec name>]``); the registered model keeps its ``cmlops.spec`` tag. Marks
are set when cmlops creates a resource and kept by its updates; a resource found already there is
never marked (adopting it does not make it ours to delete). Plans compare what the spec says, with
the mark left out, so a marked workspace plans no change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

MARK_ENV = "CMLOPS_SPEC"
REGISTRY_TAG = "cmlops.spec"
_DESCRIPTION_MARK = re.compile(r"\s*\[cmlops:([A-Za-z0-9._-]+)\]\s*$")


def created_environment(env: Mapping[str, str] | None, spec_name: str) -> dict[str, str]:
    """The environment of a resource cmlops creates: the spec's, plus the mark."""
    return {**dict(env or {}), MARK_ENV: spec_name}


def without_mark(env: Mapping[str, str] | None) -> dict[str, str]:
    """An observed environment as the spec would write it (the mark left out)."""
    return {k: v for k, v in (env or {}).items() if k != MARK_ENV}


def keep_mark(env: Mapping[str, str] | None, observed: Mapping[str, str] | None) -> dict[str, str]:
    """The environment to send in an update: the spec's, with the observed mark (if any) kept."""
    out = dict(env or {})
    if observed and MARK_ENV in observed:
        out[MARK_ENV] = observed[MARK_ENV]
    return out


def environment_owner(env: Mapping[str, str] | None) -> str | None:
    return (env or {}).get(MARK_ENV) or None


def created_description(description: str | None, spec_name: str) -> str:
    return f"{description or ''} [cmlops:{spec_name}]".lstrip()


def description_text(description: str | None) -> str:
    """An observed description as the spec would write it (the mark left out)."""
    return _DESCRIPTION_MARK.sub("", description or "")


def keep_description_mark(description: str | None, observed: str | None) -> str:
    owner = description_owner(observed)
    return created_description(description, owner) if owner else description or ""


def description_owner(description: str | None) -> str | None:
    found = _DESCRIPTION_MARK.search(description or "")
    return found.group(1) if found else None
