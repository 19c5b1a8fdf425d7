"""The HTTP core: error table, retries on a fake clock, create-safety, redacted trace, plumbing."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
import requests
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from automation.clock import FakeClock
from automation.errors import (
    EXIT_AUTH,
    EXIT_FAILURE,
    EXIT_UNREACHABLE,
    ApiError,
    BadRequest,
    Conflict,
    NotFound,
    PermissionDenied,
    ServerError,
    ServiceUnavailable,
    TooManyRequests,
    TransportError,
    Unauthenticated,
)
from automation.http import HttpClient, RetryPolicy
from automation.redact import Redactor, mask, redact_data

BASE = "https://cml.example.test"
KEY = "apiv2-http-secret-abcdef0123456789abcdef"
ACCESS_KEY = "mabcdefghijklmnopqrstuvwxyz01234"
URL = BASE + "/api/v2/projects"


class MaxJitter(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def lines() -> list[str]:
    return []


def make(clock: FakeClock, lines: list[str] | None = None, **policy: object) -> HttpClient:
    retry = RetryPolicy(rng=MaxJitter(), **policy)  # type: ignore[arg-type]
    return HttpClient(BASE, KEY, clock=clock, retry=retry, trace=None if lines is None else lines.append)


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True, registry=OrderedRegistry) as m:
        yield m


def err_body(code: int, message: str) -> dict[str, object]:
    return {"error": message, "code": code, "message": message, "details": []}


# --- the error table ------------------------------------------------------------------------------

TABLE = [
    (400, 3, BadRequest, EXIT_FAILURE),
    (401, 16, Unauthenticated, EXIT_AUTH),
    (403, 7, PermissionDenied, EXIT_AUTH),
    (404, 5, NotFound, EXIT_FAILURE),
    (409, 6, Conflict, EXIT_FAILURE),
    (429, 8, TooManyRequests, EXIT_FAILURE),
    (500, 13, ServerError, EXIT_FAILURE),
    (503, 14, ServiceUnavailable, EXIT_FAILURE),
]


@pytest.mark.parametrize(("status", "code", "cls", "exit_code"), TABLE)
def test_error_table(
    mock: responses.RequestsMock, clock: FakeClock, status: int, code: int, cls: type, exit_code: int
) -> None:
    http = make(clock, max_attempts=1)
    mock.add("GET", URL + "/p1", status=status, json=err_body(code, f"server says {status}"))

    with pytest.raises(cls) as info:
        http.request("GET", "/api/v2/projects/p1")

    err = info.value
    assert type(err) is cls
    assert err.exit_code == exit_code
    assert (err.status, err.grpc_code, err.method, err.path) == (status, code, "GET", "/api/v2/projects/p1")
    assert err.message == f"GET /api/v2/projects/p1 failed: HTTP {status}: server says {status}"
    assert err.to_dict()["status"] == status and err.to_dict()["exit_code"] == exit_code


def test_grpc_code_refines_an_ambiguous_400(mock: responses.RequestsMock, clock: FakeClock) -> None:
    mock.add("GET", URL, status=400, json=err_body(5, "no such project"))

    with pytest.raises(NotFound):
        make(clock).request("GET", "/api/v2/projects")


def test_error_uses_the_error_field_when_message_is_empty(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.add("GET", URL, status=409, json={"error": "already exists", "code": 6, "message": ""})

    with pytest.raises(Conflict) as info:
        make(clock).request("GET", "/api/v2/projects")

    assert info.value.server_message == "already exists"


def test_non_json_error_body(mock: responses.RequestsMock, clock: FakeClock) -> None:
    html = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    mock.add("POST", URL, status=502, body=html, content_type="text/html")

    with pytest.raises(ServerError) as info:
        make(clock).request("POST", "/api/v2/projects", json_body={"name": "x"})

    err = info.value
    assert (err.status, err.grpc_code, err.exit_code) == (502, None, EXIT_FAILURE)
    assert "POST /api/v2/projects failed: HTTP 502" in err.message and "502 Bad Gateway" in err.message


def test_an_unknown_4xx_is_a_plain_api_error(mock: responses.RequestsMock, clock: FakeClock) -> None:
    mock.add("GET", URL, status=418, body="")

    with pytest.raises(ApiError) as info:
        make(clock).request("GET", "/api/v2/projects")

    assert type(info.value) is ApiError and info.value.status == 418 and "HTTP 418" in info.value.message


def test_server_message_echoing_the_key_is_redacted(mock: responses.RequestsMock, clock: FakeClock) -> None:
    mock.add("GET", URL, status=401, json=err_body(16, f"bad key {KEY}"))

    with pytest.raises(Unauthenticated) as info:
        make(clock).request("GET", "/api/v2/projects")

    assert KEY not in str(info.value) and "***" in info.value.message
    assert "CML_API_KEY" in str(info.value)  # the hint names the variable


# --- retries --------------------------------------------------------------------------------------


def test_retry_after_is_honoured(mock: responses.RequestsMock, clock: FakeClock) -> None:
    http = make(clock)
    mock.add("GET", URL, status=503, json=err_body(14, "busy"), headers={"Retry-After": "7"})
    mock.add("GET", URL, status=429, json=err_body(8, "slow down"), headers={"Retry-After": "0.5"})
    mock.add("GET", URL, json={"projects": []})

    assert http.request("GET", "/api/v2/projects") == {"projects": []}
    assert clock.sleeps == [7.0, 0.5]
    assert (http.stats.requests, http.stats.retries) == (3, 2)


def test_exponential_backoff_is_capped(mock: responses.RequestsMock, clock: FakeClock) -> None:
    http = make(clock, max_attempts=8, base_delay=0.5, max_delay=4.0, deadline=1000)
    for status in (500, 502, 504, 500, 503, 502, 500):
        mock.add("GET", URL, status=status, json=err_body(13, "x"))
    mock.add("GET", URL, json={})

    assert http.request("GET", "/api/v2/projects") == {}
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]


def test_jitter_stays_within_the_backoff_window(mock: responses.RequestsMock, clock: FakeClock) -> None:
    retry = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=8.0, rng=random.Random(1234))
    http = HttpClient(BASE, KEY, clock=clock, retry=retry)
    for _ in range(4):
        mock.add("GET", URL, status=503, json=err_body(14, "x"))
    mock.add("GET", URL, json={})

    http.request("GET", "/api/v2/projects")

    ceilings = [1.0, 2.0, 4.0, 8.0]
    assert len(clock.sleeps) == 4
    assert all(c / 2 <= s <= c for s, c in zip(clock.sleeps, ceilings, strict=True)), clock.sleeps


def test_the_overall_deadline_stops_retrying(mock: responses.RequestsMock, clock: FakeClock) -> None:
    http = make(clock, max_attempts=50, base_delay=1.0, max_delay=100, deadline=10)
    for _ in range(4):  # sleeps 1, 2, 4 (t = 7); the next (8 s) would end past the 10 s deadline
        mock.add("GET", URL, status=503, json=err_body(14, "unavailable"))

    with pytest.raises(ServiceUnavailable):
        http.request("GET", "/api/v2/projects")

    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert len(mock.calls) == 4


def test_a_retry_after_past_the_deadline_is_not_waited_for(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.add("GET", URL, status=429, json=err_body(8, "quota"), headers={"Retry-After": "3600"})

    with pytest.raises(TooManyRequests) as info:
        make(clock, deadline=120).request("GET", "/api/v2/projects")

    assert info.value.retry_after == 3600 and clock.sleeps == []


def test_max_attempts(mock: responses.RequestsMock, clock: FakeClock) -> None:
    for _ in range(3):
        mock.add("GET", URL, status=500, json=err_body(13, "internal"))

    with pytest.raises(ServerError):
        make(clock, max_attempts=3).request("GET", "/api/v2/projects")

    assert len(mock.calls) == 3 and len(clock.sleeps) == 2


def test_client_errors_are_not_retried(mock: responses.RequestsMock, clock: FakeClock) -> None:
    mock.add("GET", URL, status=404, json=err_body(5, "nope"))

    with pytest.raises(NotFound):
        make(clock).request("GET", "/api/v2/projects")

    assert len(mock.calls) == 1 and clock.sleeps == []


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_create_that_may_have_been_applied_is_not_resent(
    mock: responses.RequestsMock, clock: FakeClock, status: int
) -> None:
    mock.add(
        "POST",
        URL,
        status=status,
        json=err_body(13, "oops"),
        match=[matchers.json_params_matcher({"name": "wine-dev"})],
    )

    with pytest.raises(ServerError) as info:
        make(clock).request("POST", "/api/v2/projects", json_body={"name": "wine-dev"})

    assert info.value.maybe_applied is True
    assert len(mock.calls) == 1 and clock.sleeps == []


def test_a_create_whose_answer_timed_out_is_not_resent(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.add("POST", URL, body=requests.exceptions.ReadTimeout("Read timed out. (read timeout=60)"))

    with pytest.raises(TransportError) as info:
        make(clock).request("POST", "/api/v2/projects", json_body={"name": "wine-dev"})

    assert info.value.maybe_applied is True and info.value.exit_code == EXIT_UNREACHABLE
    assert "did not answer in time" in info.value.message
    assert len(mock.calls) == 1


def test_a_create_cut_off_mid_answer_is_not_resent(mock: responses.RequestsMock, clock: FakeClock) -> None:
    mock.add("POST", URL, body=requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead"))

    with pytest.raises(TransportError) as info:
        make(clock).request("POST", "/api/v2/projects", json_body={"name": "wine-dev"})

    assert info.value.maybe_applied is True and len(mock.calls) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_a_create_refused_with_429_or_503_is_retried(
    mock: responses.RequestsMock, clock: FakeClock, status: int
) -> None:
    body = matchers.json_params_matcher({"name": "wine-dev"})
    mock.add("POST", URL, status=status, json=err_body(8 if status == 429 else 14, "later"), match=[body])
    mock.add("POST", URL, json={"id": "p1"}, match=[body])

    assert make(clock).request("POST", "/api/v2/projects", json_body={"name": "wine-dev"}) == {"id": "p1"}
    assert len(mock.calls) == 2 and clock.sleeps == [0.5]


def test_a_create_whose_connection_was_refused_is_retried_once_the_workspace_answered(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    refused = requests.exceptions.ConnectionError(
        "HTTPSConnectionPool: Max retries exceeded (Failed to establish a new connection: [Errno 111] Connection refused)"
    )
    mock.add("GET", URL, json={"projects": []})
    mock.add("POST", URL, body=refused)
    mock.add("POST", URL, json={"id": "p1"})

    client = make(clock)
    client.request("GET", "/api/v2/projects")  # the workspace answered: a refusal now is a blip
    assert client.request("POST", "/api/v2/projects", json_body={"name": "wine-dev"}) == {"id": "p1"}
    assert len(mock.calls) == 3


def test_a_create_whose_connection_reset_is_not_resent(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.add(
        "POST",
        URL,
        body=requests.exceptions.ConnectionError(
            "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"
        ),
    )

    with pytest.raises(TransportError) as info:
        make(clock).request("POST", "/api/v2/projects", json_body={"name": "wine-dev"})

    assert info.value.maybe_applied is True and len(mock.calls) == 1


def test_reads_retry_timeouts_and_resets(mock: responses.RequestsMock, clock: FakeClock) -> None:
    mock.add("GET", URL, body=requests.exceptions.ReadTimeout("Read timed out."))
    mock.add("GET", URL, body=requests.exceptions.ConnectionError("Connection reset by peer"))
    mock.add("GET", URL, json={"projects": []})

    assert make(clock).request("GET", "/api/v2/projects") == {"projects": []}
    assert clock.sleeps == [0.5, 1.0]


def test_an_idempotent_post_is_retried_after_a_500(mock: responses.RequestsMock, clock: FakeClock) -> None:
    mock.add("POST", BASE + "/api/v2/auth/validate_key", status=500, json=err_body(13, "x"))
    mock.add("POST", BASE + "/api/v2/auth/validate_key", json={"valid": True})

    assert make(clock).request(
        "POST", "/api/v2/auth/validate_key", json_body={"audience": "API"}, idempotent=True
    ) == {"valid": True}


def test_unreachable_workspace_fails_fast_with_exit_8(mock: responses.RequestsMock, clock: FakeClock) -> None:
    mock.add("GET", URL, body=requests.exceptions.ConnectionError("[Errno 111] Connection refused"))

    with pytest.raises(TransportError) as info:
        make(clock, max_attempts=3).request("GET", "/api/v2/projects")

    err = info.value
    assert err.exit_code == EXIT_UNREACHABLE and err.maybe_applied is False
    assert "cannot reach https://cml.example.test" in err.message and "connection refused" in err.message
    assert "nothing listens there" in (err.hint or "")
    assert len(mock.calls) == 1 and clock.sleeps == []  # no retry of a workspace never reached


def test_a_host_that_does_not_resolve_fails_at_once_naming_dns(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    dns = requests.exceptions.ConnectionError(
        "HTTPSConnectionPool(host='ml-typo.example.test', port=443): Max retries exceeded (Caused by "
        "NameResolutionError(\"Failed to resolve 'ml-typo.example.test' ([Errno -2] Name or service not known)\"))"
    )
    mock.add("GET", URL, json={"projects": []})
    mock.add("GET", URL, body=dns)
    client = make(clock)
    client.request("GET", "/api/v2/projects")
    with pytest.raises(TransportError) as info:
        client.request("GET", "/api/v2/projects")  # even after an answer: DNS does not heal in seconds

    assert info.value.exit_code == EXIT_UNREACHABLE and "host name not found (DNS)" in info.value.message
    assert "typo" in (info.value.hint or "") and clock.sleeps == []


def test_tls_failure_is_not_retried_and_points_at_the_ca_bundle(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.add(
        "GET",
        URL,
        body=requests.exceptions.SSLError(
            "certificate verify failed: unable to get local issuer certificate"
        ),
    )

    with pytest.raises(TransportError) as info:
        make(clock).request("GET", "/api/v2/projects")

    assert "TLS verification failed" in info.value.message and "CML_CA_BUNDLE" in (info.value.hint or "")
    assert len(mock.calls) == 1 and clock.sleeps == []


# --- plumbing -------------------------------------------------------------------------------------


def test_auth_header_user_agent_query_cleaning_and_body(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.add(
        "GET",
        URL,
        json={"ok": 1},
        match=[
            matchers.header_matcher(
                {"Authorization": f"Bearer {KEY}", "User-Agent": "cmlops", "Accept": "application/json"}
            ),
            matchers.query_param_matcher(
                {"search_filter": '{"name":"a b"}', "include_public_projects": "false", "page_size": "10"}
            ),
        ],
    )

    params = {
        "search_filter": {"name": "a b"},
        "include_public_projects": False,
        "page_size": 10,
        "sort": None,
    }
    assert make(clock).request("GET", "/api/v2/projects", params=params) == {"ok": 1}


def test_empty_and_non_json_success_bodies(mock: responses.RequestsMock, clock: FakeClock) -> None:
    http = make(clock)
    mock.add("DELETE", URL + "/p1", body="")
    mock.add("GET", URL + "/p1", body="plain text", content_type="text/plain")

    assert http.request("DELETE", "/api/v2/projects/p1") == {}
    assert http.get("/api/v2/projects/p1") == {"raw": "plain text"}


def test_stats_count_requests_retries_and_writes(mock: responses.RequestsMock, clock: FakeClock) -> None:
    http = make(clock)
    mock.add("GET", URL, status=503, json=err_body(14, "x"))
    mock.add("GET", URL, json={})
    mock.add("POST", URL, json={})
    mock.add("PATCH", URL + "/p1", json={})
    mock.add("DELETE", URL + "/p1", json={})

    http.request("GET", "/api/v2/projects")
    http.request("POST", "/api/v2/projects", json_body={})
    http.request("PATCH", "/api/v2/projects/p1", json_body={})
    http.request("DELETE", "/api/v2/projects/p1")

    assert (http.stats.requests, http.stats.retries, http.stats.writes()) == (5, 1, 3)
    assert http.stats.by_method == {"GET": 2, "POST": 1, "PATCH": 1, "DELETE": 1}


def test_repr_hides_the_key(clock: FakeClock) -> None:
    assert KEY not in repr(make(clock)) and "***" in repr(make(clock))


# --- the redacted trace (what -v shows) -----------------------------------------------------------


def test_trace_shows_the_exchange_but_never_a_secret(
    mock: responses.RequestsMock, clock: FakeClock, lines: list[str]
) -> None:
    http = make(clock, lines)
    model = {"id": "m1", "name": "wine", "access_key": ACCESS_KEY, "auth_enabled": True}
    mock.add("GET", BASE + "/api/v2/projects/p1/models/m1", json=model)
    mock.add(
        "POST", "https://cml.example.test/model", json={"success": True, "echo": f"accessKey={ACCESS_KEY}"}
    )
    mock.add(
        "GET",
        URL,
        status=503,
        json=err_body(14, f"Authorization: Bearer {KEY}"),
        headers={"Retry-After": "1"},
    )
    mock.add("GET", URL, json={"projects": []})

    http.request("GET", "/api/v2/projects/p1/models/m1")
    http.add_secret(ACCESS_KEY)  # what Models.get does after parsing
    http.request("POST", "/model", json_body={"accessKey": ACCESS_KEY, "request": {"input": [[1]]}})
    http.request("GET", "/api/v2/projects", params={"search_filter": {"name": "wine"}})

    text = "\n".join(lines)
    assert KEY not in text and ACCESS_KEY not in text
    assert "Bearer ***" in text
    assert "-> GET /api/v2/projects/p1/models/m1" in text
    assert "<- 200 GET /api/v2/projects/p1/models/m1 (" in text and " ms)" in text
    assert '"access_key": "***"' in text and '"accessKey": "***"' in text
    assert '-> GET /api/v2/projects?search_filter={"name":"wine"}' in text
    assert "<- 503 GET /api/v2/projects" in text and "retry 1 in 1.00s" in text


def test_trace_truncates_large_bodies(
    mock: responses.RequestsMock, clock: FakeClock, lines: list[str]
) -> None:
    mock.add("GET", URL, json={"projects": [{"id": str(i), "name": "x" * 50} for i in range(200)]})

    make(clock, lines).request("GET", "/api/v2/projects")

    assert len(lines[-1]) < 2300 and lines[-1].endswith("...(truncated)")


# --- redaction helpers ----------------------------------------------------------------------------


def test_redact_data_masks_secret_named_values_at_any_depth() -> None:
    data = {
        "name": "m",
        "access_key": ACCESS_KEY,
        "nested": [{"accessKey": "abc"}, {"Authorization": "Bearer x"}, {"API-KEY": "k"}],
        "deployment_secrets": {"DB": "pw"},
        "empty_secret": {"password": ""},
    }

    assert redact_data(data) == {
        "name": "m",
        "access_key": "***",
        "nested": [{"accessKey": "***"}, {"Authorization": "***"}, {"API-KEY": "***"}],
        "deployment_secrets": "***",
        "empty_secret": {"password": ""},
    }
    assert data["access_key"] == ACCESS_KEY  # a copy, not in place


def test_redactor_removes_known_secrets_and_bearer_values() -> None:
    redact = Redactor(KEY, "short", None)
    redact.add(ACCESS_KEY)

    text = redact(f"key={KEY} ak={ACCESS_KEY} short Authorization: Bearer abc.DEF-123_~+/=")

    assert text == "key=*** ak=*** short Authorization: Bearer ***"
    assert mask(KEY) == "***" and mask("") == "<unset>" and mask(None) == "<unset>"
