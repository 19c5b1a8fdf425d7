"""Wine scorer: a small CML application (standard library only) that scores a wine with the PRD model.

It serves one page on the port CML gives applications (``CDSW_APP_PORT``): a form with the eleven
physico-chemical measurements of a wine; submitting it posts them to the model endpoint and shows the
predicted quality. The flagship spec runs it in the PRD project as the application ``wine-scorer``.

How it reaches the model, with only what CML gives every workload:
- the model's access key: API v2 ``GET /api/v2/projects/{CDSW_PROJECT_ID}/models`` (the model named
  ``MODEL_NAME``), authenticated with ``CDSW_APIV2_KEY``; the v2 base is ``CDSW_API_URL`` with its
  ``/api/v1`` replaced by ``/api/v2``;
- the model service: ``MODEL_SERVICE_URL`` when set, else ``https://modelservice.<CDSW_DOMAIN>/model``
  (the embedded local workspace, whose domain is a loopback address, serves it at ``<domain>/model``);
- the call: ``POST {"accessKey": ..., "request": {"input": [[...]]}}`` with ``Authorization: Bearer
  <CDSW_APIV2_KEY>`` (the endpoint requires authentication).
"""

from __future__ import annotations

import html
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FEATURES = [
    ("fixed acidity", 7.4),
    ("volatile acidity", 0.7),
    ("citric acid", 0.0),
    ("residual sugar", 1.9),
    ("chlorides", 0.076),
    ("free sulfur dioxide", 11.0),
    ("total sulfur dioxide", 34.0),
    ("density", 0.9978),
    ("pH", 3.51),
    ("sulphates", 0.56),
    ("alcohol", 9.4),
]
TIMEOUT = 30.0
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


class ScoringError(Exception):
    """Something between the page and the model failed; the message says what (never a key)."""


def api_v2_base(env: Mapping[str, str]) -> str:
    url = env.get("CDSW_API_URL", "").rstrip("/")
    if not url.endswith("/api/v1"):
        raise ScoringError("CDSW_API_URL is not set (this script runs as a CML application)")
    return url[: -len("/api/v1")] + "/api/v2"


def model_service_url(env: Mapping[str, str]) -> str:
    if env.get("MODEL_SERVICE_URL"):
        return env["MODEL_SERVICE_URL"]
    scheme = urllib.parse.urlsplit(env.get("CDSW_API_URL", "https://x")).scheme or "https"
    domain = env.get("CDSW_DOMAIN", "")
    if not domain:
        raise ScoringError("CDSW_DOMAIN is not set (this script runs as a CML application)")
    if domain.split(":")[0] in _LOOPBACK or domain.startswith("[::1]"):
        return f"{scheme}://{domain}/model"
    return f"{scheme}://modelservice.{domain}/model"


def _request(url: str, key: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    req.add_header("Authorization", f"Bearer {key}")
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        raise ScoringError(f"{urllib.parse.urlsplit(url).path} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ScoringError(f"cannot reach {urllib.parse.urlsplit(url).netloc}: {exc}") from None


def access_key(env: Mapping[str, str]) -> str:
    """The access key of the model ``MODEL_NAME`` in this application's project (API v2)."""
    name, project = env.get("MODEL_NAME", ""), env.get("CDSW_PROJECT_ID", "")
    if not name or not project:
        raise ScoringError("MODEL_NAME and CDSW_PROJECT_ID must be set")
    query = urllib.parse.urlencode({"search_filter": json.dumps({"name": name}), "page_size": 100})
    found = _request(f"{api_v2_base(env)}/projects/{project}/models?{query}", env.get("CDSW_APIV2_KEY", ""))
    for model in (found or {}).get("models", []):
        if model.get("name") == name and model.get("access_key"):
            return str(model["access_key"])
    raise ScoringError(f"no model named {name!r} in this project yet (apply the spec first)")


def prediction(answer: Any) -> float:
    """The one prediction in a model service answer (``response`` a list, or holding one)."""
    if not isinstance(answer, dict) or not answer.get("success", True):
        raise ScoringError(f"the model refused the request: {json.dumps(answer)[:300]}")
    value = answer.get("response", answer)
    if isinstance(value, dict):
        value = next((value[k] for k in ("prediction", "predictions") if k in value), value)
    while isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScoringError(f"unexpected answer from the model: {json.dumps(answer)[:300]}")
    return float(value)


def score(features: list[float], env: Mapping[str, str] = os.environ) -> float:
    """The predicted quality of one wine, from the PRD model endpoint."""
    body = {"accessKey": access_key(env), "request": {"input": [features]}}
    return prediction(_request(model_service_url(env), env.get("CDSW_APIV2_KEY", ""), body))


def page(values: list[float], result: str = "") -> str:
    rows = "".join(
        f'<label>{html.escape(name)} <input name="f{i}" value="{value:g}" inputmode="decimal"></label><br>'
        for i, ((name, _), value) in enumerate(zip(FEATURES, values, strict=True))
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Wine scorer</title></head><body>"
        f"<h1>Wine scorer</h1><form method='post' action='score'>{rows}<button>Score</button></form>"
        f"<p id='result'>{html.escape(result)}</p></body></html>"
    )


def parse_form(body: str) -> list[float]:
    fields = urllib.parse.parse_qs(body)
    try:
        return [float(fields.get(f"f{i}", [str(default)])[0]) for i, (_, default) in enumerate(FEATURES)]
    except ValueError:
        raise ScoringError("every measurement must be a number") from None


class Handler(BaseHTTPRequestHandler):
    def _send(self, status: int, text: str, kind: str = "text/html; charset=utf-8") -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path.endswith("/health"):
            self._send(200, "ok", "text/plain")
        else:
            self._send(200, page([default for _, default in FEATURES]))

    def do_POST(self) -> None:
        length = min(int(self.headers.get("Content-Length") or 0), 65536)
        body = self.rfile.read(length).decode("utf-8", "replace")
        values = [default for _, default in FEATURES]
        try:
            values = parse_form(body)
            result, status = f"Predicted quality: {score(values):.2f}", 200
        except ScoringError as exc:
            result, status = f"Could not score: {exc}", 502
        self._send(status, page(values, result))

    def log_message(self, format: str, *args: Any) -> None:
        print(f"{self.address_string()} {format % args}", flush=True)


def main() -> None:
    port = int(os.environ.get("CDSW_APP_PORT") or os.environ.get("CDSW_READONLY_PORT") or 8080)
    # CML routes https://<subdomain>.<domain> to 127.0.0.1:CDSW_APP_PORT inside the engine.
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"wine scorer listening on port {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
