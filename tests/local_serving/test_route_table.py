"""RouteTable: a model's route is derived from its live deployments (kept per deployment)."""

from __future__ import annotations

import itertools

import pytest

from automation.local.workloads.routes import Route, RouteTable


def test_the_deployment_made_live_last_answers_and_stopping_it_hands_the_route_back():
    table = RouteTable()
    table.set("key", Route("new", 2, auth=True))
    table.set("key", Route("old", 1, auth=True))  # the older one restarted: it answers now
    assert table.get("key").deployment_id == "old" and table.live("key") == ["old", "new"]
    table.drop_deployment("old")
    assert table.get("key").deployment_id == "new"
    table.drop_deployment("new")
    assert table.get("key") is None and table.live("key") == []


@pytest.mark.parametrize("order", list(itertools.permutations(["a", "b", "c"])))
def test_in_any_stop_order_the_route_points_at_a_live_deployment_until_none_is_left(order):
    table = RouteTable()
    for port, dep in enumerate("abc"):
        table.set("key", Route(dep, port, auth=False))
    table.set("other", Route("x", 9, auth=False))
    live = set("abc")
    for dep in order:
        table.drop_deployment(dep)
        live.discard(dep)
        route = table.get("key")
        assert (route.deployment_id in live) if live else route is None
        assert table.get("other").deployment_id == "x"  # another model's route is never touched


def test_setting_a_deployment_again_moves_it_not_copies_it():
    table = RouteTable()
    table.set("key", Route("a", 1, auth=False))
    table.set("key", Route("a", 5, auth=False))  # restarted on another port
    assert table.live("key") == ["a"] and table.get("key").port == 5
    table.clear()
    assert table.get("key") is None
