"""What the planners share: diffs, masking of secrets in shown changes, observed job fields."""

from __future__ import annotations

from typing import Any

from automation.reconcile.ownership import without_mark
from automation.redact import MASK, is_secret_name

# Job fields a live CML may leave unchanged after a PATCH: apply then replaces the job.
JOB_FIELDS_CML_MAY_IGNORE = ("script", "arguments", "runtime_identifier")


def diff(current: dict[str, Any], desired: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [current.get(k), v] for k, v in desired.items() if current.get(k) != v}


def masked_changes(
    spec: Any, section: tuple[str, ...], changes: dict[str, list[Any]]
) -> dict[str, list[Any]]:
    """``changes`` safe to show: a field that came from ``${env:...}`` is masked whole; in an
    ``environment`` map, a value is masked when the spec's value is a secret, its name looks like
    one (KEY, TOKEN, SECRET, PASSW, CREDENTIAL) or it is being removed (where it came from is
    unknown). A changed secret shows as ``*** (changed)``, so the plan still says what moves."""
    is_secret = spec.is_secret
    out: dict[str, list[Any]] = {}
    for name, (current, desired) in changes.items():
        if is_secret((*section, name)):
            out[name] = [MASK if current else current, f"{MASK} (changed)"]
        elif name == "environment":  # desired environments are always maps (desired.environment)
            old = dict(current or {})
            hidden = {
                k
                for k in {*old, *desired}
                if is_secret((*section, name, k)) or is_secret_name(k) or k not in desired
            }
            out[name] = [
                {k: MASK if k in hidden else v for k, v in old.items()},
                {
                    k: (MASK if old.get(k) == v else f"{MASK} (changed)") if k in hidden else v
                    for k, v in desired.items()
                },
            ]
        else:
            out[name] = [current, desired]
    return out


def job_fields(job: Any, keys: Any, names: dict[str, str] | None = None) -> dict[str, Any]:
    """A job's (or application's) fields as the spec would write them: its ownership mark left out,
    ``after`` as the parent job's name (``names``: job id -> name; an unknown parent stays its id)."""

    def value(k: str) -> Any:
        if k == "environment":
            return without_mark(job.environment)
        if k == "after":
            return (names or {}).get(job.parent_id, job.parent_id) or None
        return getattr(job, k)

    return {k: value(k) for k in keys}


def file_changes(local: dict[str, int], remote: dict[str, int]) -> dict[str, list[Any]]:
    """Files to upload (``local``: path -> size): missing remotely, or with another size
    ([remote size or None, local size])."""
    return {p: [remote.get(p), size] for p, size in sorted(local.items()) if remote.get(p) != size}
