"""Runtimes: filtered lists and picking the newest enabled match."""

from __future__ import annotations

import pytest

from automation.api import CMLClient
from automation.errors import EXIT_USAGE, InputError

from .wire import Wire, runtime, search

WANT = {"search_filter": search(editor="Workbench", kernel="Python 3.10", edition="Standard")}


def test_list_with_filter_over_pages(client: CMLClient, wire: Wire) -> None:
    wire.page(
        "/api/v2/runtimes",
        "runtimes",
        [runtime("2024.02.1-b4")],
        token=None,
        next_token="n",
        query={"search_filter": search(kernel="Python 3.10")},
    )
    wire.page(
        "/api/v2/runtimes",
        "runtimes",
        [runtime("2025.01.1-b1")],
        token="n",
        query={"search_filter": search(kernel="Python 3.10")},
    )

    got = [r.full_version for r in client.runtimes.list(search_filter={"kernel": "Python 3.10"})]

    assert got == ["2024.02.1-b4", "2025.01.1-b1"]


def test_pick_takes_the_newest_exact_enabled_match(client: CMLClient, wire: Wire) -> None:
    items = [
        runtime("2024.02.1-b4"),
        runtime("2025.09.1-b5"),
        runtime("2025.10.1-b2", status="DISABLED"),  # newer but disabled
        runtime("2026.01.1-b1", kernel="Python 3.10 (GPU)"),  # substring match on kernel
        runtime("2024.10.1-b12"),
        runtime("2030.01.1-b1", edition="Nvidia GPU"),
    ]
    wire.page("/api/v2/runtimes", "runtimes", items, token=None, query=WANT)

    got = client.runtimes.pick(editor="Workbench", kernel="Python 3.10", edition="Standard")

    assert got.full_version == "2025.09.1-b5"
    assert got.image_identifier.endswith(":2025.09.1-b5")


def test_pick_compares_versions_numerically(client: CMLClient, wire: Wire) -> None:
    items = [runtime("2024.10.1-b9"), runtime("2024.10.1-b12"), runtime("2024.9.1-b20")]
    wire.page("/api/v2/runtimes", "runtimes", items, token=None, query=WANT)

    assert (
        client.runtimes.pick(editor="Workbench", kernel="Python 3.10", edition="Standard").full_version
        == "2024.10.1-b12"
    )


def test_pick_without_a_match_is_an_input_error(client: CMLClient, wire: Wire) -> None:
    wire.page(
        "/api/v2/runtimes", "runtimes", [runtime("2025.01.1-b1", status="DEPRECATED")], token=None, query=WANT
    )

    with pytest.raises(InputError) as info:
        client.runtimes.pick(editor="Workbench", kernel="Python 3.10", edition="Standard")

    assert info.value.exit_code == EXIT_USAGE
    assert "Python 3.10" in str(info.value) and "runtime" in str(info.value)


@pytest.mark.parametrize(("found", "expected"), [(True, True), (False, False)])
def test_exists_checks_the_exact_identifier(
    client: CMLClient, wire: Wire, found: bool, expected: bool
) -> None:
    ident = runtime("2025.01.1-b1")["image_identifier"]
    items = [runtime("2025.01.1-b1")] if found else [runtime("2025.01.1-b10")]  # b10 contains b1
    wire.page(
        "/api/v2/runtimes",
        "runtimes",
        items,
        token=None,
        query={"search_filter": search(image_identifier=ident)},
    )

    assert client.runtimes.exists(ident) is expected


# --- runtime add-ons (Spark) ----------------------------------------------------------------------

ADDONS = "/api/v2/runtimeaddons"


def addon(identifier: str, display_name: str, status: str = "AVAILABLE") -> dict:
    """A RuntimeAddon as the swagger describes it (``id`` an int32, ``created_at`` a timestamp)."""
    return {
        "identifier": identifier,
        "component": "Spark",
        "display_name": display_name,
        "status": status,
        "manageable": True,
        "created_at": "2026-01-02T03:04:05Z",
        "id": 7,
        "reason": "",
    }


def test_addons_are_listed_over_pages(client: CMLClient, wire: Wire) -> None:
    wire.page(ADDONS, "runtime_addons", [addon("spark320-18-hf4", "Spark 3.2.0")], token=None, next_token="n")
    wire.page(ADDONS, "runtime_addons", [addon("spark351-24.1-h1", "Spark 3.5.1")], token="n")

    got = [(a.identifier, a.component) for a in client.runtime_addons.list()]

    assert got == [("spark320-18-hf4", "Spark"), ("spark351-24.1-h1", "Spark")]


def test_addons_resolve_by_display_name_or_identifier_and_only_when_available(
    client: CMLClient, wire: Wire
) -> None:
    items = [
        addon("spark351-24.1-h1", "Spark 3.5.1 - CDE 1.24.1 - HOTFIX-1"),
        addon("spark320-18-hf4", "Spark 3.2.0 - CDE 1.18.0 - HOTFIX-4", status="DEPRECATED"),
        addon("hadoop-cli-7.2.14-hf9", "Hadoop CLI - CDH 7.2.14"),
    ]
    wire.page(ADDONS, "runtime_addons", items, token=None)
    wire.page(ADDONS, "runtime_addons", items, token=None)

    wanted = ["Spark 3.5.1 - CDE 1.24.1 - HOTFIX-1", "hadoop-cli-7.2.14-hf9"]
    assert client.runtime_addons.resolve(wanted) == ["spark351-24.1-h1", "hadoop-cli-7.2.14-hf9"]
    with pytest.raises(InputError) as info:
        client.runtime_addons.resolve(["Spark 3.2.0 - CDE 1.18.0 - HOTFIX-4"])
    assert info.value.exit_code == EXIT_USAGE and "Spark 3.5.1 - CDE 1.24.1 - HOTFIX-1" in str(info.value)
    assert client.runtime_addons.resolve([]) == []  # nothing asked, nothing read


def test_an_empty_addon_catalogue_says_spark_is_not_available_locally(client: CMLClient, wire: Wire) -> None:
    wire.page(ADDONS, "runtime_addons", [], token=None)

    with pytest.raises(InputError) as info:
        client.runtime_addons.resolve(["Spark 3.5.1 - CDE 1.24.1 - HOTFIX-1"])

    assert "available: none" in str(info.value) and "Spark is not available locally" in str(info.value)
