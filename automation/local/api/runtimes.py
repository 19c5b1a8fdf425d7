"""GET /api/v2/runtimes: the catalogue of runtimes.py (the runtimes this machine can run)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from automation.local.api.common import params
from automation.local.core.listing import ListSpec
from automation.local.workloads.runtimes import FILTER_KEYS, catalogue

router = APIRouter(prefix="/api/v2")
RUNTIMES = ListSpec("runtimes", tuple(FILTER_KEYS), tuple(FILTER_KEYS))


@router.get("/runtimes")
def list_runtimes(request: Request) -> dict[str, Any]:
    return RUNTIMES.page(params(request), catalogue(), dict)
