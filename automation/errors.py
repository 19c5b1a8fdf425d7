"""One error root for cmlops. Every error carries the CLI exit code it maps to.

The exit codes are part of the public contract (README, "Exit codes"):

====  ===========================================================
code  meaning
====  ===========================================================
0     success
1     failure (an API error, an unexpected server answer)
2     bad input or usage (spec, settings, flags, model input)
3     ``plan --detailed-exitcode``: the plan has changes
4     authentication or permission refused (401/403)
5     timed out waiting (job run, build, deployment, ...)
6     a promotion gate failed (nothing was built)
7     the smoke test against the endpoint failed
8     the workspace could not be reached (connection, TLS, DNS)
9     the training job run failed
10    the model build failed
11    the model deployment failed
12    not approved: declined at a confirmation prompt, or destructive actions planned off a
      terminal without --auto-approve (nothing was changed)
13    another promote or rollback of the same PRD model holds its lease (nothing was changed)
130   interrupted (Ctrl-C); re-run the command to finish the work
====  ===========================================================
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CHANGES = 3
EXIT_AUTH = 4
EXIT_TIMEOUT = 5
EXIT_GATE = 6
EXIT_SMOKE = 7
EXIT_UNREACHABLE = 8
EXIT_JOB_FAILED = 9
EXIT_BUILD_FAILED = 10
EXIT_DEPLOY_FAILED = 11
EXIT_APPROVAL = 12
EXIT_DECLINED = EXIT_APPROVAL  # declining a prompt and a refused approval are one outcome: not approved
EXIT_BUSY = 13
EXIT_INTERRUPTED = 130

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_FAILURE: "failure (API error or unexpected answer)",
    EXIT_USAGE: "bad input or usage (spec, settings, flags, model input)",
    EXIT_CHANGES: "plan has changes (with --detailed-exitcode)",
    EXIT_AUTH: "authentication or permission refused",
    EXIT_TIMEOUT: "timed out waiting for a workload",
    EXIT_GATE: "a promotion gate failed",
    EXIT_SMOKE: "the smoke test failed",
    EXIT_UNREACHABLE: "workspace unreachable (connection, TLS, DNS)",
    EXIT_JOB_FAILED: "the training job run failed",
    EXIT_BUILD_FAILED: "the model build failed",
    EXIT_DEPLOY_FAILED: "the model deployment failed",
    EXIT_APPROVAL: "not approved: declined at a prompt, or destructive actions without --auto-approve off a "
    "terminal (nothing was changed)",
    EXIT_BUSY: "another promote or rollback of the same PRD model holds its lease (nothing was changed)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C): re-run the command to finish",
}


class CmlopsError(Exception):
    """Root of every error cmlops raises on purpose."""

    exit_code: int = EXIT_FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "error": type(self).__name__,
            "message": self.message,
            "exit_code": self.exit_code,
        }
        if self.hint:
            data["hint"] = self.hint
        return data


# --- input errors: the user can fix them; nothing was changed ---------------------------------


class InputError(CmlopsError):
    """Bad input: a spec, a setting, a flag, a model request."""

    exit_code = EXIT_USAGE


class RegistryUnavailable(InputError):
    """The workspace has no Model Registry (a separately provisioned component): nothing was written."""


class SettingsError(InputError):
    """Workspace URL or API key missing or malformed."""


class SpecError(InputError):
    """A spec problem, located at file:line:column when known."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.file, self.line, self.column, self.field = file, line, column, field
        loc = file or "<spec>"
        if line is not None:
            loc += f":{line}"
            if column is not None:
                loc += f":{column}"
        where = f"{loc}: " if (file or line is not None) else ""
        what = f"{field}: " if field else ""
        super().__init__(f"{where}{what}{message}", hint=hint)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.update({"file": self.file, "line": self.line, "column": self.column, "field": self.field})
        return data


class ApprovalRequired(CmlopsError):
    """Deletions or stops were planned and not approved: nothing was changed."""

    exit_code = EXIT_APPROVAL

    def __init__(self, message: str, *, actions: list[str], hint: str | None = None) -> None:
        self.actions = list(actions)
        super().__init__(message, hint=hint)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["actions"] = self.actions
        return data


# --- API errors: the server answered with a non-2xx status -----------------------------------


class ApiError(CmlopsError):
    """A non-2xx answer from API v2. Names method, path and the server's message."""

    status: int | None = None
    maybe_applied: bool = False  # True when a non-idempotent call failed after the server may have acted

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        grpc_code: int | None = None,
        server_message: str = "",
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        self.method, self.path = method, path
        self.status = status if status is not None else type(self).status
        self.grpc_code = grpc_code
        self.server_message = server_message
        self.retry_after = retry_after
        super().__init__(message, hint=hint)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.update({"method": self.method, "path": self.path, "status": self.status, "code": self.grpc_code})
        return data


class BadRequest(ApiError):
    status = 400


class Unauthenticated(ApiError):
    status = 401
    exit_code = EXIT_AUTH


class PermissionDenied(ApiError):
    status = 403
    exit_code = EXIT_AUTH


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class TooManyRequests(ApiError):
    status = 429


class ServerError(ApiError):
    status = 500


class NotImplementedByServer(ApiError):
    status = 501


class ServiceUnavailable(ServerError):
    status = 503


class TransportError(CmlopsError):
    """No HTTP answer at all: connection refused, DNS, TLS, read timeout."""

    exit_code = EXIT_UNREACHABLE
    maybe_applied: bool = False


# --- workload outcomes -----------------------------------------------------------------------


class WaitTimeout(CmlopsError):
    """A waiter gave up. Names what it waited for and the last status seen."""

    exit_code = EXIT_TIMEOUT

    def __init__(self, message: str, *, last_status: str | None = None, hint: str | None = None) -> None:
        self.last_status = last_status
        super().__init__(message, hint=hint)


class WorkloadFailed(CmlopsError):
    """A workload reached a failure state."""

    def __init__(self, message: str, *, status: str | None = None, hint: str | None = None) -> None:
        self.status = status
        super().__init__(message, hint=hint)


class JobRunFailed(WorkloadFailed):
    exit_code = EXIT_JOB_FAILED
    run_id: str | None = None


class BuildFailed(WorkloadFailed):
    exit_code = EXIT_BUILD_FAILED


class DeploymentFailed(WorkloadFailed):
    exit_code = EXIT_DEPLOY_FAILED


class GateFailed(CmlopsError):
    exit_code = EXIT_GATE

    def __init__(self, message: str, *, results: list[dict[str, Any]] | None = None) -> None:
        self.results = results or []
        super().__init__(message)


class PromotionBusy(CmlopsError):
    """Another promote or rollback of the same model holds the promotion lease (nothing was changed)."""

    exit_code = EXIT_BUSY


class SmokeTestFailed(CmlopsError):
    exit_code = EXIT_SMOKE

    def __init__(
        self, message: str, *, hint: str | None = None, shapes: dict[str, Any] | None = None
    ) -> None:
        self.shapes = shapes  # which input shape was refused, which was accepted (see workflows.smoke)
        super().__init__(message, hint=hint)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        if self.shapes:
            data["shapes"] = self.shapes
        return data


# gRPC code (from the runtimeError body) -> class, used when the HTTP status alone is ambiguous.
_BY_GRPC_CODE: dict[int, type[ApiError]] = {
    3: BadRequest,
    5: NotFound,
    6: Conflict,
    7: PermissionDenied,
    8: TooManyRequests,
    9: BadRequest,
    10: Conflict,
    12: NotImplementedByServer,
    13: ServerError,
    14: ServiceUnavailable,
    16: Unauthenticated,
}

_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    412: BadRequest,
    429: TooManyRequests,
    501: NotImplementedByServer,
    503: ServiceUnavailable,
}


def api_error_class(status: int, grpc_code: int | None) -> type[ApiError]:
    """Pick the error class from the HTTP status, refined by the gRPC code when it is more precise."""
    by_status = _BY_STATUS.get(status)
    if by_status is None:
        by_status = ServerError if status >= 500 else ApiError
    if grpc_code is not None and by_status in (ApiError, BadRequest):
        return _BY_GRPC_CODE.get(grpc_code, by_status)
    return by_status
