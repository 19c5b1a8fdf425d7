"""The HTTP core's details that mutation testing found unguarded: the trace's exact text, hints per
status, retry boundaries on a clock that does not start at zero, sibling clients, defaults."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Iterator

import pytest
import requests
import responses
from responses.registries import OrderedRegistry

from automation.clock import FakeClock
from automation.errors import ApiError, TransportError
from automation.http import HttpClient, RetryPolicy

BASE = "https://cml.example.test"
KEY = "apiv2-details-secret-0123456789abcdef012345"
ACCESS_KEY = "mzyxwvutsrqponmlkjihgfedcba98765"
URL = BASE + "/api/v2/projects"


class MaxJitter(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True, registry=OrderedRegistry) as m:
        yield m


def client(lines: list[str] | None = None, clock: FakeClock | None = None, **policy: object) -> HttpClient:
    retry = RetryPolicy(rng=MaxJitter(), **policy)  # type: ignore[arg-type]
    trace = None if lines is None else lines.append
    return HttpClient(BASE, KEY, clock=clock or FakeClock(), retry=retry, trace=trace)


# --- defaults, as the README's Reliability section states them -------------------------------------


def test_defaults_are_the_documented_ones():
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.max_delay, policy.deadline) == (6, 10.0, 120.0)
    plain = HttpClient(BASE, KEY)
    assert plain.timeout == (10.0, 60.0)
    assert plain.verify is True  # TLS verification is on unless a CA bundle or --insecure says otherwise


# --- the trace ------------------------------------------------------------------------------------


def test_request_line_shows_query_and_sorted_redacted_body(mock):
    mock.post(URL, json={"id": "p1"})
    lines: list[str] = []
    client(lines).request(
        "POST", "/api/v2/projects", params={"b": 2, "a": "x"}, json_body={"z": 1, "name": "n"}
    )
    assert lines[0] == '-> POST /api/v2/projects?b=2&a=x body={"name": "n", "z": 1}'


def test_request_line_for_files_names_them(mock):
    mock.post(URL + "/p1/files", json={})
    lines: list[str] = []
    client(lines).request("POST", "/api/v2/projects/p1/files", files={"b.py": b"x", "a.py": b"y"})
    assert lines[0] == "-> POST /api/v2/projects/p1/files files=['a.py', 'b.py']"


def test_request_body_is_cut_at_2000_characters(mock):
    mock.post(URL, json={})
    lines: list[str] = []
    client(lines).request("POST", "/api/v2/projects", json_body={"d": "x" * 5000})
    assert len(lines[0].split(" body=", 1)[1]) == 2000


def test_response_line_shows_status_time_and_sorted_body(mock):
    def slow(request):
        time.sleep(0.05)
        return 200, {}, json.dumps({"z": 1, "a": 2})

    mock.add_callback(responses.GET, URL, callback=slow)
    lines: list[str] = []
    client(lines).request("GET", "/api/v2/projects")
    match = re.fullmatch(r'<- 200 GET /api/v2/projects \((\d+) ms\) body=\{"a": 2, "z": 1\}', lines[1])
    assert match, lines[1]
    assert 40 <= int(match.group(1)) < 60_000  # milliseconds of this call, not of the process


@pytest.mark.parametrize(("size", "cut"), [(2000, False), (2001, True)])
def test_response_body_over_2000_characters_is_marked_truncated(mock, size, cut):
    mock.get(URL, body="y" * size, content_type="text/plain")
    lines: list[str] = []
    client(lines).request("GET", "/api/v2/projects")
    body = lines[1].split(" body=", 1)[1]
    assert body.endswith("...(truncated)") is cut
    assert body.startswith("y" * 2000)


def test_empty_response_has_no_body_part(mock):
    mock.delete(URL + "/p1", body=b"")
    lines: list[str] = []
    client(lines).request("DELETE", "/api/v2/projects/p1")
    assert lines[0] == "-> DELETE /api/v2/projects/p1"  # no query, no body: nothing after the path
    assert re.fullmatch(r"<- 200 DELETE /api/v2/projects/p1 \(\d+ ms\)", lines[1]), lines[1]


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "hint"),
    [(401, "CML_API_KEY"), (403, "lacks permission"), (429, "throttling"), (404, None), (400, None)],
)
def test_hint_per_status(mock, status, hint):
    mock.post(URL, status=status, json={"message": "no", "code": 3})
    with pytest.raises(ApiError) as caught:
        client(max_attempts=1).request("POST", "/api/v2/projects", json_body={})
    if hint is None:
        assert caught.value.hint is None
    else:
        assert hint in (caught.value.hint or "")


def test_a_non_json_error_body_is_kept_to_300_characters(mock):
    mock.post(URL, status=400, body="e" * 450, content_type="text/plain")
    with pytest.raises(ApiError) as caught:
        client().request("POST", "/api/v2/projects", json_body={})
    assert caught.value.server_message == "e" * 300


def test_a_refused_write_is_not_maybe_applied_and_a_failed_read_neither(mock):
    mock.post(URL, status=400, json={"message": "bad", "code": 3})
    with pytest.raises(ApiError) as write:
        client().request("POST", "/api/v2/projects", json_body={})
    assert not getattr(write.value, "maybe_applied", False)
    mock.get(URL, status=500, json={"message": "boom", "code": 13})
    with pytest.raises(ApiError) as read:
        client(max_attempts=1).request("GET", "/api/v2/projects")
    assert not getattr(read.value, "maybe_applied", False)


def test_connection_failure_names_its_cause_or_its_type(mock):
    mock.get(URL, body=requests.exceptions.ConnectionError("[Errno 111] Connection refused"))
    with pytest.raises(TransportError) as refused:
        client(max_attempts=1).request("GET", "/api/v2/projects")
    assert "(connection refused)" in str(refused.value)
    mock.get(URL, body=requests.exceptions.ConnectionError("something odd"))
    with pytest.raises(TransportError) as odd:
        client(max_attempts=1).request("GET", "/api/v2/projects")
    assert "(ConnectionError)" in str(odd.value)


def test_a_dropped_connection_is_retried(mock):
    mock.get(URL, body=requests.exceptions.ConnectionError("Connection reset by peer"))
    mock.get(URL, json={"projects": []})
    http = client()
    assert http.request("GET", "/api/v2/projects") == {"projects": []}
    assert http.stats.retries == 1


def test_tls_failure_is_not_retried_and_a_create_did_not_happen(mock):
    mock.post(URL, body=requests.exceptions.SSLError("certificate verify failed"))
    http = client()
    with pytest.raises(TransportError) as caught:
        http.request("POST", "/api/v2/projects", json_body={})
    assert http.stats.requests == 1
    assert getattr(caught.value, "maybe_applied", None) is False
    mock.get(URL, body=requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(TransportError):
        http.request("GET", "/api/v2/projects")
    assert http.stats.requests == 2  # a GET is not retried either: a bad certificate does not heal


# --- retry boundaries on a clock far from zero ------------------------------------------------------


def test_a_retry_that_ends_exactly_at_the_deadline_is_taken_and_waits_its_full_delay(mock):
    mock.get(URL, status=503, json={"message": "busy", "code": 14}, headers={"Retry-After": "2"})
    mock.get(URL, json={"projects": []})
    clock = FakeClock(start=1000.0)
    http = client(clock=clock, deadline=2.0)
    assert http.request("GET", "/api/v2/projects") == {"projects": []}
    assert clock.sleeps == [2.0]


def test_a_retry_that_would_end_past_the_deadline_is_not_taken(mock):
    mock.get(URL, status=503, json={"message": "busy", "code": 14}, headers={"Retry-After": "2.5"})
    clock = FakeClock(start=1000.0)
    with pytest.raises(ApiError):
        client(clock=clock, deadline=2.0).request("GET", "/api/v2/projects")
    assert clock.sleeps == []


# --- siblings and counters ------------------------------------------------------------------------


def test_a_sibling_shares_secrets_settings_and_policy(mock):
    lines: list[str] = []
    policy = RetryPolicy(max_attempts=2)
    parent = HttpClient(BASE, KEY, verify="/ca.pem", timeout=(1.0, 2.0), retry=policy, trace=lines.append)
    child = parent.sibling("https://modelservice.example.test")
    parent.add_secret(ACCESS_KEY)  # registered after the sibling was made: still masked there
    assert (child.verify, child.timeout, child.retry, child.clock) == (
        "/ca.pem",
        (1.0, 2.0),
        policy,
        parent.clock,
    )
    own = RetryPolicy(max_attempts=1)
    assert parent.sibling("https://other.example.test", retry=own).retry is own
    mock.post("https://modelservice.example.test/model", json={"ok": True})
    child.request("POST", "/model", json_body={"accessKey": ACCESS_KEY, "request": {}})
    assert ACCESS_KEY not in "\n".join(lines) and lines


def test_writes_count_every_write_method(mock):
    for method in ("POST", "PATCH", "PUT", "DELETE"):
        mock.add(method, URL, json={})
    mock.get(URL, json={})
    http = client()
    for method in ("POST", "PATCH", "PUT", "DELETE", "GET"):
        http.request(method, "/api/v2/projects", json_body={} if method != "GET" else None)
    assert http.stats.writes() == 4
