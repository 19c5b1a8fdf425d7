"""HTTP for the cmlapi package, on the standard library only: one request, one RESTResponse, ApiException."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Any


class ApiException(Exception):
    """An answer outside 2xx (or a failure before one): ``status``, ``reason``, ``body`` (text), ``headers``."""

    def __init__(self, status: int | None = None, reason: str | None = None, http_resp: Any = None) -> None:
        if http_resp is not None:
            self.status = http_resp.status
            self.reason = http_resp.reason
            self.body = http_resp.data
            self.headers = http_resp.getheaders()
        else:
            self.status = status
            self.reason = reason
            self.body = None
            self.headers = None
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"({self.status})\nReason: {self.reason}\n"
        if self.headers:
            text += f"HTTP response headers: {self.headers}\n"
        if self.body:
            text += f"HTTP response body: {self.body}\n"
        return text


def not_served(method: str, line: str) -> ApiException:
    """What an operation of CML's API that the local workspace does not serve raises (HTTP 501)."""
    message = (
        f"{method} ({line}) is not implemented by the cmlops local workspace; on a CML workspace the "
        "workspace's own cmlapi package serves it (the covered operations: cmlapi.CMLServiceApi.covered_operations)"
    )
    exc = ApiException(status=501, reason="Not Implemented")
    exc.body = json.dumps({"error": message, "code": 12, "message": message})
    exc.args = (str(exc),)
    return exc


class RESTResponse:
    """The answer of one request: ``status``, ``reason``, ``data`` (text) and the headers."""

    def __init__(self, status: int, reason: str, headers: Any, data: bytes) -> None:
        self.status = status
        self.reason = reason
        self.raw_headers = headers
        self.data: Any = data.decode("utf-8", errors="replace")

    def getheaders(self) -> dict[str, str]:
        return dict(self.raw_headers.items())

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return self.raw_headers.get(name, default)


class RESTClientObject:
    """Sends requests with urllib: TLS per the configuration, never a proxy from the environment."""

    def __init__(self, configuration: Any) -> None:
        handlers: list[Any] = [urllib.request.ProxyHandler({})]
        if configuration.proxy:
            handlers = [
                urllib.request.ProxyHandler({"http": configuration.proxy, "https": configuration.proxy})
            ]
        handlers.append(urllib.request.HTTPSHandler(context=self._tls(configuration)))
        self.opener = urllib.request.build_opener(*handlers)

    @staticmethod
    def _tls(configuration: Any) -> ssl.SSLContext:
        if not configuration.verify_ssl:
            context = ssl._create_unverified_context()
        else:
            cafile = configuration.ssl_ca_cert
            if cafile is None:
                try:
                    import certifi

                    cafile = certifi.where()
                except ImportError:
                    cafile = None
            context = ssl.create_default_context(cafile=cafile)
            if configuration.assert_hostname is False:
                context.check_hostname = False
        if configuration.cert_file:
            context.load_cert_chain(configuration.cert_file, configuration.key_file)
        return context

    def request(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None = None,
        timeout: Any = None,
    ) -> RESTResponse:
        if isinstance(timeout, tuple):
            timeout = (
                max(t for t in timeout if t is not None) if any(t is not None for t in timeout) else None
            )
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=timeout) as answer:
                response = RESTResponse(answer.status, answer.reason, answer.headers, answer.read())
        except urllib.error.HTTPError as error:
            response = RESTResponse(error.code, error.reason, error.headers, error.read())
        except OSError as error:  # URLError and timeouts are OSErrors
            reason = getattr(error, "reason", error)
            raise ApiException(status=0, reason=f"{method} {url} failed: {reason}") from error
        if not 200 <= response.status <= 299:
            raise ApiException(http_resp=response)
        return response
