"""GET /api/v2/python.tar.gz: the workspace's Python client, as CML serves its ``cmlapi`` package.

Served without an API key (pip sends none, and CML's answers ``pip install https://<domain>/api/v2/python.tar.gz``
the same way). The archive is the local workspace's own ``cmlapi`` (workloads/runtime/cmlapi_package).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from automation.local.workloads.runtime.cmlapi_package import source_archive

PATH = "/api/v2/python.tar.gz"
router = APIRouter()


@router.get(PATH)
def python_client() -> Response:
    data, filename = source_archive()
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-cache"}
    return Response(data, media_type="application/gzip", headers=headers)
