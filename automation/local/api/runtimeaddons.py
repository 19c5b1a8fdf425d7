"""GET /api/v2/runtimeaddons: the local workspace has no runtime add-ons (no Spark, no Hadoop CLI).

The list is empty, in CML's envelope, and paged and filtered like every list. A workload that asks
for add-ons (``runtime_addon_identifiers`` in a job, application or model build) is refused with a
400 that says Spark is not available locally (``domain/fields.refuse_addons``): what would attach Spark in CML cannot run here, so
it fails at once with the reason instead of running without it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from automation.local.api.common import params
from automation.local.core.listing import ListSpec

router = APIRouter(prefix="/api/v2")
FILTER_KEYS = ("identifier", "component", "display_name", "status")
ADDONS = ListSpec("runtime_addons", FILTER_KEYS, FILTER_KEYS)
CATALOGUE: tuple[dict[str, Any], ...] = ()


@router.get("/runtimeaddons")
def list_runtime_addons(request: Request) -> dict[str, Any]:
    return ADDONS.page(params(request), list(CATALOGUE), dict)
