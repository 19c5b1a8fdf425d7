"""GET /api/v2/runtimeaddons: the local workspace has no runtime add-ons (no Spark, no Hadoop CLI).

The list is empty, in CML's envelope, and paged and filtered like every list. A workload that asks
for add-ons (``runtime_addon_identifiers`` in a job, application or model build) is refused with a
400 that says Spark is not available locally: what would attach Spark in CML cannot run here, so
it fails at once with the reason instead of running without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request

from automation.local.api.common import params
from automation.local.core.listing import apply, envelope, parse_list_query
from automation.local.core.problems import bad_request

router = APIRouter(prefix="/api/v2")
FILTER_KEYS = ("identifier", "component", "display_name", "status")
CATALOGUE: tuple[dict[str, Any], ...] = ()


@router.get("/runtimeaddons")
def list_runtime_addons(request: Request) -> dict[str, Any]:
    query = parse_list_query(params(request), filter_keys=FILTER_KEYS, sort_keys=FILTER_KEYS)
    page, token = apply(list(CATALOGUE), query, lambda item, key: item.get(key))
    return envelope("runtime_addons", [dict(a) for a in page], token)


def refuse_addons(identifiers: Sequence[str] | None) -> None:
    """400 for any requested add-on: none exists locally (GET /api/v2/runtimeaddons lists none)."""
    if identifiers:
        raise bad_request(
            f"runtime_addon_identifiers {list(identifiers)!r}: runtime add-ons are not available in the "
            "local workspace (Spark is not available locally); run Spark workloads on a CML workspace"
        )
