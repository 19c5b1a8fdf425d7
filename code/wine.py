"""Shared helpers for the wine-quality scripts: find and load the data, split it, score a model.

The scripts in this folder (and in ``api_tour/``) run unchanged as CML jobs and on a laptop, offline.
What they have in common lives here so each script shows only the MLflow calls it is about:

- ``locate_data`` finds the data set: ``--data`` / ``WINE_DATA`` (a path, or an http(s) URL to
  download), else the cached copy under ``<repo>/data/``, else it downloads the tutorial's public
  copy (``WINE_DATA_URL`` overrides where from) into that cache; a download whose SHA-256 is not
  the expected one is refused and never cached.
- ``load_data`` / ``split_data`` / ``eval_metrics``: the seeded 75/25 split and the three metrics.
- ``Parser``, ``float_setting``, ``experiment_name``: arguments win over environment variables
  (what a CML job sets) which win over defaults; bad values name the flag or variable to fix.
- ``run`` / ``fail``: expected failures end with one ``error: ...`` line on stderr and exit code 2
  (bad data or usage) or 1 (anything else), never a traceback.

Heavy libraries (pandas, scikit-learn, mlflow) are imported inside the functions that need them.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

if TYPE_CHECKING:
    import pandas as pd

DATA_URL = "https://raw.githubusercontent.com/mlflow/mlflow-example/master/wine-quality.csv"
DATA_SHA256 = "66b071bfe464e02aaef19d61fe28ce99b6f75efebb81be0fb58555713c3ab7a6"
DATA_FILENAME = "wine-quality.csv"
REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = REPO_ROOT / "data"
MAX_DOWNLOAD_BYTES = 10 * 1024 * 1024  # the real file is ~260 kB; anything far larger is not it

FEATURES: tuple[str, ...] = (
    "fixed acidity",
    "volatile acidity",
    "citric acid",
    "residual sugar",
    "chlorides",
    "free sulfur dioxide",
    "total sulfur dioxide",
    "density",
    "pH",
    "sulphates",
    "alcohol",
)
TARGET = "quality"
SEED = 42
TEST_SIZE = 0.25
DEFAULT_EXPERIMENT = "wine-quality-test"

EXIT_USAGE = 2
EXIT_FAILURE = 1
_MAX_ERROR_CHARS = 600


class WineError(Exception):
    """An expected failure with a message for people and the exit code the script should end with."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Split(NamedTuple):
    """The seeded train/test split; features are float64 so signatures say ``double``."""

    train_x: pd.DataFrame
    test_x: pd.DataFrame
    train_y: pd.Series
    test_y: pd.Series


# --- errors ---------------------------------------------------------------------------------------


def one_line(text: object) -> str:
    """Collapse a (possibly multi-line, possibly huge) message into one bounded line."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= _MAX_ERROR_CHARS else flat[: _MAX_ERROR_CHARS - 3] + "..."


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one ``error: ...`` line on stderr and exit: what a CML job log and a shell both read well."""
    print(f"error: {one_line(message)}", file=sys.stderr)
    sys.exit(code)


def run(main: Callable[[], object]) -> None:
    """Run a script's ``main`` and turn the failures a user can cause into one line and an exit code.

    Unexpected exceptions (bugs) keep their traceback; MLflow and OS errors are expected (wrong URI,
    unknown model, unwritable output) and end with exit code 1.
    """
    try:
        main()
    except WineError as exc:
        fail(str(exc), exc.exit_code)
    except Exception as exc:
        mlflow_exceptions = sys.modules.get("mlflow.exceptions")
        if mlflow_exceptions is not None and isinstance(exc, mlflow_exceptions.MlflowException):
            fail(f"MLflow: {exc.message}", EXIT_FAILURE)
        if isinstance(exc, OSError):
            fail(str(exc), EXIT_FAILURE)
        raise


# --- data -----------------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _how_to_provide(cache: Path) -> str:
    return f"set WINE_DATA=/path/to/{DATA_FILENAME} (or pass --data), or copy the file to {cache}"


def locate_data(
    explicit: str | os.PathLike[str] | None = None,
    *,
    cache_dir: Path | None = None,
    url: str | None = None,
) -> Path:
    """Find the wine data: ``explicit`` (``--data``), then ``WINE_DATA``, then the cache, then download.

    A path the user names must exist (no silent fallback to another file); an http(s) URL there is
    downloaded into the cache like the default one, with the same checksum check. The cached copy
    is re-checked against the expected SHA-256 on every use because it is cheap (260 kB) and a
    truncated or edited cache would otherwise skew every metric without a word.
    """
    cache = (cache_dir or CACHE_DIR) / DATA_FILENAME
    for source, value in (("--data", explicit), ("WINE_DATA", os.environ.get("WINE_DATA"))):
        if not value:
            continue
        value = os.fspath(value)
        if value.startswith(("http://", "https://")):
            return _verified_cache(cache) or download_data(value, cache)
        path = Path(value).expanduser()
        if not path.is_file():
            raise WineError(
                f"{source}={value} is not a file; point {source} at the wine-quality CSV "
                f"({DATA_FILENAME}, 4,898 rows) or unset it to use the cache under {cache.parent}"
            )
        return path
    return _verified_cache(cache) or download_data(url or os.environ.get("WINE_DATA_URL") or DATA_URL, cache)


def _verified_cache(cache: Path) -> Path | None:
    """The cached copy if there is one; a copy with the wrong checksum is an error, not a miss."""
    if not cache.is_file():
        return None
    digest = sha256_file(cache)
    if digest != DATA_SHA256:
        raise WineError(
            f"cached copy {cache} has SHA-256 {digest[:12]}..., expected {DATA_SHA256}; "
            "delete it to download it again, or set WINE_DATA to a good copy"
        )
    return cache


def download_data(url: str, dest: Path, *, sha256: str = DATA_SHA256, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` only if its SHA-256 matches; a refused file is never written."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read(MAX_DOWNLOAD_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise WineError(
            f"could not download the wine data from {url} (HTTP {exc.code}); {_how_to_provide(dest)}"
        ) from None
    except urllib.error.URLError as exc:
        raise WineError(
            f"could not download the wine data from {url} ({exc.reason}); {_how_to_provide(dest)}"
        ) from None
    except (OSError, ValueError) as exc:
        raise WineError(
            f"could not download the wine data from {url} ({exc}); {_how_to_provide(dest)}"
        ) from None
    if len(body) > MAX_DOWNLOAD_BYTES:
        raise WineError(f"refusing the file downloaded from {url}: larger than {MAX_DOWNLOAD_BYTES} bytes")
    digest = hashlib.sha256(body).hexdigest()
    if digest != sha256:
        raise WineError(
            f"refusing the file downloaded from {url}: its SHA-256 {digest[:12]}... is not the expected "
            f"{sha256}; nothing was cached. {_how_to_provide(dest)}"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f"{dest.name}.{os.getpid()}.part")
    partial.write_bytes(body)
    os.replace(partial, dest)  # atomic: a concurrent reader sees no file or the whole file
    return dest


def load_data(path: Path) -> pd.DataFrame:
    """Read the CSV (comma- or semicolon-separated) and check it has the 11 features and ``quality``."""
    import pandas as pd

    try:
        with path.open(encoding="utf-8") as handle:
            header = handle.readline()
        sep = ";" if header.count(";") > header.count(",") else ","
        frame = pd.read_csv(path, sep=sep)
    except OSError as exc:
        raise WineError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise WineError(f"{path} is not a readable CSV file: {one_line(exc)}") from None
    columns = (*FEATURES, TARGET)
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise WineError(
            f"{path} lacks column(s) {', '.join(missing)}; expected the wine-quality header "
            f"({', '.join(columns)})"
        )
    for name in columns:
        if not pd.api.types.is_numeric_dtype(frame[name]) or frame[name].isna().any():
            raise WineError(f"{path}: column {name!r} has empty or non-numeric values")
    if frame.empty:
        raise WineError(f"{path} has a header but no rows")
    return frame[list(columns)]


def features_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The 11 feature columns as float64, the types the model signature declares."""
    return frame[list(FEATURES)].astype("float64")


def split_data(frame: pd.DataFrame, *, test_size: float = TEST_SIZE, seed: int = SEED) -> Split:
    """The seeded split every script shares, so runs with equal hyper-parameters are comparable."""
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(frame, test_size=test_size, random_state=seed)
    return Split(features_frame(train), features_frame(test), train[TARGET], test[TARGET])


# --- metrics --------------------------------------------------------------------------------------


def rmse(actual: Any, predicted: Any) -> float:
    """Root mean squared error, in quality points."""
    import numpy as np
    from sklearn.metrics import mean_squared_error

    return float(np.sqrt(mean_squared_error(actual, predicted)))


def mae(actual: Any, predicted: Any) -> float:
    """Mean absolute error, in quality points."""
    from sklearn.metrics import mean_absolute_error

    return float(mean_absolute_error(actual, predicted))


def r2(actual: Any, predicted: Any) -> float:
    """Coefficient of determination (1 is perfect, 0 is as good as predicting the mean)."""
    from sklearn.metrics import r2_score

    return float(r2_score(actual, predicted))


def eval_metrics(actual: Any, predicted: Any) -> dict[str, float]:
    """The tutorial's three metrics, keyed by the names they are logged under."""
    return {"rmse": rmse(actual, predicted), "mae": mae(actual, predicted), "r2": r2(actual, predicted)}


# --- arguments and environment ----------------------------------------------------------------------


def script_arguments(argv: list[str] | None = None) -> list[str]:
    """The script's own arguments, without the ``-f <kernel connection file>`` that CML's Jupyter-based
    runtimes (PBJ Workbench, JupyterLab) add to ``sys.argv``."""
    args = list(sys.argv[1:] if argv is None else argv)
    out: list[str] = []
    i = 0
    while i < len(args):
        if args[i] == "-f" and i + 1 < len(args) and args[i + 1].endswith(".json"):
            i += 2
            continue
        out.append(args[i])
        i += 1
    return out


class Parser(argparse.ArgumentParser):
    """argparse for scripts that run as CML jobs as well as on a laptop.

    A usage error is one ``error:`` line and exit code 2 like every other bad input. Parsing is
    tolerant the way a CML kernel needs: the kernel's ``-f <file>`` is dropped, and arguments the
    script does not know are reported and ignored (``parse_known_args``) instead of ending the run.
    """

    def error(self, message: str) -> NoReturn:
        fail(f"{self.prog}: {message} (see --help)", EXIT_USAGE)

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:  # type: ignore[override]
        known, unknown = self.parse_known_args(script_arguments(args), namespace)
        if unknown:
            print(f"note: ignoring arguments this script does not know: {' '.join(unknown)}", file=sys.stderr)
        return known


def add_data_arg(parser: argparse.ArgumentParser) -> None:
    """``--data PATH``: the wine CSV; overrides ``WINE_DATA``."""
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="wine-quality CSV (default: $WINE_DATA, else data/wine-quality.csv, else download it)",
    )


def add_experiment_arg(parser: argparse.ArgumentParser, default: str = DEFAULT_EXPERIMENT) -> None:
    """``--experiment NAME``: overrides ``EXPERIMENT_NAME``."""
    parser.add_argument(
        "--experiment", metavar="NAME", help=f"MLflow experiment (default: $EXPERIMENT_NAME or {default})"
    )


def experiment_name(cli_value: str | None, default: str = DEFAULT_EXPERIMENT) -> str:
    """Argument, else ``EXPERIMENT_NAME``, else the tutorial's experiment name."""
    name = (cli_value or os.environ.get("EXPERIMENT_NAME") or default).strip()
    if not name:
        raise WineError("the experiment name is empty; pass --experiment NAME or set EXPERIMENT_NAME")
    return name


def float_setting(
    cli_value: str | None,
    *,
    flag: str,
    env: str,
    default: float,
    low: float | None = None,
    high: float | None = None,
) -> float:
    """A number from the command line, else the environment, else ``default``, checked against a range."""
    if cli_value is not None:
        raw, source = cli_value, flag
    elif os.environ.get(env, "").strip():
        raw, source = os.environ[env], f"environment variable {env}"
    else:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise WineError(f"{source} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            bounds = f" between {low} and {high}"
        else:
            bounds = f" >= {low}" if low is not None else ""
        raise WineError(f"{source} must be a finite number{bounds}, got {raw!r}")
    return value


def add_hyperparameter_args(parser: argparse.ArgumentParser, *, positional: bool = True) -> None:
    """ElasticNet's knobs, as flags or positionally like the original tutorial (``train.py 0.5 0.5``).

    ``positional=False`` for scripts that use ``parse_known_args`` (CML's kernel may append
    ``-f <kernel.json>``, whose value a positional argument would swallow)."""
    if positional:
        parser.add_argument("alpha_pos", nargs="?", metavar="ALPHA", help="same as --alpha")
        parser.add_argument("l1_ratio_pos", nargs="?", metavar="L1_RATIO", help="same as --l1-ratio")
    parser.add_argument("--alpha", help="regularisation strength >= 0 (default: $ALPHA or 0.5)")
    parser.add_argument("--l1-ratio", help="L1 share of the penalty, 0..1 (default: $L1_RATIO or 0.5)")


def hyperparameters(args: argparse.Namespace) -> tuple[float, float]:
    """``(alpha, l1_ratio)`` from the parsed arguments and the environment (``ALPHA``, ``L1_RATIO``)."""
    for flag, positional in (("--alpha", "alpha_pos"), ("--l1-ratio", "l1_ratio_pos")):
        dest = flag.lstrip("-").replace("-", "_")
        if getattr(args, dest) is not None and getattr(args, positional, None) is not None:
            raise WineError(f"{flag} was given both as a flag and positionally; give it once")
    alpha_arg = args.alpha or getattr(args, "alpha_pos", None)
    l1_arg = args.l1_ratio or getattr(args, "l1_ratio_pos", None)
    alpha = float_setting(alpha_arg, flag="--alpha", env="ALPHA", default=0.5, low=0.0)
    l1_ratio = float_setting(l1_arg, flag="--l1-ratio", env="L1_RATIO", default=0.5, low=0.0, high=1.0)
    return alpha, l1_ratio


_ARTIFACT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def artifact_name(value: str | None, *, source: str) -> str:
    """Check a model artifact name: one path segment, so ``runs:/<run_id>/<name>`` stays unambiguous."""
    if value is None or not _ARTIFACT_NAME.match(value):
        raise WineError(
            f"{source} must be a simple name like 'model' (letters, digits, _ . -), got {value!r}"
        )
    return value


def safe_uri(uri: str) -> str:
    """A tracking URI fit for messages: any ``user:password@`` part is masked."""
    parsed = urllib.parse.urlsplit(uri)
    if "@" not in parsed.netloc:
        return uri
    host = parsed.netloc.rsplit("@", 1)[1]
    return urllib.parse.urlunsplit(parsed._replace(netloc=f"***@{host}"))


def tracking_uri() -> str:
    """The tracking URI MLflow will use (from ``MLFLOW_TRACKING_URI`` or its default), masked."""
    import mlflow

    return safe_uri(str(mlflow.get_tracking_uri()))


# --- MLflow 2.19 (CML's runtimes) and MLflow 3 alike ------------------------------------------------


def log_sklearn_model(model: Any, artifact: str, **kwargs: Any) -> Any:
    """``mlflow.sklearn.log_model`` under ``artifact``, in whichever spelling the installed MLflow has.

    CML's runtimes ship mlflow-skinny 2.19, whose second argument is ``artifact_path``; MLflow 3
    names the model with ``name=`` (and warns that ``artifact_path`` is deprecated). Either way the
    model is reachable as ``runs:/<run_id>/<artifact>``.
    """
    import inspect

    import mlflow.sklearn

    if "name" in inspect.signature(mlflow.sklearn.log_model).parameters:
        return mlflow.sklearn.log_model(model, name=artifact, **kwargs)
    return mlflow.sklearn.log_model(model, artifact, **kwargs)
