"""code/app/scorer.py, the flagship's application: finds the model's access key through API v2 and
scores a wine on the model service, against a loopback stand-in for both (stdlib, no workspace)."""

from __future__ import annotations

import importlib.util
import json
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCORER = Path(__file__).resolve().parents[2] / "code" / "app" / "scorer.py"
KEY = "apiv2-key-0123456789"
ACCESS = "m0accesskey0000000000000000000000"


@pytest.fixture(scope="module")
def scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("scorer", SCORER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Workspace:
    """What the scorer calls: GET the project's models (API v2) and POST /model."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, str], Any]] = []
        self.answer: Any = {"success": True, "response": {"prediction": [5.25]}}

    def handler(self) -> type[BaseHTTPRequestHandler]:
        ws = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                ws.calls.append(("GET", self.path, dict(self.headers), None))
                if self.headers.get("Authorization") != f"Bearer {KEY}":
                    return self._reply(401, {"message": "bad key"})
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                wanted = json.loads(query["search_filter"][0])["name"]
                models = [
                    {"name": "wine-quality-endpoint-staging", "access_key": "other"},
                    {"name": "wine-quality-endpoint", "access_key": ACCESS},
                ]
                return self._reply(200, {"models": [m for m in models if wanted in m["name"]]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                ws.calls.append(("POST", self.path, dict(self.headers), body))
                if self.headers.get("Authorization") != f"Bearer {KEY}" or body.get("accessKey") != ACCESS:
                    return self._reply(401, {"success": False, "errors": {"message": "bad key"}})
                return self._reply(200, ws.answer)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def _serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


@pytest.fixture
def workspace() -> Iterator[tuple[Workspace, dict[str, str]]]:
    ws = Workspace()
    server, port = _serve(ws.handler())
    env = {
        "CDSW_API_URL": f"http://127.0.0.1:{port}/api/v1",
        "CDSW_DOMAIN": f"127.0.0.1:{port}",
        "CDSW_APIV2_KEY": KEY,
        "CDSW_PROJECT_ID": "prd1-abcd-efgh-ijkl",
        "MODEL_NAME": "wine-quality-endpoint",
    }
    yield ws, env
    server.shutdown()
    server.server_close()


def test_scores_through_api_v2_and_the_model_service(scorer, workspace):
    ws, env = workspace
    row = [default for _, default in scorer.FEATURES]
    assert scorer.score(row, env) == 5.25
    (get, _, _, _), (post, path, headers, body) = ws.calls
    assert get == "GET" and ws.calls[0][1].startswith("/api/v2/projects/prd1-abcd-efgh-ijkl/models?")
    assert (post, path) == ("POST", "/model") and headers["Content-Type"] == "application/json"
    assert body == {"accessKey": ACCESS, "request": {"input": [row]}}  # the flagship smoke's shape


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"success": True, "response": [6.0]}, 6.0),
        ({"success": True, "response": {"predictions": [[4.5]]}}, 4.5),
        ({"success": True, "response": 7}, 7.0),
    ],
)
def test_reads_the_prediction_shapes(scorer, answer, expected):
    assert scorer.prediction(answer) == expected


@pytest.mark.parametrize(
    "answer", [{"success": False, "errors": {"x": 1}}, {"success": True, "response": ["high"]}, None]
)
def test_refuses_what_is_not_a_prediction(scorer, answer):
    with pytest.raises(scorer.ScoringError):
        scorer.prediction(answer)


def test_model_service_url(scorer):
    real = {"CDSW_API_URL": "https://ml-1.example.site/api/v1", "CDSW_DOMAIN": "ml-1.example.site"}
    assert scorer.model_service_url(real) == "https://modelservice.ml-1.example.site/model"
    local = {"CDSW_API_URL": "http://127.0.0.1:8123/api/v1", "CDSW_DOMAIN": "127.0.0.1:8123"}
    assert scorer.model_service_url(local) == "http://127.0.0.1:8123/model"
    assert scorer.model_service_url({**real, "MODEL_SERVICE_URL": "https://m/x"}) == "https://m/x"
    assert scorer.api_v2_base(real) == "https://ml-1.example.site/api/v2"


def test_missing_model_and_bad_key_are_said(scorer, workspace):
    _, env = workspace
    with pytest.raises(scorer.ScoringError, match="no model named 'nope'"):
        scorer.access_key({**env, "MODEL_NAME": "nope"})
    with pytest.raises(scorer.ScoringError, match="HTTP 401") as caught:
        scorer.access_key({**env, "CDSW_APIV2_KEY": "wrong"})
    assert "wrong" not in str(caught.value) and KEY not in str(caught.value)


def test_the_page_scores_a_submitted_wine(scorer, workspace, monkeypatch):
    ws, env = workspace
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    server, port = _serve(scorer.Handler)
    try:
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
        assert "<form" in page and 'name="f10"' in page and 'value="9.4"' in page
        form = urllib.parse.urlencode(
            {f"f{i}": v for i, (_, v) in enumerate(scorer.FEATURES)} | {"f10": "12.5"}
        )
        answer = urllib.request.urlopen(f"http://127.0.0.1:{port}/score", data=form.encode(), timeout=10)
        assert "Predicted quality: 5.25" in answer.read().decode()
        assert ws.calls[-1][3]["request"]["input"][0][10] == 12.5
    finally:
        server.shutdown()
        server.server_close()
