"""Which local files a launch uploads: what CML would have had in the project, and nothing else.

CML creates an AMP's project from a git repository whose root holds ``.project-metadata.yaml``, so
the project holds exactly the repository's committed files. ``upload_set`` applies the same idea to
a local AMP, by one of three rules:

``git``
    The AMP file is ``.project-metadata.yaml`` in a folder of a git work tree: the files git tracks
    under that folder (as CML's clone would have them; untracked files are left out and counted).
``folder``
    The AMP file is ``.project-metadata.yaml`` in a folder that is not in a git work tree: every file
    under the folder except what its ``.gitignore`` files (any level) and ``DEFAULT_IGNORE`` exclude.
``named``
    The AMP file has another name (``my-amp.yaml``): its folder is not an AMP repository, so nothing
    else in it is taken (no stray ``secrets.txt``): only the AMP file (uploaded as
    ``.project-metadata.yaml``) and the files its tasks name (scripts, model files) that exist there.

In every rule a file outside the AMP's folder never goes, a symbolic link leading outside it neither.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from automation.amp.model import AMP_FILENAME, AmpFile
from automation.errors import InputError

MAX_FILES = 5000
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
DEFAULT_IGNORE: tuple[str, ...] = (
    ".git/",
    ".cmlops/",
    "__pycache__/",
    "*.py[cod]",
    ".ipynb_checkpoints/",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
    ".venv/",
    "venv/",
    "*.egg-info/",
    ".DS_Store",
    ".env",
)
"""What a folder upload leaves out besides ``.gitignore``: version control, caches, virtual
environments and local ``.env`` files, none of which a repository clone would carry."""


@dataclass
class UploadSet:
    """The files a launch uploads: project paths, where each comes from, and which rule chose them."""

    root: Path
    files: list[str]
    rule: str  # git | folder | named
    sources: dict[str, Path] = field(default_factory=dict)
    left_out: int = 0

    def source(self, rel: str) -> Path:
        """The local file uploaded as project path ``rel``."""
        return self.sources.get(rel) or self.root / rel

    def describe(self) -> str:
        """One line for the plan: how the files were chosen and what was left out."""
        if self.rule == "git":
            extra = f"; {self.left_out} untracked file(s) left out" if self.left_out else ""
            return f"the files git tracks in {self.root}{extra}"
        if self.rule == "folder":
            extra = f"; {self.left_out} ignored file(s) left out" if self.left_out else ""
            return (
                f"every file in {self.root} that .gitignore and the default ignore list do not exclude{extra}"
            )
        return (
            f"the AMP file and the {len(self.files) - 1} file(s) its tasks name "
            f"(its folder is not an AMP repository: no {AMP_FILENAME}, so nothing else is taken)"
        )


def _git(root: Path, *args: str) -> list[str] | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return [p for p in done.stdout.decode("utf-8", "replace").split("\0") if p]


def _in_work_tree(root: Path) -> bool:
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    return bool(inside) and inside[0].strip() == "true"


def _ignore_spec(folder: Path) -> pathspec.GitIgnoreSpec | None:
    gitignore = folder / ".gitignore"
    if not gitignore.is_file():
        return None
    lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _walk(root: Path) -> tuple[list[str], int]:
    """Files under ``root`` not excluded by ``.gitignore`` (each applies below its folder) or the default list."""
    defaults = pathspec.GitIgnoreSpec.from_lines(DEFAULT_IGNORE)
    kept: list[str] = []
    ignored = 0
    specs: dict[Path, list[tuple[Path, pathspec.GitIgnoreSpec]]] = {}

    def excluded(rel: Path, folder_specs: list[tuple[Path, pathspec.GitIgnoreSpec]], is_dir: bool) -> bool:
        suffix = "/" if is_dir else ""
        if defaults.match_file(rel.as_posix() + suffix):
            return True
        return any(spec.match_file(rel.relative_to(base).as_posix() + suffix) for base, spec in folder_specs)

    def count(folder: Path) -> int:
        return sum(len(files) for _, _, files in os.walk(folder))

    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        rel_dir = here.relative_to(root)
        inherited = specs.get(rel_dir.parent, []) if rel_dir != Path(".") else []
        own = _ignore_spec(here)
        active = [*inherited, (rel_dir, own)] if own is not None else inherited
        specs[rel_dir] = active
        keep_dirs = []
        for name in sorted(dirnames):
            if excluded(rel_dir / name, active, is_dir=True):
                ignored += count(here / name)
            else:
                keep_dirs.append(name)
        dirnames[:] = keep_dirs
        for name in sorted(filenames):
            if excluded(rel_dir / name, active, is_dir=False):
                ignored += 1
            else:
                kept.append((rel_dir / name).as_posix())
    return kept, ignored


def _inside(root: Path, rel: str) -> bool:
    """A regular file under ``root`` whose real location (symlinks followed) is under ``root`` too."""
    path = root / rel
    if not path.is_file():
        return False
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def _checked(root: Path, paths: list[str]) -> list[str]:
    found = sorted({p for p in paths if _inside(root, p)})
    total = sum((root / p).stat().st_size for p in found)
    if len(found) > MAX_FILES or total > MAX_UPLOAD_BYTES:
        raise InputError(
            f"{root} holds {len(found)} files ({total // (1024 * 1024)} MB) to upload; that is too many for an upload",
            hint="create the project from git instead: --git-url https://...",
        )
    return found


def collect_files(root: Path) -> list[str]:
    """Project-relative paths a launch uploads from the AMP repository folder ``root`` (rules git/folder)."""
    return repository_files(root).files


def repository_files(root: Path) -> UploadSet:
    """The ``git`` or ``folder`` rule for the AMP repository folder ``root``."""
    root = root.resolve()
    if _in_work_tree(root):
        tracked = _git(root, "ls-files", "-z", "--cached") or []
        untracked = _git(root, "ls-files", "-z", "--others", "--exclude-standard") or []
        return UploadSet(root, _checked(root, tracked), "git", left_out=len(untracked))
    kept, ignored = _walk(root)
    return UploadSet(root, _checked(root, kept), "folder", left_out=ignored)


def named_files(amp: AmpFile) -> list[str]:
    """The files an AMP's tasks name (scripts, model files), in task order."""
    names: list[str] = []
    for task in amp.tasks:
        for attr in ("script", "target_file_path"):
            value = getattr(task, attr, None)
            if isinstance(value, str) and value and value not in names:
                names.append(value)
    return names


def upload_set(amp_file: str | Path, amp: AmpFile) -> UploadSet:
    """What a launch of the AMP file ``amp_file`` uploads (see the module's three rules)."""
    path = Path(amp_file).resolve()
    root = path.parent
    if path.name == AMP_FILENAME:
        uploads = repository_files(root)
        _require_named(uploads, [AMP_FILENAME, *named_files(amp)])
        return uploads
    wanted = [p for p in named_files(amp) if _inside(root, p)]
    files = _checked(root, wanted)
    return UploadSet(root, sorted([AMP_FILENAME, *files]), "named", sources={AMP_FILENAME: path})


def _require_named(uploads: UploadSet, names: list[str]) -> None:
    """A file the AMP names that the rule leaves out would fail the launch mid-way: refuse it now."""
    left = [n for n in names if n not in uploads.files and (uploads.root / n).is_file()]
    if not left:
        return
    if uploads.rule == "git":
        why, hint = "git does not track them (CML clones what is committed)", "git add (and commit) them"
    else:
        why = "a .gitignore or the default ignore list excludes them"
        hint = "change the .gitignore line that matches them"
    raise InputError(
        f"{uploads.root}: the AMP names {', '.join(left)}, which would not be uploaded: {why}",
        hint=hint,
    )


def changed_files(uploads: UploadSet, present: dict[str, int]) -> list[str]:
    """Files whose project copy has another size than the local one (a launch never overwrites)."""
    return sorted(
        p
        for p, size in present.items()
        if p in uploads.files and uploads.source(p).is_file() and uploads.source(p).stat().st_size != size
    )
