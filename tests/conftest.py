"""Suite-wide settings: where the data set is, and a clean environment for every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def _default_wine_data() -> str | None:
    candidate = SHARED / "data" / "wine-quality.csv"
    return str(candidate) if candidate.is_file() else None


if not os.environ.get("WINE_DATA") and _default_wine_data():
    os.environ["WINE_DATA"] = _default_wine_data()  # the tests never download the data set


@pytest.fixture(autouse=True)
def _no_workspace_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see a real workspace configuration from the developer's shell."""
    for var in (
        "CML_URL",
        "CML_API_KEY",
        "CDSW_API_URL",
        "CDSW_DOMAIN",
        "CDSW_APIV2_KEY",
        "CMLOPS_TARGET",
        "CMLOPS_CONFIG",
        "CMLOPS_PROFILE",
        "CML_CA_BUNDLE",
        "CML_MODEL_SERVICE_URL",
    ):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def wine_data() -> str:
    path = os.environ.get("WINE_DATA")
    if not path or not Path(path).is_file():
        pytest.fail("the wine data set is needed: set WINE_DATA to wine-quality.csv (see README)")
    return path
