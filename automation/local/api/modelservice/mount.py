"""Put the model service front ahead of the workspace's API app (what the server process runs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from automation.local.api.modelservice.front import ASGIApp, ModelServiceFront
from automation.local.api.modelservice.limits import ServiceLimits
from automation.local.state.keys import sha256_hex
from automation.local.workloads.routes import KeyIndex

if TYPE_CHECKING:
    from automation.local.workspace import Workspace


def mount(app: ASGIApp, ws: Workspace, limits: ServiceLimits) -> ModelServiceFront:
    """``app`` behind a front serving ``/model`` from ``ws``'s deployments under ``limits``."""
    supervisor = ws.deployments
    return ModelServiceFront(
        app,
        routes=supervisor.routes,
        keys=KeyIndex(supervisor.access_keys),
        state_of=lambda key: supervisor.route(key)[0],
        api_key_sha256=sha256_hex(ws.api_key),
        limits=limits,
        log=ws.log.getChild("modelservice"),
    )
