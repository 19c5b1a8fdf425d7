"""The promotion record: tags on registered model versions, and the history read back from them.

CML's registry has no event log of its own, so each promotion writes its facts onto the version it
touched (``update_version`` tags): the version put into PRD gets ``stage=production``,
``promoted_at``, ``from_run``, ``gates`` and ``git_commit``; the version it replaced gets
``stage=archived``; a version rolled back from gets ``stage=rolled_back``; a candidate that failed
its build, deployment or smoke test gets ``stage=rejected``. ``history`` reads these tags back, and
``rollback_target`` picks "the previous good version" from them.

Each version carries the facts of its latest promotion only: the history lists versions in the
order of their latest event, which is what rollback needs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from automation.api.types import RegisteredModelVersion
from automation.reconcile.selection import REJECTED_STAGE, STAGE_TAG

STAGE = STAGE_TAG
PROMOTED_AT = "promoted_at"
FROM_RUN = "from_run"
GATES = "gates"
GIT_COMMIT = "git_commit"
PROMOTED_BY = "promoted_by"  # promote | rollback
REPLACED = "replaced_version"
ARCHIVED_AT = "archived_at"
ROLLED_BACK_AT = "rolled_back_at"
REJECTED_AT = "rejected_at"
REJECTED_STEP = "rejected_step"

PRODUCTION = "production"
ARCHIVED = "archived"
ROLLED_BACK = "rolled_back"
REJECTED = REJECTED_STAGE
STAGES = (PRODUCTION, ARCHIVED, ROLLED_BACK, REJECTED)

# Where CI systems put the commit being built: GitHub Actions, GitLab CI, Jenkins (git plugin).
COMMIT_VARIABLES = ("GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT")


def utc_now_iso() -> str:
    """Now, as the ISO 8601 UTC string every promotion tag uses (sortable as text)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def git_commit(env: Mapping[str, str] | None = None) -> str | None:
    """The commit CI is building, from the first CI variable that is set."""
    env = os.environ if env is None else env
    for name in COMMIT_VARIABLES:
        value = (env.get(name) or "").strip()
        if value:
            return value
    return None


def compact_gates(gates: list[dict[str, Any]]) -> str:
    """Gate results as compact JSON (tag values are short strings)."""
    rows = [
        {
            "gate": g["gate"],
            "metric": g["metric"],
            "value": None if g["value"] is None else round(float(g["value"]), 6),
            "threshold": g["threshold"],
            "passed": bool(g["passed"]),
        }
        for g in gates
    ]
    return json.dumps(rows, separators=(",", ":"))


def promotion_tags(
    *,
    run_id: str,
    gates: list[dict[str, Any]] | None,
    action: str,
    replaced: int | None,
    now: str,
    commit: str | None,
) -> dict[str, str]:
    """Tags for the version that now serves in PRD (``gates=None`` keeps the version's old gate tag)."""
    tags = {STAGE: PRODUCTION, PROMOTED_AT: now, FROM_RUN: run_id, PROMOTED_BY: action}
    if gates is not None:
        tags[GATES] = compact_gates(gates)
    if replaced is not None:
        tags[REPLACED] = str(replaced)
    if commit:
        tags[GIT_COMMIT] = commit
    return tags


def retired_tags(*, stage: str, now: str) -> dict[str, str]:
    """Tags for a version that no longer serves: archived (replaced) or rolled_back (undone)."""
    return {STAGE: stage, ARCHIVED_AT if stage == ARCHIVED else ROLLED_BACK_AT: now}


def rejected_tags(*, run_id: str, step: str, now: str, commit: str | None) -> dict[str, str]:
    """Tags for a candidate whose build, deployment or smoke test failed (PRD was put back)."""
    tags = {STAGE: REJECTED, REJECTED_AT: now, REJECTED_STEP: step, FROM_RUN: run_id}
    if commit:
        tags[GIT_COMMIT] = commit
    return tags


def merged_tags(version: RegisteredModelVersion | None, new: dict[str, str]) -> dict[str, str]:
    """The version's tags with ``new`` on top: the full set is sent, whatever PATCH semantics apply."""
    out = dict(version.tag_map) if version is not None else {}
    out.update(new)
    return out


@dataclass
class HistoryEntry:
    """One version's latest promotion event, as its tags tell it."""

    version: int
    version_id: str
    stage: str
    at: str
    promoted_at: str | None = None
    promoted_by: str | None = None
    from_run: str | None = None
    git_commit: str | None = None
    replaced_version: int | None = None
    rejected_step: str | None = None
    gates: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _gates(text: str | None) -> list[dict[str, Any]]:
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def entry_of(version: RegisteredModelVersion) -> HistoryEntry | None:
    """The promotion facts of one version, or None when no promotion ever touched it."""
    tags = version.tag_map
    stage = tags.get(STAGE)
    if stage not in STAGES:
        return None
    times = [tags[k] for k in (PROMOTED_AT, ARCHIVED_AT, ROLLED_BACK_AT, REJECTED_AT) if tags.get(k)]
    replaced = tags.get(REPLACED)
    return HistoryEntry(
        version=int(version.number),
        version_id=version.model_version_id,
        stage=stage,
        at=max(times) if times else "",
        promoted_at=tags.get(PROMOTED_AT),
        promoted_by=tags.get(PROMOTED_BY),
        from_run=tags.get(FROM_RUN) or version.run_id or None,
        git_commit=tags.get(GIT_COMMIT),
        replaced_version=int(replaced) if replaced and replaced.isdigit() else None,
        rejected_step=tags.get(REJECTED_STEP),
        gates=_gates(tags.get(GATES)),
    )


def history(versions: list[RegisteredModelVersion]) -> list[HistoryEntry]:
    """Every version a promotion touched, newest event first; one promotion tags two versions at the
    same instant, and then the one now in production comes first."""
    entries = [e for e in (entry_of(v) for v in versions) if e is not None]
    return sorted(entries, key=lambda e: (e.at, e.stage == PRODUCTION, e.version), reverse=True)


def rollback_target(entries: list[HistoryEntry], current_version_id: str | None) -> HistoryEntry | None:
    """The previous good version: of the versions that served in PRD (``production`` or ``archived``;
    never one rejected or rolled back from) other than the current one, the one that served last."""
    good = [e for e in entries if e.version_id != current_version_id and e.stage in (PRODUCTION, ARCHIVED)]
    return max(good, key=lambda e: (e.at, e.version), default=None)


def load_history(client: Any, spec: Any, *, model: str | None = None) -> list[HistoryEntry]:
    """The promotion history of a registered model of the spec (``model``: its name, None when the
    spec has one), empty when it does not exist yet."""
    registered = client.registry.find(spec.model_named(model).registered_name)
    return history(client.registry.versions(registered.model_id)) if registered else []
