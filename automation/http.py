"""The one module that speaks HTTP (and the only one importing requests).

It owns: the base URL, bearer auth, timeouts, TLS verification, retries under a deadline, the
mapping of error answers to :mod:`automation.errors`, and a redacted trace of every exchange.

Retry rules (DESIGN.md section 3):

* connection failures before the request reached the server: retried for every method, once the
  workspace has answered this client before (a restart, a load balancer's blip). Before that, a
  refused connection fails fast, and a host name that does not resolve always does: both say a
  wrong URL or a workspace that is down, which no retry heals;
* 429 and 503: retried for every method (the server refused the work), honouring Retry-After;
* 500, 502, 504 and read failures (the server may have acted): retried only for idempotent calls.
  A create that fails this way raises with ``maybe_applied=True`` so the caller can look the
  resource up by name instead of sending a twin.

Backoff is capped exponential with equal jitter, and no retry starts past the overall deadline.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from automation.clock import Clock, SystemClock
from automation.errors import ApiError, TransportError, api_error_class
from automation.redact import Redactor, redact_data

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"})
USER_AGENT = "cmlops"
_TRACE_BODY_LIMIT = 2000


@dataclass
class RetryPolicy:
    """How hard to try. ``deadline`` bounds the whole call including waits."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 10.0
    deadline: float = 120.0
    retry_statuses_any: frozenset[int] = frozenset({429, 503})
    retry_statuses_idempotent: frozenset[int] = frozenset({500, 502, 504})
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        """Equal-jitter exponential backoff (a random delay in [ceiling/2, ceiling]) for the given (1-based) attempt."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return self.rng.uniform(ceiling / 2, ceiling)


@dataclass
class HttpStats:
    """Counters the reliability suite and `-v` summaries read."""

    requests: int = 0
    retries: int = 0
    by_method: dict[str, int] = field(default_factory=dict)

    def writes(self) -> int:
        return sum(n for m, n in self.by_method.items() if m in ("POST", "PATCH", "PUT", "DELETE"))


class HttpClient:
    """A small, explicit HTTP client for API v2."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        verify: bool | str = True,
        timeout: tuple[float, float] = (10.0, 60.0),
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        trace: Callable[[str], None] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.verify = verify
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.clock = clock or SystemClock()
        self._trace = trace
        self._redact = Redactor(api_key)
        self.stats = HttpStats()
        self.answered = False  # has the workspace answered this client yet? (fail fast until it has)
        self._session = session or requests.Session()
        self._session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})

    def __repr__(self) -> str:
        return f"HttpClient(base_url={self.base_url!r}, api_key='***')"

    def sibling(self, base_url: str, *, retry: RetryPolicy | None = None) -> HttpClient:
        """Another client for a different base URL (e.g. the model service) with the same key,
        TLS settings, clock, trace and known secrets."""
        other = HttpClient(
            base_url,
            self._api_key,
            verify=self.verify,
            timeout=self.timeout,
            retry=retry or self.retry,
            clock=self.clock,
            trace=self._trace,
        )
        other._redact = self._redact
        return other

    def add_secret(self, secret: str | None) -> None:
        """Register another secret (e.g. a model access key) to keep out of traces."""
        self._redact.add(secret)

    # -- public ---------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        files: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one API call (with retries) and return the decoded JSON body ({} when empty)."""
        method = method.upper()
        safe = idempotent if idempotent is not None else method in IDEMPOTENT_METHODS
        clean_params = _clean_params(params)
        start = self.clock.now()
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send(method, path, clean_params, json_body, files)
            except TransportError as exc:
                reached_server = getattr(exc, "reached_server", True)
                transient = getattr(exc, "transient", True)
                if transient and (safe or not reached_server) and self._may_retry(attempt, start, None):
                    self._wait(attempt, None, start)
                    continue
                exc.maybe_applied = reached_server and not safe  # type: ignore[attr-defined]
                raise
            if response.status_code < 400:
                return _decode(response)
            error = self._error_for(method, path, response)
            retryable = response.status_code in self.retry.retry_statuses_any or (
                safe and response.status_code in self.retry.retry_statuses_idempotent
            )
            if retryable and self._may_retry(attempt, start, error.retry_after):
                self._wait(attempt, error.retry_after, start)
                continue
            if not safe and response.status_code in self.retry.retry_statuses_idempotent:
                error.maybe_applied = True  # type: ignore[attr-defined]
            raise error

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    # -- internals ------------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        params: dict[str, Any],
        json_body: Any,
        files: Mapping[str, Any] | None,
    ) -> requests.Response:
        url = self.base_url + path
        self.stats.requests += 1
        self.stats.by_method[method] = self.stats.by_method.get(method, 0) + 1
        self._emit(f"-> {method} {path}{_query_text(params)}{_body_text(json_body, files, self._redact)}")
        started = time.perf_counter()
        try:
            response = self._session.request(
                method,
                url,
                params=params or None,
                json=json_body if files is None else None,
                files=files,
                headers={"Authorization": f"Bearer {self._api_key}"},
                timeout=self.timeout,
                verify=self.verify,
            )
        except requests.exceptions.SSLError as exc:
            err = _transport(
                f"{method} {path}: TLS verification failed for {self.base_url}",
                reached_server=False,
                hint="pass the workspace's CA bundle with --ca-bundle or CML_CA_BUNDLE (full chain)",
                cause=exc,
            )
            err.transient = False  # type: ignore[attr-defined]  # a bad certificate does not heal on retry
            raise err from None
        except requests.exceptions.ConnectionError as exc:
            reached = not _is_connect_failure(exc)
            reason = _short_reason(exc)
            err = _transport(
                f"{method} {path}: cannot reach {self.base_url} ({reason})",
                reached_server=reached,
                hint=_UNREACHABLE_HINTS.get(reason, _UNREACHABLE_HINTS[""]),
                cause=exc,
            )
            if reason == _DNS or (reason == "connection refused" and not self.answered):
                err.transient = False  # type: ignore[attr-defined]  # fail fast, with the cause
            raise err from None
        except requests.exceptions.Timeout as exc:
            reached = isinstance(exc, requests.exceptions.ReadTimeout)
            raise _transport(
                f"{method} {path}: {self.base_url} did not answer in time",
                reached_server=reached,
                hint="the workspace may be overloaded; retry later",
                cause=exc,
            ) from None
        except requests.exceptions.RequestException as exc:
            # e.g. a connection dropped mid-body (ChunkedEncodingError): the server may have acted.
            raise _transport(
                f"{method} {path}: the answer from {self.base_url} was cut off ({type(exc).__name__})",
                reached_server=True,
                hint="check your network or proxy; re-running the command is safe",
                cause=exc,
            ) from None
        self.answered = True
        elapsed_ms = (time.perf_counter() - started) * 1000
        self._emit(
            f"<- {response.status_code} {method} {path} ({elapsed_ms:.0f} ms){_response_text(response, self._redact)}"
        )
        return response

    def _error_for(self, method: str, path: str, response: requests.Response) -> ApiError:
        body: Any = None
        try:
            body = response.json()
        except ValueError:
            body = None
        grpc_code = body.get("code") if isinstance(body, dict) and isinstance(body.get("code"), int) else None
        server_message = ""
        if isinstance(body, dict):
            server_message = str(body.get("message") or body.get("error") or "")
        if not server_message:
            server_message = (response.text or response.reason or "").strip()[:300]
        server_message = self._redact(server_message)
        cls = api_error_class(response.status_code, grpc_code)
        message = f"{method} {path} failed: HTTP {response.status_code}"
        if server_message:
            message += f": {server_message}"
        return cls(
            message,
            method=method,
            path=path,
            status=response.status_code,
            grpc_code=grpc_code,
            server_message=server_message,
            retry_after=_retry_after(response.headers.get("Retry-After")),
            hint=_hint_for(response.status_code),
        )

    def _may_retry(self, attempt: int, start: float, retry_after: float | None) -> bool:
        if attempt >= self.retry.max_attempts:
            return False
        delay = retry_after if retry_after is not None else self.retry.backoff(attempt)
        return self.clock.now() - start + delay <= self.retry.deadline

    def _wait(self, attempt: int, retry_after: float | None, start: float) -> None:
        delay = retry_after if retry_after is not None else self.retry.backoff(attempt)
        delay = min(delay, max(0.0, self.retry.deadline - (self.clock.now() - start)))
        self.stats.retries += 1
        self._emit(f"   retry {attempt} in {delay:.2f}s")
        self.clock.sleep(delay)

    def _emit(self, line: str) -> None:
        if self._trace is not None:
            self._trace(self._redact(line))


# -- helpers ------------------------------------------------------------------------------------


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, dict):
            out[key] = json.dumps(value, separators=(",", ":"))
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = value
    return out


def _decode(response: requests.Response) -> Any:
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        return {"raw": response.text}


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _hint_for(status: int) -> str | None:
    if status == 401:
        return (
            "the API key was refused: set CML_API_KEY (or CDSW_APIV2_KEY inside CML) to a valid API v2 key "
            "(User Settings > API Keys)"
        )
    if status == 403:
        return "the API key lacks permission for this resource (or its audience is not 'API')"
    if status == 429:
        return "the workspace is throttling requests; retry later"
    return None


def _transport(message: str, *, reached_server: bool, hint: str, cause: Exception) -> TransportError:
    err = TransportError(message, hint=hint)
    err.reached_server = reached_server  # type: ignore[attr-defined]
    err.__cause__ = cause
    return err


def _is_connect_failure(exc: Exception) -> bool:
    """True when the connection was never established (the server cannot have acted)."""
    text = repr(exc)
    return any(
        s in text
        for s in (
            "NewConnectionError",
            "Connection refused",
            "NameResolutionError",
            "Failed to establish",
            "ConnectTimeout",
            "No route to host",
        )
    )


_DNS = "host name not found (DNS)"
_UNREACHABLE_HINTS = {
    _DNS: "the host name does not resolve: check the URL (CML_URL, --url, the profile) for a typo",
    "connection refused": "nothing listens there: check the URL and port; for the local workspace run "
    "`cmlops local status`",
    "": "check CML_URL and your network; for the local workspace run `cmlops local status`",
}
_DNS_MARKERS = (
    "NameResolutionError",
    "Name or service not known",
    "nodename nor servname",
    "getaddrinfo failed",
    "No address associated",
    "Temporary failure in name resolution",
)


def _short_reason(exc: Exception) -> str:
    text = str(exc)
    if any(m in text or m in repr(exc) for m in _DNS_MARKERS):
        return _DNS
    for marker in (
        "Connection refused",
        "Connection reset",
        "Remote end closed",
        "timed out",
        "No route to host",
        "Connection aborted",
    ):
        if marker in text:
            return marker.lower()
    return type(exc).__name__


def _query_text(params: dict[str, Any]) -> str:
    if not params:
        return ""
    return "?" + "&".join(f"{k}={v}" for k, v in params.items())


def _body_text(json_body: Any, files: Mapping[str, Any] | None, redact: Redactor) -> str:
    if files:
        return f" files={sorted(files)}"
    if json_body is None:
        return ""
    text = json.dumps(redact_data(json_body), sort_keys=True)
    return " body=" + redact(text[:_TRACE_BODY_LIMIT])


def _response_text(response: requests.Response, redact: Redactor) -> str:
    if not response.content:
        return ""
    try:
        text = json.dumps(redact_data(response.json()), sort_keys=True)
    except ValueError:
        text = response.text
    if len(text) > _TRACE_BODY_LIMIT:
        text = text[:_TRACE_BODY_LIMIT] + "...(truncated)"
    return " body=" + redact(text)
