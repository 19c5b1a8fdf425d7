"""The error root: classes, exit codes, messages and the status/gRPC-code mapping."""

from __future__ import annotations

import pytest

from automation import errors as E


def test_every_documented_exit_code_is_distinct_and_described() -> None:
    codes = [
        E.EXIT_OK,
        E.EXIT_FAILURE,
        E.EXIT_USAGE,
        E.EXIT_CHANGES,
        E.EXIT_AUTH,
        E.EXIT_TIMEOUT,
        E.EXIT_GATE,
        E.EXIT_SMOKE,
        E.EXIT_UNREACHABLE,
        E.EXIT_JOB_FAILED,
        E.EXIT_BUILD_FAILED,
        E.EXIT_DEPLOY_FAILED,
        E.EXIT_APPROVAL,
        E.EXIT_INTERRUPTED,
        E.EXIT_BUSY,
    ]
    assert len(set(codes)) == len(codes)
    assert sorted(E.EXIT_CODES) == sorted(codes)
    assert all(E.EXIT_CODES[c] for c in codes)


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (E.CmlopsError, E.EXIT_FAILURE),
        (E.InputError, E.EXIT_USAGE),
        (E.SettingsError, E.EXIT_USAGE),
        (E.SpecError, E.EXIT_USAGE),
        (E.ApiError, E.EXIT_FAILURE),
        (E.Unauthenticated, E.EXIT_AUTH),
        (E.PermissionDenied, E.EXIT_AUTH),
        (E.TransportError, E.EXIT_UNREACHABLE),
        (E.ApprovalRequired, E.EXIT_APPROVAL),
        (E.PromotionBusy, E.EXIT_BUSY),
        (E.WaitTimeout, E.EXIT_TIMEOUT),
        (E.JobRunFailed, E.EXIT_JOB_FAILED),
        (E.BuildFailed, E.EXIT_BUILD_FAILED),
        (E.DeploymentFailed, E.EXIT_DEPLOY_FAILED),
        (E.GateFailed, E.EXIT_GATE),
        (E.SmokeTestFailed, E.EXIT_SMOKE),
    ],
)
def test_exit_code_per_class(cls: type[E.CmlopsError], code: int) -> None:
    assert cls.exit_code == code
    assert issubclass(cls, E.CmlopsError)


def test_input_errors_are_a_separate_branch_from_api_errors() -> None:
    assert issubclass(E.SpecError, E.InputError) and issubclass(E.SettingsError, E.InputError)
    assert not issubclass(E.ApiError, E.InputError) and not issubclass(E.InputError, E.ApiError)
    assert not issubclass(E.TransportError, E.ApiError)


@pytest.mark.parametrize(
    ("status", "grpc", "cls"),
    [
        (400, 3, E.BadRequest),
        (401, 16, E.Unauthenticated),
        (403, 7, E.PermissionDenied),
        (404, 5, E.NotFound),
        (409, 6, E.Conflict),
        (429, 8, E.TooManyRequests),
        (500, 13, E.ServerError),
        (503, 14, E.ServiceUnavailable),
        (501, 12, E.NotImplementedByServer),
        (412, 9, E.BadRequest),
        (502, None, E.ServerError),
        (504, None, E.ServerError),
        (400, 5, E.NotFound),  # a 400 with a more precise gRPC code
        (400, 6, E.Conflict),
        (404, None, E.NotFound),
        (418, None, E.ApiError),
        (418, 16, E.Unauthenticated),
        (403, 5, E.PermissionDenied),  # a precise status wins over the code
    ],
)
def test_api_error_class(status: int, grpc: int | None, cls: type) -> None:
    assert E.api_error_class(status, grpc) is cls


def test_service_unavailable_is_a_server_error() -> None:
    assert issubclass(E.ServiceUnavailable, E.ServerError)


def test_api_error_fields_and_dict() -> None:
    err = E.NotFound(
        "GET /api/v2/projects/p1 failed: HTTP 404: no such project",
        method="GET",
        path="/api/v2/projects/p1",
        grpc_code=5,
        server_message="no such project",
    )

    assert err.status == 404  # from the class when not given
    assert err.maybe_applied is False
    assert err.to_dict() == {
        "error": "NotFound",
        "message": "GET /api/v2/projects/p1 failed: HTTP 404: no such project",
        "exit_code": E.EXIT_FAILURE,
        "method": "GET",
        "path": "/api/v2/projects/p1",
        "status": 404,
        "code": 5,
    }


def test_hint_is_shown_in_str_and_dict() -> None:
    err = E.SettingsError("no API key configured", hint="set CML_API_KEY")

    assert str(err) == "no API key configured\n  hint: set CML_API_KEY"
    assert err.to_dict()["hint"] == "set CML_API_KEY"
    assert str(E.CmlopsError("plain")) == "plain"


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        (
            {"file": "specs/w.yaml", "line": 12, "column": 3, "field": "model.name"},
            "specs/w.yaml:12:3: model.name: bad",
        ),
        ({"file": "specs/w.yaml", "line": 12}, "specs/w.yaml:12: bad"),
        ({"file": "specs/w.yaml"}, "specs/w.yaml: bad"),
        ({"line": 4}, "<spec>:4: bad"),
        ({"field": "targets"}, "targets: bad"),
        ({}, "bad"),
    ],
)
def test_spec_error_location(kwargs: dict[str, object], text: str) -> None:
    err = E.SpecError("bad", **kwargs)  # type: ignore[arg-type]

    assert err.message == text
    assert err.to_dict()["file"] == kwargs.get("file")


def test_workload_errors_carry_status_and_last_status() -> None:
    assert E.BuildFailed("build b1 ended", status="build failed").status == "build failed"
    assert E.WaitTimeout("timed out", last_status="pushing").last_status == "pushing"
    assert E.GateFailed("gate", results=[{"metric": "rmse"}]).results == [{"metric": "rmse"}]
    assert E.TransportError("x").maybe_applied is False
