"""The exit code of each error class, observed where it matters: at the CLI entry point.

Each case makes the (fake) workspace misbehave in one way and runs `cmlops bootstrap` or `cmlops plan`
through ``automation.cli.main``, the console script, so the whole path from the failing call to
``sys.exit`` is exercised (README, "Exit codes").
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fakes.fake_cml import FakeCML
from fakes.fixtures import cli_runner
from fakes.specs import TEST_SPEC

from automation import errors as E

SPEC = str(TEST_SPEC)


@pytest.fixture
def cli(fake: FakeCML, client, monkeypatch, capsys) -> Callable[..., tuple[int, str, str]]:
    return cli_runner(client, monkeypatch, capsys)


def never_finishes(fake: FakeCML) -> None:
    fake.build_outcome = None


def job_fails(fake: FakeCML) -> None:
    fake.job_outcome = "ENGINE_FAILED"


def build_fails(fake: FakeCML) -> None:
    fake.build_outcome = "build failed"


def deploy_fails(fake: FakeCML) -> None:
    fake.deploy_outcome = "failed"


def gate_fails(fake: FakeCML) -> None:
    fake.run_metrics = {"rmse": 0.75, "mae": 0.5, "r2": 0.125}  # r2 below the 0.2 threshold


def smoke_fails(fake: FakeCML) -> None:
    fake.prediction_response = {"prediction": [42.0]}  # outside the smoke range 3..9


def refused_key(fake: FakeCML) -> None:
    fake.fail("GET", r".*", status=401, times=1000)


def forbidden(fake: FakeCML) -> None:
    fake.fail("GET", r".*", status=403, times=1000)


def unreachable(fake: FakeCML) -> None:
    fake.fail("GET", r".*", connection_error=True, times=1000)


def bad_request(fake: FakeCML) -> None:
    fake.fail("POST", r"^/api/v2/projects$", status=400, times=1000)


CASES = [
    (never_finishes, E.EXIT_TIMEOUT, "timed out"),
    (job_fails, E.EXIT_JOB_FAILED, "ENGINE_FAILED"),
    (build_fails, E.EXIT_BUILD_FAILED, "build failed"),
    (deploy_fails, E.EXIT_DEPLOY_FAILED, "failed"),
    (gate_fails, E.EXIT_GATE, "r2"),
    (smoke_fails, E.EXIT_SMOKE, "above 9"),
    (refused_key, E.EXIT_AUTH, ""),
    (forbidden, E.EXIT_AUTH, ""),
    (unreachable, E.EXIT_UNREACHABLE, ""),
    (bad_request, E.EXIT_FAILURE, ""),
]


@pytest.mark.parametrize(("breakage", "code", "words"), CASES, ids=[c[0].__name__ for c in CASES])
def test_bootstrap_exit_code_per_failure(
    cli, fake: FakeCML, breakage: Callable[[FakeCML], None], code: int, words: str
) -> None:
    breakage(fake)
    exit_code, _, err = cli("bootstrap", SPEC)
    assert exit_code == code, err
    error_lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 1 and words in err, err


def test_timeout_exit_code_and_json_error(cli, fake: FakeCML) -> None:
    never_finishes(fake)
    exit_code, out, _ = cli("-o", "json", "bootstrap", SPEC)
    assert exit_code == 5
    report = json.loads(out)
    assert report["ok"] is False and report["exit_code"] == 5 and report["error"] == "WaitTimeout"


def test_plan_detailed_exitcode_is_3_with_changes_then_0_when_converged(cli, fake: FakeCML) -> None:
    assert cli("plan", SPEC)[0] == 0
    assert cli("plan", SPEC, "--detailed-exitcode")[0] == E.EXIT_CHANGES
    assert cli("bootstrap", SPEC)[0] == 0
    assert cli("plan", SPEC, "--detailed-exitcode")[0] == 0


def test_a_bad_spec_exits_2_and_names_the_file(cli, fake: FakeCML, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(TEST_SPEC.read_text().replace("replicas: 1", "replicas: 0"))
    exit_code, _, err = cli("plan", str(bad))
    assert exit_code == E.EXIT_USAGE and "bad.yaml" in err and "replicas" in err
    assert fake.calls == []


def test_a_usage_error_exits_2(cli) -> None:
    assert cli("plan", SPEC, "--no-such-flag")[0] == E.EXIT_USAGE
