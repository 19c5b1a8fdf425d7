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
    from automation.settings import Settings
    from automation.spec import Spec

CURRENT: CliContext | None = None
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
    _console: Any = field(default=None, repr=False)
    local_workspace_dir: Path | None = None  # set once a command connects to the local workspace

    def __post_init__(self) -> None:
        global CURRENT
        CURRENT = self

    # -- output -----------------------------------------------------------------------------

    @property
    def json(self) -> bool:
        return self.output == "json"

    def emit(self, data: dict[str, Any], text: Callable[[], None] | str | None = None) -> None:
        """Print the command's result: one JSON document, or human text."""
        if self.json:
            click.echo(json.dumps(data, indent=2, default=str))
        elif callable(text):
            text()
        elif text is not None:
            click.echo(text)

    @property
    def console(self) -> Any:
        """A rich console on stderr for progress (quiet in JSON mode)."""
        if self._console is None:
            from rich.console import Console

            # soft_wrap: long ids and paths stay on one line in CI logs and pipes (greppable).
            self._console = Console(stderr=True, quiet=self.json, highlight=False, soft_wrap=True)
        return self._console

    def trace(self, line: str) -> None:
        click.echo(line, err=True)

    def progress(self, event: WaitEvent) -> None:
        mark = "done" if event.done else "..."
        self.console.print(f"  [dim]{event.elapsed:6.1f}s[/dim] {event.what}: {event.status} {mark}")

    # -- connection -------------------------------------------------------------------------

    def target_kind(self, spec: Spec | None = None) -> tuple[str, str]:
        """(target name, kind) from --target, else local unless a workspace is configured."""
        from automation.settings import workspace_configured

        name = self.target
        if name is None:
            if self.url or workspace_configured():
                cml = [n for n, t in (spec.targets.items() if spec else []) if t.kind == "cml"]
                name = cml[0] if cml else "cml"
            else:
                name = "local"
        if spec is not None:
            return name, spec.target(name).kind
        if name == "local":
            return name, "local"
        return name, "cml"

    def local_state_dir(self, spec: Spec | None = None) -> Path:
        if self.state_dir:
            return Path(self.state_dir).resolve()
        if spec is not None:
            target = spec.targets.get("local") if spec.targets else None
            rel = getattr(target, "state_dir", None) or ".cmlops"
            return (Path(spec.repo_root) / rel).resolve()
        return Path(".cmlops").resolve()

    def settings(self, spec: Spec | None = None) -> Settings:
        from automation.settings import Settings, resolve_settings

        name, kind = self.target_kind(spec)
        if spec is not None:
            for secret in spec.secret_values():
                OUTPUT_REDACTOR.add(secret)
        if kind == "local":
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
            url=url or None,
            api_key=api_key or None,
            ca_bundle=ca,
            insecure=insecure,
            url_source=url_source,
            key_source=f"spec target {name!r} api_key",
        )
        OUTPUT_REDACTOR.add(settings.api_key)
        return settings

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

        settings = self.settings(spec)
        # The local workspace answers in seconds: poll it briskly; CML's builds take minutes.
        poll = (0.25, 1.0) if is_loopback(settings.url) else (2.0, 15.0)
        return CMLClient.from_settings(settings, trace=self.trace if self.verbose else None, poll=poll)


def is_loopback(url: str) -> bool:
    """A workspace on this machine (the local workspace, also when reached from inside its jobs)."""
    from urllib.parse import urlparse

    return (urlparse(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def pass_ctx(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.pass_obj(f)


def environ() -> dict[str, str]:
    return dict(os.environ)


def stdin_is_tty() -> bool:
    return sys.stdin.isatty()
