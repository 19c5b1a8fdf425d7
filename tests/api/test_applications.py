"""Applications (AMP launches)."""

from __future__ import annotations

from automation.api import CMLClient

from .wire import Wire, application, search

APPS = "/api/v2/projects/p1/applications"


def test_list_find_get(client: CMLClient, wire: Wire) -> None:
    q = {"search_filter": search(name="dashboard")}
    wire.page(APPS, "applications", [application("a0", "dashboard-old")], token=None, next_token="n", query=q)
    wire.page(APPS, "applications", [application("a1", "dashboard")], token="n", query=q)
    wire.expect(
        "GET",
        f"{APPS}/a1",
        reply=application("a1", status="APPLICATION_RUNNING", environment='{"PORT":"8100"}'),
    )

    found = client.applications.find("p1", "dashboard")
    got = client.applications.get("p1", "a1")

    assert found is not None and found.id == "a1"
    assert (got.status, got.environment) == ("APPLICATION_RUNNING", {"PORT": "8100"})


def test_create_sends_the_create_application_request(client: CMLClient, wire: Wire) -> None:
    body = {
        "project_id": "p1",
        "name": "dashboard",
        "subdomain": "wine-dash",
        "script": "app.py",
        "runtime_identifier": "rt",
        "cpu": 1,
        "memory": 2,
        "nvidia_gpu": 0,
        "description": "charts",
        "environment": {"PORT": "8100"},
        "bypass_authentication": True,
    }
    wire.expect("POST", APPS, body=body, reply=application("a1"))

    got = client.applications.create(
        "p1",
        name="dashboard",
        subdomain="wine-dash",
        script="app.py",
        runtime_identifier="rt",
        description="charts",
        environment={"PORT": "8100"},
        bypass_authentication=True,
    )

    assert got.id == "a1"


def test_stop_and_delete(client: CMLClient, wire: Wire) -> None:
    wire.expect("POST", f"{APPS}/a1:stop", reply=application("a1", status="APPLICATION_STOPPING"))
    wire.expect("DELETE", f"{APPS}/a1")

    assert client.applications.stop("p1", "a1").status == "APPLICATION_STOPPING"
    assert client.applications.delete("p1", "a1") is None


def test_update_sends_the_application_message(client: CMLClient, wire: Wire) -> None:
    body = {"description": "d", "environment": '{"A": "1"}'}
    wire.expect("PATCH", f"{APPS}/a1", body=body, reply=application("a1"))

    assert client.applications.update("p1", "a1", description="d", environment={"A": "1"}).id == "a1"
