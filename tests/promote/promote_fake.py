"""FakeCML plus the two things promotion tests need and the shared fake lacks.

Kept apart from tests/fakes/fake_cml.py on purpose (that fake belongs to the reconcile tests):

* ``PATCH /api/v2/registry/models/{model_id}`` (UpdateRegisteredModelVersion): the body's ``tags``
  replace the version's tags, the strictest reading of CML's undocumented semantics;
* ``PATCH /api/v2/registry/models`` (UpdateRegisteredModel, the model id in the body): sets the
  ``description`` (where the promotion lease lives); no other field of the request is taken;
* ``broken_runs``: the model endpoint answers HTTP 500 while the newest ``deployed`` deployment
  serves a version registered from one of these MLflow runs (a model whose predict raises).

(``FakeCML.supersede_on_deploy``, on by default, stops a model's other deployments when a new one
is created, as CML does, so the previous one must be restarted on rollback.)
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import responses
from fakes.fake_cml import FakeCML, FakeError

_ID = r"[^/:?]+"


class PromoteFake(FakeCML):
    def __init__(self, mock: responses.RequestsMock, **kwargs: Any) -> None:
        self.broken_runs: set[str] = set()
        super().__init__(mock, **kwargs)

    # -- registry: tags on versions -------------------------------------------------------------

    def _build_routes(self) -> list[tuple[str, re.Pattern[str], Any]]:
        routes = super()._build_routes()
        routes.append(
            ("PATCH", re.compile(rf"/api/v2/registry/models/(?P<rmid>{_ID})/?$"), self._update_version)
        )
        routes.append(("PATCH", re.compile(r"/api/v2/registry/models/?$"), self._update_registered))
        return routes

    def _update_registered(self, call: Any) -> dict[str, Any]:
        body = call.body or {}
        unknown = set(body) - {"model_id", "description", "visibility", "user_id"}
        if unknown:
            raise FakeError(400, "invalid_argument", f"unknown field(s) {sorted(unknown)}")
        model = self._get(self.registered_models, body.get("model_id") or "", "registered model")
        if "description" in body:
            model["description"] = body["description"]
        model["updated_at"] = self._now()
        return self._registered_view(body["model_id"], versions=False)

    def description_of(self) -> str:
        return next(iter(self.registered_models.values())).get("description", "")

    def _update_version(self, call: Any, rmid: str) -> dict[str, Any]:
        self._get(self.registered_models, rmid, "registered model")
        body = call.body or {}
        version = self._get(self.model_versions, body.get("model_version_id") or "", "model version")
        if version["model_id"] != rmid:
            raise FakeError(404, "not_found", f"version {body.get('model_version_id')} not found")
        if "notes" in body:
            version["notes"] = body["notes"]
        if "tags" in body:
            version["tags"] = [{"key": t["key"], "value": t["value"]} for t in body["tags"]]
        version["updated_at"] = self._now()
        return copy.deepcopy(version)

    def tags_of(self, number: int) -> dict[str, str]:
        version = next(v for v in self.model_versions.values() if v["number"] == number)
        return {t["key"]: t["value"] for t in version["tags"]}

    # -- the model service: a broken model answers 500 ----------------------------------------

    def serving_deployment(self, model_id: str) -> dict[str, Any] | None:
        deployed = [
            d for d in self.deployments.values() if d["model_id"] == model_id and d["status"] == "deployed"
        ]
        return max(deployed, key=lambda d: d["created_at"], default=None)

    def run_of_deployment(self, dep: dict[str, Any]) -> str:
        version = self.model_versions[self.builds[dep["build_id"]]["registered_model_version_id"]]
        return version["model_version_metadata"]["mlflow_metadata"]["run_id"]

    def version_of_deployment(self, dep: dict[str, Any]) -> int:
        return self.model_versions[self.builds[dep["build_id"]]["registered_model_version_id"]]["number"]

    def _model_call(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body or b"{}")
        model = next((m for m in self.models.values() if m["access_key"] == body.get("accessKey")), None)
        dep = self.serving_deployment(model["id"]) if model else None
        if dep is not None and self.run_of_deployment(dep) in self.broken_runs:
            call = self._parse(request, "model")
            call.status = 500
            self.calls.append(call)
            error = {"success": False, "errors": {"message": "predict() raised ValueError: broken model"}}
            return 500, {"Content-Type": "application/json"}, json.dumps(error)
        return super()._model_call(request)
