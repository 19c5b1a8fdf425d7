"""Where the workspace is and how to reach it (the attributes scripts set on cmlapi.Configuration)."""

from __future__ import annotations


class Configuration:
    """``host`` is the workspace URL (``https://<domain>``, no ``/api/v2``); TLS and proxy settings.

    An API key can be given the way the generated client takes one, ``api_key['authorization']`` with
    ``api_key_prefix['authorization'] = 'Bearer'``, or as a default header on the ApiClient.
    """

    def __init__(self) -> None:
        self.host = "https://localhost"
        self.api_key: dict[str, str] = {}
        self.api_key_prefix: dict[str, str] = {}
        self.verify_ssl = True
        self.ssl_ca_cert: str | None = None
        self.cert_file: str | None = None
        self.key_file: str | None = None
        self.assert_hostname: bool | None = None
        self.proxy: str | None = None
        self.safe_chars_for_path_param = ""
        self.debug = False

    def get_api_key_with_prefix(self, identifier: str) -> str | None:
        key = self.api_key.get(identifier)
        if not key:
            return None
        prefix = self.api_key_prefix.get(identifier)
        return f"{prefix} {key}" if prefix else key

    def auth_settings(self) -> dict[str, dict[str, str | None]]:
        return {
            "Bearer": {
                "type": "api_key",
                "in": "header",
                "key": "authorization",
                "value": self.get_api_key_with_prefix("authorization"),
            }
        }
