"""Typed client for CML REST API v2 (the subset cmlops uses).

``CMLClient(http)`` groups one object per resource family; every call maps to exactly one
path and verb of the API v2 description. Lists are generators that follow page tokens.
"""

from __future__ import annotations

from automation.api.applications import Applications
from automation.api.experiments import Experiments
from automation.api.jobs import Jobs
from automation.api.models import Models
from automation.api.projects import Projects
from automation.api.registry import Registry
from automation.api.runtimes import RuntimeAddons, Runtimes
from automation.api.types import KeyInfo
from automation.clock import Clock
from automation.errors import PermissionDenied, SettingsError, Unauthenticated
from automation.http import HttpClient, RetryPolicy
from automation.settings import Settings


class CMLClient:
    """One workspace connection with a resource object per API family."""

    def __init__(
        self,
        http: HttpClient,
        clock: Clock | None = None,
        model_service_url: str | None = None,
        poll: tuple[float, float] = (2.0, 15.0),
    ) -> None:
        self.http = http
        self.clock = clock or http.clock
        self.model_service_url = model_service_url
        self.projects = Projects(http, self.clock, poll)
        self.runtimes = Runtimes(http, self.clock, poll)
        self.runtime_addons = RuntimeAddons(http, self.clock, poll)
        self.jobs = Jobs(http, self.clock, poll)
        self.experiments = Experiments(http, self.clock, poll)
        self.registry = Registry(http, self.clock, poll)
        self.models = Models(http, self.clock, poll)
        self.applications = Applications(http, self.clock, poll)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        trace=None,
        clock: Clock | None = None,
        retry=None,
        poll: tuple[float, float] = (2.0, 15.0),
    ) -> CMLClient:
        http = HttpClient(
            settings.url, settings.api_key, verify=settings.verify, trace=trace, clock=clock, retry=retry
        )
        return cls(http, clock=clock, model_service_url=settings.model_service_url, poll=poll)

    def model_service(self) -> HttpClient:
        """An HTTP client for the workspace's model service (model endpoints)."""
        if not self.model_service_url:
            raise SettingsError(
                "no model service URL known for this workspace", hint="set CML_MODEL_SERVICE_URL"
            )
        return self.http.sibling(self.model_service_url, retry=RetryPolicy(max_attempts=4, deadline=60))

    def validate_key(self, audience: str = "API") -> KeyInfo:
        """whoami: validate the API key and return the user it belongs to."""
        try:
            body = self.http.request(
                "POST", "/api/v2/auth/validate_key", json_body={"audience": audience}, idempotent=True
            )
        except (Unauthenticated, PermissionDenied) as exc:
            exc.hint = (
                "the API key was refused: set CML_API_KEY (or CDSW_APIV2_KEY inside CML) to a valid API v2 key "
                "with audience 'API' (User Settings > API Keys)"
            )
            raise
        return KeyInfo.model_validate(body)


__all__ = ["CMLClient"]
