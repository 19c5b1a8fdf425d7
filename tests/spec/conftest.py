"""Shared pieces for the spec tests: a minimal valid spec whose line numbers the tests rely on."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

# Line numbers matter: error tests assert positions in this text (line N = MINIMAL_LINES[N - 1]).
from spec_support import FILE, MINIMAL

from automation.errors import SpecError
from automation.spec import Spec, parse_spec


@pytest.fixture(scope="session")
def minimal() -> str:
    return MINIMAL


@pytest.fixture(scope="session")
def flagship_path(repo_root: Path) -> Path:
    return repo_root / "specs" / "wine-quality.yaml"


@pytest.fixture(scope="session")
def v1_flagship_path(repo_root: Path) -> Path:
    """The flagship as it was in spec version 1 (kept for the compatibility tests)."""
    return repo_root / "tests" / "fixtures" / "specs" / "wine-quality-v1.yaml"


@pytest.fixture(scope="session")
def parse() -> Callable[..., Spec]:
    def _parse(text: str, environ: Mapping[str, str] | None = None) -> Spec:
        return parse_spec(text, file=FILE, environ=environ or {})

    return _parse


@pytest.fixture(scope="session")
def spec_error() -> Callable[..., SpecError]:
    """Parse ``text`` expecting a SpecError; return it after checking it is located in FILE."""

    def _error(text: str, environ: Mapping[str, str] | None = None) -> SpecError:
        with pytest.raises(SpecError) as caught:
            parse_spec(text, file=FILE, environ=environ or {})
        err = caught.value
        assert err.file == FILE
        assert err.line is not None and err.column is not None
        return err

    return _error
