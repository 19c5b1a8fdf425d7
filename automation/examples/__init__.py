"""Ready-made projects ``cmlops init`` writes: the flagship example plus a .gitignore and a CI workflow.

The example's files exist once, at the repo root (``specs/``, ``code/``, ``requirements.txt``). A built
wheel carries a copy under ``automation/examples/<name>/`` (setup.py copies them at build time); a
source checkout or an editable install reads them from the repo root. Nothing here prints or exits.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from automation import __version__
from automation.errors import InputError

EXAMPLES = ("wine-quality",)
_PACKAGE_DIR = Path(__file__).resolve().parent
_SOURCE_ROOT = _PACKAGE_DIR.parents[1]  # the repo root, in a source checkout
_SPEC_SCHEMA_COMMENT = "# yaml-language-server: $schema="


@dataclass(frozen=True)
class ExampleFile:
    """One file of a project to write: its path in the project and its content."""

    path: str
    content: bytes


def example_root(name: str) -> Path:
    """Where the example's files are: inside the installed package, else the source checkout's root."""
    if name not in EXAMPLES:
        raise InputError(
            f"--example {name!r} is not an example", hint=f"choose one of: {', '.join(EXAMPLES)}"
        )
    packaged = _PACKAGE_DIR / name
    if (packaged / "specs").is_dir():
        return packaged
    if (_SOURCE_ROOT / "specs" / f"{name}.yaml").is_file() and (_SOURCE_ROOT / "code").is_dir():
        return _SOURCE_ROOT
    raise InputError(
        f"the {name} example is missing from this installation ({packaged})",
        hint="reinstall cmlops from a wheel or an sdist (pip install --force-reinstall cmlops)",
    )


def _example_files(name: str) -> list[ExampleFile]:
    root = example_root(name)
    files = [_spec_file(root / "specs" / f"{name}.yaml", f"specs/{name}.yaml")]
    files.append(ExampleFile("requirements.txt", (root / "requirements.txt").read_bytes()))
    for path in sorted((root / "code").rglob("*.py")):
        if "__pycache__" not in path.parts:
            files.append(ExampleFile(path.relative_to(root).as_posix(), path.read_bytes()))
    return files


def _spec_file(path: Path, rel: str) -> ExampleFile:
    """The spec, less its editor-schema comment (it points into cmlops' own source tree)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    if lines and lines[0].startswith(_SPEC_SCHEMA_COMMENT):
        lines = lines[1:]
        while lines and lines[0].strip() == "#":
            lines = lines[1:]
    return ExampleFile(rel, "".join(lines).encode("utf-8"))


def _template(name: str) -> str:
    return resources.files("automation.examples").joinpath("templates", name).read_text(encoding="utf-8")


def project_files(name: str = "wine-quality") -> list[ExampleFile]:
    """Every file of a new project made from the example ``name``."""
    spec = f"specs/{name}.yaml"
    workflow = _template("github-workflow.yml").replace("{{SPEC}}", spec).replace("{{VERSION}}", __version__)
    return [
        *_example_files(name),
        ExampleFile(".gitignore", _template("gitignore").encode("utf-8")),
        ExampleFile(".github/workflows/cmlops.yml", workflow.encode("utf-8")),
    ]


def write_project(folder: Path, name: str = "wine-quality") -> list[Path]:
    """Write a new project into ``folder`` (created if missing); refuse before writing if any file exists."""
    files = project_files(name)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} exists and is not a folder", hint="name a new or empty folder")
    taken = [f.path for f in files if (folder / f.path).exists() or (folder / f.path).is_symlink()]
    if taken:
        raise InputError(
            f"{folder / taken[0]} already exists; cmlops init never overwrites a file"
            + (f" ({len(taken) - 1} more would be overwritten)" if len(taken) > 1 else ""),
            hint="run cmlops init in a new or empty folder: cmlops init my-project",
        )
    written = []
    for f in files:
        target = folder / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.content)
        written.append(target)
    return written
