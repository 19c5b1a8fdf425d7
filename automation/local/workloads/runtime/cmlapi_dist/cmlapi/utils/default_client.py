"""default_client(): a CMLServiceApi for the workspace a session, job or application runs in."""

from __future__ import annotations

import os

from ..api import CMLServiceApi
from ..api_client import ApiClient
from ..configuration import Configuration

SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt"


def _workspace_url() -> str | None:
    """``CDSW_API_URL`` (``<scheme>://<domain>/api/v1``) without its API path, else ``https://CDSW_DOMAIN``."""
    api = os.environ.get("CDSW_API_URL", "").strip()
    if api:
        api = api.rstrip("/")
        for suffix in ("/api/v1", "/api/v2"):
            if api.endswith(suffix):
                return api[: -len(suffix)]
        return api
    domain = os.environ.get("CDSW_DOMAIN", "").strip().strip("/")
    return f"https://{domain}" if domain else None


def default_client(url: str | None = None, cml_api_key: str | None = None) -> CMLServiceApi:
    """A client for ``url`` with ``cml_api_key``; inside a CML workload both default to the workload's
    own (``CDSW_API_URL`` / ``CDSW_DOMAIN`` and ``CDSW_APIV2_KEY``). Outside one, pass them (ValueError)."""
    url = url or _workspace_url()
    if not url:
        raise ValueError(
            "no workspace URL: pass default_client(url='https://<domain>', ...) or run inside a CML workload "
            "(CDSW_API_URL or CDSW_DOMAIN is set there)"
        )
    key = cml_api_key or os.environ.get("CDSW_APIV2_KEY")
    if not key:
        raise ValueError(
            "no API key: pass default_client(..., cml_api_key=<API v2 key>) or run inside a CML workload "
            "(CDSW_APIV2_KEY is set there)"
        )
    configuration = Configuration()
    configuration.host = url.rstrip("/")
    if os.path.isfile(SYSTEM_CA):
        configuration.ssl_ca_cert = SYSTEM_CA
    client = ApiClient(configuration)
    client.set_default_header("authorization", "Bearer " + key)
    return CMLServiceApi(client)
