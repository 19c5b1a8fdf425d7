"""POST /api/v2/auth/validate_key: a cheap "whoami" for the workspace key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from automation.local.core.problems import bad_request, permission_denied
from automation.local.core.shapes import USERNAME

router = APIRouter(prefix="/api/v2")
AUDIENCES = ("API", "Application")


class ValidateKeyRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    audience: str | None = None


@router.post("/auth/validate_key")
def validate_key(body: ValidateKeyRequest) -> dict[str, Any]:
    # The auth middleware already refused a wrong key; the workspace key has the API audience.
    if body.audience not in AUDIENCES:
        raise bad_request(f"audience must be one of {', '.join(AUDIENCES)}, got {body.audience!r}")
    if body.audience != "API":
        raise permission_denied("audience mismatch: this key is valid for the API audience only")
    return {"valid": True, "username": USERNAME, "message": "API key is valid for the given audience"}
