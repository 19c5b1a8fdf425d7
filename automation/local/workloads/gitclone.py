"""Projects created from ``git_url``: a background ``git clone`` of a local repository.

The local workspace has no network: only a local path or a ``file://`` URL can be cloned (a
relative path is taken from the folder that holds the state folder, i.e. where ``.cmlops/`` lives).
Any other URL ends with ``creation_status`` ``failure`` and the reason in the server log.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from automation.local.core.timefmt import now
from automation.local.state import records
from automation.local.state.records import Project

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

CLONE_TIMEOUT = 600
_REMOTE = re.compile(r"^([a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.IGNORECASE)


def local_source(git_url: str, base: Path) -> tuple[str | None, str]:
    """(what to pass to ``git clone``, or None; why not)."""
    url = git_url.strip()
    if url.lower().startswith("file://"):
        return url, ""
    if _REMOTE.match(url):
        return None, (
            f"cannot clone {url!r}: the local workspace has no network access; "
            "use a local path or a file:// URL"
        )
    path = Path(url).expanduser()
    if not path.is_absolute():
        path = base / path
    if not path.exists():
        return None, f"cannot clone {url!r}: no such local path {path}"
    return str(path.resolve()), ""


def _git(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=CLONE_TIMEOUT, check=False
    )


def clone(ws: Workspace, project_id: str, git_url: str, git_ref: str) -> None:
    log = ws.log.getChild("git")
    dest = ws.paths.project_dir(project_id)

    def finish(status: str, why: str = "") -> None:
        records.patch(ws.store, Project, project_id, creation_status=status, updated_at=now())
        if why:
            log.warning("project %s: %s", project_id, why)
        else:
            log.info("project %s: cloned %s", project_id, git_url)

    source, why = local_source(git_url, ws.paths.root.parent)
    if source is None:
        finish("failure", why)
        return
    try:
        done = _git(["clone", "--quiet", source, str(dest)])
        if done.returncode != 0:
            finish("failure", f"git clone {git_url!r} failed: {done.stderr.strip()[-2000:]}")
            return
        if git_ref:
            done = _git(["checkout", "--quiet", git_ref], cwd=dest)
            if done.returncode != 0:
                finish("failure", f"git checkout {git_ref!r} failed: {done.stderr.strip()[-2000:]}")
                return
    except (OSError, subprocess.TimeoutExpired) as exc:
        finish("failure", f"git clone {git_url!r} failed: {exc}")
        return
    finish("success")


def clone_in_background(ws: Workspace, project_id: str, git_url: str, git_ref: str) -> None:
    threading.Thread(
        target=clone, args=(ws, project_id, git_url, git_ref), name=f"clone-{project_id}", daemon=True
    ).start()
