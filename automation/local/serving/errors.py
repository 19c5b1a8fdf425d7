"""Errors of the local model server.

``ModelCheckError`` is what a local *build* reports: the model could not be resolved, loaded or
asked for one prediction. It carries a one-line reason the API server stores as the build's
failure message. ``RequestError`` is bad model input from a caller; the endpoint turns it into a
400 whose message names the problem (never a stack trace).
"""

from __future__ import annotations

from automation.errors import EXIT_BUILD_FAILED, EXIT_USAGE, CmlopsError


class ModelCheckError(CmlopsError):
    """The model cannot be loaded or cannot predict on its own input example."""

    exit_code = EXIT_BUILD_FAILED


class RequestError(ValueError):
    """The ``request`` object of a model call is malformed; the message says what and where."""


class ServeConfigError(CmlopsError):
    """The server's config file is missing, unreadable or has a bad field."""

    exit_code = EXIT_USAGE


def one_line(exc: BaseException, limit: int = 300) -> str:
    """``Type: first line of the message``, shortened: a reason fit for a status field or a 500."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
