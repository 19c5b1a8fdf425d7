"""Per-invocation CLI state: output mode, verbosity, and how to reach the workspace."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from automation.redact import Redactor

if TYPE_CHECKING:
    from automation.api import CMLClient
    from automation.api.base import WaitEvent
    from automation.cli.progress import Progress
    from automation.settings import Settings
    from automation.spec import Spec

CURRENT: CliContext | None = None
# What the embedded local workspace imports (the `local` extra); checked before anything is written.
LOCAL_EXTRA_MODULES = ("fastapi", "uvicorn", "httptools", "a2wsgi", "mlflow", "sklearn", "psutil", "filelock")
# Every secret a command learns (API key, the spec's ${env:...} values) joins this redactor, which
# filters all of the CLI's output (see automation.cli.main).
OUTPUT_REDACTOR = Redactor()


@dataclass
class CliContext:
    output: str = "text"
    verbose: int = 0
    target: str | None = None
    url: str | None = None
    ca_bundle: str | None = None
    insecure: bool = False
    state_dir: str | None = None
    profile: str | None = None
    _console: Any = field(default=None, repr=False)
    _reporter: Any = field(default=None, repr=False)
    local_workspace_dir: Path | None = None  # set once a command connects to the local workspace
    resolved: Settings | None = field(default=None, repr=False)  # the settings the client was made with

    def __post_init__(self) -> None:
        global CURRENT
        CURRENT = self

    # -- output -----------------------------------------------------------------------------

    @property
    def json(self) -> bool:
        return self.output == "json"

    def emit(self, data: dict[str, Any], text: Callable[[], None] | str | None = None) -> None:
        """Print the command's result: one JSON document, or human text."""
        self.close()
        if self.json:
            click.echo(json.dumps(data, indent=2, default=str))
        elif callable(text):
            text()
        elif text is not None:
            click.echo(text)

    @property
    def console(self) -> Any:
        """A rich console on stderr for progress (also in JSON mode: stdout keeps the one document)."""
        if self._console is None:
            from rich.console import Console

            # soft_wrap: long ids and paths stay on one line in CI logs and pipes (greppable).
            self._console = Console(stderr=True, highlight=False, soft_wrap=True)
        return self._console

    @property
    def stdout_console(self) -> Any:
        """A rich console on stdout for a command's human result (plain text when piped)."""
        from rich.console import Console

        return Console(highlight=False, soft_wrap=True)

    def trace(self, line: str) -> None:
        click.echo(line, err=True)

    @property
    def reporter(self) -> Progress:
        """The progress renderer (automation.cli.progress) on the stderr console."""
        if self._reporter is None:
            from automation.cli.progress import Progress

            self._reporter = Progress(self.console, log_tail=self.log_tail)
        return self._reporter

    def progress(self, event: WaitEvent) -> None:
        """``on_progress`` for workflows: one line per state change, a live line on a terminal."""
        self.reporter.wait(event)

    def close(self) -> None:
        """End any live progress line (before the result or an error is printed)."""
        if self._reporter is not None:
            self._reporter.close()

    # -- connection -------------------------------------------------------------------------

    def target_kind(self, spec: Spec | None = None) -> tuple[str, str]:
        """(target name, kind) from --target, else local unless a workspace is configured."""
        from automation.settings import workspace_configured

        name = self.target
        if name is None:
            if self.url or workspace_configured(self.environ()):
                cml = [n for n, t in (spec.targets.items() if spec else []) if t.kind == "cml"]
                name = cml[0] if cml else "cml"
            else:
                name = "local"
        if spec is not None:
            return name, spec.target(name).kind
        if name == "local":
            return name, "local"
        return name, "cml"

    def environ(self) -> dict[str, str]:
        """The environment settings are resolved from: --profile NAME acts as CMLOPS_PROFILE=NAME."""
        env = dict(os.environ)
        if self.profile:
            env["CMLOPS_PROFILE"] = self.profile
        return env

    def local_state_dir(self, spec: Spec | None = None) -> Path:
        return self.local_state_dir_and_origin(spec)[0]

    def local_state_dir_and_origin(self, spec: Spec | None = None) -> tuple[Path, str]:
        """The local workspace's state folder, the same for every command, and why it is that one.

        --state-dir (or CMLOPS_STATE_DIR); else the spec's repo root (its local target's state_dir,
        default .cmlops); else, for commands without a spec, the repo root of the current folder
        (nearest folder up holding .cmlops, .git or pyproject.toml); else the current folder.
        """
        from automation.spec.paths import ROOT_MARKERS, find_folder_root

        if self.state_dir:
            return Path(self.state_dir).resolve(), "--state-dir / CMLOPS_STATE_DIR"
        if spec is not None:
            target = spec.targets.get("local") if spec.targets else None
            rel = getattr(target, "state_dir", None) or ".cmlops"
            return (Path(spec.repo_root) / rel).resolve(), f"the spec's repo root ({spec.repo_root})"
        root = find_folder_root(Path.cwd(), (".cmlops", *ROOT_MARKERS))
        if root is not None:
            return root / ".cmlops", f"the current folder's repo root ({root})"
        return Path(".cmlops").resolve(), "the current folder (no repo root above it)"

    def settings(self, spec: Spec | None = None) -> Settings:
        from automation.settings import Settings, resolve_settings

        name, kind = self.target_kind(spec)
        if spec is not None:
            for secret in spec.secret_values():
                OUTPUT_REDACTOR.add(secret)
        if kind == "local":
            require_local_extra()
            from automation.local.control import ensure_running

            ws = ensure_running(self.local_state_dir(spec))
            OUTPUT_REDACTOR.add(ws.api_key)
            self.local_workspace_dir = ws.state_dir
            return Settings(
                url=ws.url,
                api_key=ws.api_key,
                model_service_url=ws.model_service_url,
                sources={"url": f"local workspace ({ws.state_dir})", "api_key": "local workspace"},
            )
        url = self.url
        api_key = None
        ca = self.ca_bundle
        insecure = self.insecure
        url_source = "--url"
        if spec is not None:
            target = spec.target(name)
            if not url and getattr(target, "url", None):
                url, url_source = target.url, f"spec target {name!r} url"
            secret = getattr(target, "api_key", None)
            api_key = secret.get_secret_value() if secret is not None else None
            ca = ca or getattr(target, "ca_bundle", None)
            insecure = insecure or (getattr(target, "verify_tls", True) is False)
        settings = resolve_settings(
            environ=self.environ(),
            url=url or None,
            api_key=api_key or None,
            ca_bundle=ca,
            insecure=insecure,
            url_source=url_source,
            key_source=f"spec target {name!r} api_key",
        )
        OUTPUT_REDACTOR.add(settings.api_key)
        return settings

    def local_ui_url(self, url: str) -> str | None:
        """The web UI's page when the command ran against the local workspace at ``url``; else None."""
        if self.local_workspace_dir is None:
            return None
        from automation.local.control import ui_url

        return ui_url(url)

    def log_tail(self, run_id: str, lines: int = 12) -> str | None:
        """The end of a local job run's log (CML's API v2 has no logs endpoint)."""
        if self.local_workspace_dir is None:
            return None
        from automation.errors import CmlopsError
        from automation.local.control import read_log

        try:
            text = read_log(self.local_workspace_dir, run_id)
        except CmlopsError:
            return None
        return "\n".join(text.rstrip().splitlines()[-lines:])

    def client(self, spec: Spec | None = None) -> CMLClient:
        from automation.api import CMLClient

        settings = self.resolved = self.settings(spec)
        # The local workspace answers in seconds: poll it briskly; CML's builds take minutes.
        poll = (0.25, 1.0) if is_loopback(settings.url) else (2.0, 15.0)
        return CMLClient.from_settings(settings, trace=self.trace if self.verbose else None, poll=poll)


def is_loopback(url: str) -> bool:
    """A workspace on this machine (the local workspace, also when reached from inside its jobs)."""
    from urllib.parse import urlparse

    return (urlparse(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: blocked (None in sys.modules)
        return False


def require_local_extra() -> None:
    """The local workspace needs the `local` extra: say so (exit 2) before any file is written."""
    from automation.errors import InputError

    missing = [m for m in LOCAL_EXTRA_MODULES if not _installed(m)]
    if missing:
        raise InputError(
            "the embedded local workspace is not installed (missing: " + ", ".join(missing) + "): "
            "install cmlops[local] or set CML_URL",
            hint='pip install "cmlops[local]" for the local workspace, or export CML_URL=https://... and '
            "CML_API_KEY=... (or --target/--profile) to use a CML workspace",
        )


def pass_ctx(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.pass_obj(f)


def environ() -> dict[str, str]:
    return dict(os.environ)


def stdin_is_tty() -> bool:
    return sys.stdin.isatty()
