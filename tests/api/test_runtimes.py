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
