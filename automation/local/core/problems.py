"""API v2 error answers: ``{"error", "code", "message", "details"}`` with gRPC codes, as grpc-gateway sends."""

from __future__ import annotations

from typing import Any

INVALID_ARGUMENT = 3
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
FAILED_PRECONDITION = 9
ABORTED = 10
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
UNAUTHENTICATED = 16


class ApiProblem(Exception):
    """Raised anywhere in a request; the app turns it into the runtimeError body."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message)


def error_body(code: int, message: str) -> dict[str, Any]:
    return {"error": message, "code": code, "message": message, "details": []}


def bad_request(message: str) -> ApiProblem:
    return ApiProblem(400, INVALID_ARGUMENT, message)


def failed_precondition(message: str) -> ApiProblem:
    return ApiProblem(400, FAILED_PRECONDITION, message)


def not_found(kind: str, ident: str) -> ApiProblem:
    return ApiProblem(404, NOT_FOUND, f"{kind} not found: {ident!r}")


def already_exists(message: str) -> ApiProblem:
    return ApiProblem(409, ALREADY_EXISTS, message)


def aborted(message: str) -> ApiProblem:
    return ApiProblem(409, ABORTED, message)


def permission_denied(message: str) -> ApiProblem:
    return ApiProblem(403, PERMISSION_DENIED, message)


def unauthenticated(message: str) -> ApiProblem:
    return ApiProblem(401, UNAUTHENTICATED, message)


def unavailable(message: str) -> ApiProblem:
    return ApiProblem(503, UNAVAILABLE, message)
