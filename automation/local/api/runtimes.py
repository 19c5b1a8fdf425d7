"""GET /api/v2/runtimes: the catalogue of runtimes.py (the runtimes this machine can run)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from automation.local.api.common import params
from automation.local.core.listing import apply, envelope, parse_list_query
from automation.local.workloads.runtimes import FILTER_KEYS, catalogue

router = APIRouter(prefix="/api/v2")


@router.get("/runtimes")
def list_runtimes(request: Request) -> dict[str, Any]:
    query = parse_list_query(params(request), filter_keys=FILTER_KEYS, sort_keys=FILTER_KEYS)
    page, token = apply(catalogue(), query, lambda item, key: item.get(key))
    return envelope("runtimes", [dict(r) for r in page], token)
