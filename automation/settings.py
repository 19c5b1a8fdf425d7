"""Where the workspace URL and API key come from, resolved in one inspectable place.

Order (first wins): command-line flags, then the environment (``CML_URL`` / ``CML_API_KEY``; inside a
CML session or job ``CDSW_API_URL`` or ``CDSW_DOMAIN`` and ``CDSW_APIV2_KEY``), then a profile file
(``$CMLOPS_CONFIG`` or ``~/.config/cmlops/config.yaml``, profile ``$CMLOPS_PROFILE`` or ``default``).
Every value remembers its source, and secrets are masked in every repr.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from automation.errors import SettingsError
from automation.redact import mask

URL_VARS = ("CML_URL", "CDSW_API_URL", "CDSW_DOMAIN")
KEY_VARS = ("CML_API_KEY", "CDSW_APIV2_KEY")
# Set in every CML engine (session, job, application, model); their presence says "we run inside CML".
ENGINE_VARS = ("CDSW_ENGINE_ID", "CDSW_PROJECT_ID")
# Inside engines this system bundle holds the workspace's CA (often an internal one certifi lacks);
# Cloudera's cmlapi.default_client() trusts it when it exists, and so do we.
ENGINE_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


@dataclass(frozen=True)
class Settings:
    """A resolved workspace connection. ``sources`` says where each value came from."""

    url: str
    api_key: str = field(repr=False)
    verify: bool | str = True
    model_service_url: str | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"Settings(url={self.url!r}, api_key={mask(self.api_key)!r}, verify={self.verify!r}, "
            f"model_service_url={self.model_service_url!r}, sources={self.sources!r})"
        )

    def describe(self) -> dict[str, Any]:
        """A secret-free view for `cmlops whoami -v` and JSON output."""
        return {
            "url": self.url,
            "api_key": mask(self.api_key),
            "verify": self.verify,
            "model_service_url": self.model_service_url,
            "sources": dict(self.sources),
        }


def default_profile_path(environ: Mapping[str, str]) -> Path:
    if environ.get("CMLOPS_CONFIG"):
        return Path(environ["CMLOPS_CONFIG"]).expanduser()
    return Path(environ.get("HOME", "~")).expanduser() / ".config" / "cmlops" / "config.yaml"


def load_profile(environ: Mapping[str, str], path: Path | None = None) -> tuple[dict[str, Any], str]:
    """Read the active profile (empty when there is no profile file)."""
    path = path or default_profile_path(environ)
    name = environ.get("CMLOPS_PROFILE", "default")
    if not path.is_file():
        if environ.get("CMLOPS_CONFIG") or environ.get("CMLOPS_PROFILE"):
            raise SettingsError(
                f"profile file {path} not found",
                hint="create it with `profiles: {default: {url: ..., api_key: ...}}` or unset CMLOPS_CONFIG",
            )
        return {}, str(path)
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    profiles = data.get("profiles") if isinstance(data, dict) else None
    if not isinstance(profiles, dict) or name not in profiles or not isinstance(profiles[name], dict):
        known = ", ".join(sorted(profiles)) if isinstance(profiles, dict) else "none"
        raise SettingsError(
            f"{path}: profile {name!r} not found (known: {known})",
            hint="pick one with --profile NAME (or CMLOPS_PROFILE), or save it: cmlops configure --profile NAME",
        )
    profile = dict(profiles[name])
    if profile.get("api_key_in") == "keyring" and not profile.get("api_key"):
        from automation.credentials import keyring_get

        profile["api_key"] = keyring_get(name)
        return profile, f"{path}#{name} (key in the OS keyring)"
    return profile, f"{path}#{name}"


def workspace_configured(environ: Mapping[str, str] | None = None) -> bool:
    """True when any CML workspace URL is configured (env or profile), i.e. local is not the default."""
    environ = os.environ if environ is None else environ
    if any(environ.get(v) for v in URL_VARS):
        return True
    try:
        profile, _ = load_profile(environ)
    except SettingsError:
        return True  # a broken profile is a configuration: let resolve_settings report it
    return bool(profile.get("url"))


def resolve_settings(
    *,
    url: str | None = None,
    api_key: str | None = None,
    ca_bundle: str | None = None,
    insecure: bool = False,
    environ: Mapping[str, str] | None = None,
    url_source: str = "--url",
    key_source: str = "--api-key",
    engine_ca_bundle: str = ENGINE_CA_BUNDLE,
) -> Settings:
    """Resolve URL, key and TLS settings; raise SettingsError naming what to set when missing."""
    environ = os.environ if environ is None else environ
    sources: dict[str, str] = {}
    profile, profile_source = load_profile(environ)

    if url:
        sources["url"] = url_source
    else:
        url, sources["url"] = _url_from_env(environ) or (profile.get("url"), profile_source)
    if not url:
        raise SettingsError(
            "no CML workspace URL configured: set CML_URL",
            hint="set CML_URL=https://<workspace-domain> (or pass --url, or add a profile); "
            "without a workspace, use the local target",
        )
    url = normalise_url(str(url), sources["url"])

    if api_key:
        sources["api_key"] = key_source
    else:
        found = next(((environ[v], v) for v in KEY_VARS if environ.get(v)), None)
        api_key, sources["api_key"] = found or (profile.get("api_key"), profile_source)
    if not api_key:
        raise SettingsError(
            "no API key configured: set CML_API_KEY",
            hint="set CML_API_KEY to an API v2 key (User Settings > API Keys); inside CML, CDSW_APIV2_KEY is set for you",
        )
    api_key = str(api_key).strip()
    if any(c.isspace() for c in api_key):
        raise SettingsError(
            f"the API key from {sources['api_key']} contains white space", hint="re-copy the key"
        )

    verify: bool | str = True
    ca = ca_bundle or environ.get("CML_CA_BUNDLE") or profile.get("ca_bundle")
    if insecure:
        verify, sources["verify"] = False, "--insecure"
    elif ca:
        if not Path(ca).expanduser().is_file():
            raise SettingsError(
                f"CA bundle {ca} does not exist", hint="pass the path of a PEM file (full chain)"
            )
        verify, sources["verify"] = str(Path(ca).expanduser()), "ca bundle"
    elif in_cml_engine(environ) and Path(engine_ca_bundle).is_file():
        verify, sources["verify"] = engine_ca_bundle, "CML engine system CA bundle"

    model_url = (
        environ.get("CML_MODEL_SERVICE_URL") or profile.get("model_service_url") or model_service_url_for(url)
    )
    return Settings(url=url, api_key=api_key, verify=verify, model_service_url=model_url, sources=sources)


def in_cml_engine(environ: Mapping[str, str]) -> bool:
    """True inside a CML session, job, application or model (CML sets ``CDSW_ENGINE_ID`` etc.)."""
    return any(environ.get(v) for v in ENGINE_VARS)


def _url_from_env(environ: Mapping[str, str]) -> tuple[str, str] | None:
    if environ.get("CML_URL"):
        return environ["CML_URL"], "CML_URL"
    if environ.get("CDSW_API_URL"):
        api = environ["CDSW_API_URL"].rstrip("/")
        for suffix in ("/api/v1", "/api/v2"):
            if api.endswith(suffix):
                api = api[: -len(suffix)]
        return api, "CDSW_API_URL"
    if environ.get("CDSW_DOMAIN"):
        return "https://" + environ["CDSW_DOMAIN"].strip("/"), "CDSW_DOMAIN"
    return None


def normalise_url(url: str, source: str) -> str:
    """Validate a workspace URL: scheme http(s) and a host; drop a trailing /api/v1 or /api/v2 and slash."""
    url = url.strip().rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(
            f"workspace URL {url!r} (from {source}) is not an http(s) URL",
            hint="use the full URL with its scheme, e.g. CML_URL=https://ml-1234.example.cloudera.site",
        )
    for suffix in ("/api/v1", "/api/v2"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    return url


def model_service_url_for(url: str) -> str:
    """CML serves model endpoints at https://modelservice.<domain>/model."""
    parsed = urlparse(url)
    return f"{parsed.scheme}://modelservice.{parsed.netloc}/model"
