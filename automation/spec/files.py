"""Checks that need the file system: the files a spec names exist inside the repo.

Kept apart from loading so the loader (and its tests) never depend on files; ``cmlops validate`` runs
both. Symlinks are resolved, so a link pointing outside the repo is refused like ``../x``.
"""

from __future__ import annotations

from pathlib import Path

from automation.spec.models import CmlTarget, Spec

MAX_UPLOAD_FILES = 5000
"""More matches than this means a glob such as ``**/*`` caught far more than the project needs."""
_SKIPPED_PARTS = {".git", "__pycache__", ".cmlops"}


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def source_files(spec: Spec, repo_root: Path | None = None) -> list[str]:
    """Repo-relative POSIX paths the DEV project uploads (sorted, unique); [] for a git source.

    Raises SpecError (at the glob) when a glob matches nothing, a match leaves the repo through a
    symlink, or the total is implausibly large. Folders matched by a glob contribute the files under them.
    """
    source = spec.projects.dev.source
    if source is None or source.files is None:
        return []
    root = (repo_root or spec.repo_root).resolve()
    found: set[str] = set()
    for index, pattern in enumerate(source.files):
        where = ("projects", "dev", "source", "files", index)
        matches = 0
        try:
            matched = sorted(root.glob(pattern))
        except (ValueError, IndexError, OSError) as exc:
            raise spec.error(where, f"cannot expand the glob {pattern!r}: {exc}") from None
        for match in matched:
            rel_parts = match.relative_to(root).parts
            if _SKIPPED_PARTS & set(rel_parts):
                continue
            if not _inside(match, root):
                raise spec.error(
                    where, f"'{match.relative_to(root)}' (matched by {pattern!r}) leads outside the repo"
                )
            candidates = [match] if match.is_file() else sorted(p for p in match.rglob("*") if p.is_file())
            for candidate in candidates:
                rel = candidate.relative_to(root)
                if _SKIPPED_PARTS & set(rel.parts):
                    continue
                if not _inside(candidate, root):
                    raise spec.error(where, f"'{rel}' (matched by {pattern!r}) leads outside the repo")
                found.add(rel.as_posix())
                matches += 1
            if len(found) > MAX_UPLOAD_FILES:
                raise spec.error(
                    where,
                    f"the globs match more than {MAX_UPLOAD_FILES} files",
                    hint="list only what the project needs (code, requirements)",
                )
        if matches == 0:
            raise spec.error(
                where,
                f"the glob {pattern!r} matches no file under {root}",
                hint="globs are relative to the repo root",
            )
    return sorted(found)


def scripts(spec: Spec) -> list[tuple[tuple[str, ...], str]]:
    """(field path, script) of every job and application, in file order."""
    found = [(("jobs", name, "script"), job.script) for name, job in spec.jobs.items()]
    found += [(("applications", name, "script"), app.script) for name, app in spec.applications.items()]
    return found


def check_files(spec: Spec, repo_root: Path | None = None) -> list[str]:
    """Check that the files the spec names exist in the repo; return the files the DEV project uploads.

    - every job's and application's script exists, is a file, and stays inside the repo;
    - every ``files:`` glob matches something, and the uploaded set includes every script;
    - a target's ``ca_bundle`` exists.
    Raises SpecError located at the offending field.
    """
    root = (repo_root or spec.repo_root).resolve()
    for field, script in scripts(spec):
        script_path = root / script
        if not _inside(script_path, root):
            raise spec.error(field, f"the script {script!r} leads outside the repo (symlink)")
        if not script_path.is_file():
            raise spec.error(
                field,
                f"the script {script!r} does not exist under {root}",
                hint="the script path is relative to the repo root",
            )
    uploaded = source_files(spec, root)
    source = spec.projects.dev.source
    if source is not None and source.files is not None:
        for _field, script in scripts(spec):
            if script not in uploaded:
                raise spec.error(
                    ("projects", "dev", "source", "files"),
                    f"the script {script!r} is not among the uploaded files",
                    hint=f"add {script!r} (or a glob matching it) to projects.dev.source.files",
                    key=True,
                )
    for name, target in spec.targets.items():
        if isinstance(target, CmlTarget) and target.ca_bundle:
            bundle = Path(target.ca_bundle)
            bundle = bundle if bundle.is_absolute() else root / bundle
            if not bundle.is_file():
                raise spec.error(
                    ("targets", name, "ca_bundle"), f"the CA bundle {str(bundle)!r} does not exist"
                )
    return uploaded
