"""`cmlops predict --curl`: the exact model-endpoint call, runnable, with its secrets masked.

The call is CML's model-endpoint contract: POST the model service URL with
``{"accessKey": <the model's access key>, "request": ...}`` and, when model authentication is on,
``Authorization: Bearer <an API key>``. The access key is masked and the bearer key is a reference
to where it comes from (``$CML_API_KEY``, the local workspace's key file), unless ``--show-secrets``.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from automation.cli.context import CliContext

MASKED_ACCESS_KEY = "<model access key: cmlops predict --curl --show-secrets>"


@dataclass(frozen=True)
class CurlCall:
    url: str
    body: dict[str, Any]
    bearer_from: str | None  # where the Authorization key comes from (None: model auth off)
    command: str

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "body": self.body, "bearer_from": self.bearer_from, "curl": self.command}

    def text(self) -> None:
        import click

        click.echo(self.command)
        if self.bearer_from:
            click.echo(f"# the bearer key: {self.bearer_from}", err=True)


def _bearer(ctx: CliContext, show_secrets: bool) -> tuple[str, str]:
    """(the shell text that yields the API key, where it comes from)."""
    settings = ctx.resolved
    settings_source = settings.sources.get("api_key", "") if settings else ""
    if show_secrets and settings is not None:
        return settings.api_key, f"the API key from {settings_source}"
    if ctx.local_workspace_dir is not None:
        path = ctx.local_workspace_dir / "api_key"
        return f"$(cat {shlex.quote(str(path))})", f"the local workspace's key file {path}"
    var = settings_source if settings_source in ("CML_API_KEY", "CDSW_APIV2_KEY") else "CML_API_KEY"
    origin = f"${var}" + (f" (this run read it from {settings_source})" if settings_source != var else "")
    return f"${var}", f"an API v2 key with the API audience, here {origin}"


def curl_call(
    ctx: CliContext, client: Any, model: Any, request: Any, *, auth: bool, show_secrets: bool
) -> CurlCall:
    url = client.model_service_url or ""
    access_key = model.access_key if show_secrets else MASKED_ACCESS_KEY
    body = {"accessKey": access_key, "request": request}
    parts = ["curl", "-sS", "-X", "POST", shlex.quote(url), "-H", "'Content-Type: application/json'"]
    bearer_from = None
    if auth:
        key, bearer_from = _bearer(ctx, show_secrets)
        parts += ["-H", f'"Authorization: Bearer {key}"']
    parts += ["-d", shlex.quote(json.dumps(body))]
    return CurlCall(url=url, body=body, bearer_from=bearer_from, command=" \\\n  ".join(_pairs(parts)))


def _pairs(parts: list[str]) -> list[str]:
    """Group flags with their values so each line of the command is one option."""
    lines, i = [" ".join(parts[:5])], 5
    while i < len(parts):
        lines.append(f"{parts[i]} {parts[i + 1]}")
        i += 2
    return lines
