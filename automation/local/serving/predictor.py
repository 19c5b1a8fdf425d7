"""Load an MLflow model once and predict on validated requests, as fast as identical answers allow.

Two paths, chosen at load time:

* **fast path** (the ``sklearn`` flavour with an all-numeric signature): the request is checked
  against the signature once in plain Python (``InputSchema.to_matrix``) and the fitted estimator is
  called directly on a float64 array. This skips pyfunc's per-call pandas schema enforcement, which
  costs several times the prediction itself.
* **generic path** (every other flavour, or a model the fast path does not reproduce): pyfunc
  ``predict`` on a pandas frame built from the validated request.

The fast path is only kept after a self-check at load time: on the model's input example (or a
zero row built from the signature) its answer must equal pyfunc's exactly (``==`` on floats).
Otherwise the model is served through pyfunc and the reason is kept in ``fast_path_note``.

mlflow's tracking and registry URIs are process-wide settings; ``mlflow_uris`` sets them for the
duration of a load and puts the previous values back, under a lock, so a caller that loads several
models in one process is left as it was.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from automation.local.serving.errors import ModelCheckError, RequestError, one_line
from automation.local.serving.inputs import InputSchema

log = logging.getLogger(__name__)

# sklearn warns on every call when an estimator fitted on a DataFrame gets an array; the fast path
# passes columns in the signature's order, which is the order the estimator was fitted with.
FEATURE_NAMES_WARNING = "X does not have valid feature names"

_URI_LOCK = threading.Lock()


@contextlib.contextmanager
def mlflow_uris(tracking_uri: str, registry_uri: str | None) -> Iterator[None]:
    """Point mlflow at the given stores for the duration of the block, then restore the old state."""
    import mlflow
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    with _URI_LOCK:
        saved_env = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
        saved_tracking = getattr(tracking_utils, "_tracking_uri", None)
        saved_registry = getattr(registry_utils, "_registry_uri", None)
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(registry_uri or tracking_uri)
        try:
            yield
        finally:
            mlflow.set_tracking_uri(saved_tracking)
            registry_utils._registry_uri = saved_registry
            for key, value in saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _local_dir(model_uri: str) -> Path | None:
    """The model's folder when ``model_uri`` is already local (a path or a file: URI), else None."""
    parsed = urlparse(model_uri)
    if parsed.scheme == "file":
        path = Path(parsed.path)
    elif parsed.scheme == "":
        path = Path(model_uri)
    else:
        return None
    return path if path.is_dir() else None


def resolve_model_dir(model_uri: str, tracking_uri: str, registry_uri: str | None, workdir: Path) -> Path:
    """Download (or locate) the model's artifacts; raise ModelCheckError naming the URI otherwise."""
    local = _local_dir(model_uri)
    if local is not None:
        return local
    if "://" not in model_uri and ":/" not in model_uri:
        raise ModelCheckError(
            f"model {model_uri!r} not found: expected models:/<name>/<version>, runs:/<run_id>/<path> "
            "or a local folder"
        )
    from mlflow.artifacts import download_artifacts

    try:
        with mlflow_uris(tracking_uri, registry_uri):
            return Path(download_artifacts(artifact_uri=model_uri, dst_path=str(workdir)))
    except Exception as exc:  # mlflow raises many kinds here; the build needs one line
        raise ModelCheckError(f"cannot resolve model {model_uri!r}: {one_line(exc)}") from None


def example_request(model_dir: Path, mlmodel: Any, schema: InputSchema) -> dict[str, Any] | None:
    """The request to try at load time: the logged serving example, else a zero row, else None."""
    info = getattr(mlmodel, "saved_input_example_info", None) or {}
    serving = info.get("serving_input_path")
    if serving and (model_dir / serving).is_file():
        try:
            example = json.loads((model_dir / serving).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            example = None
        if isinstance(example, dict) and "params" not in example:
            return example
    return schema.zero_request()


def to_jsonable(output: Any) -> list[Any]:
    """Model output as a JSON-ready list (non-finite floats become null: JSON has no NaN)."""
    if isinstance(output, np.ndarray):
        if output.dtype.kind == "f" and np.isfinite(output).all():
            return output.tolist()
        values = output.tolist()
    elif hasattr(output, "to_numpy") and hasattr(output, "columns"):  # pandas DataFrame
        if len(output.columns) == 1:
            values = output.iloc[:, 0].tolist()
        else:
            values = output.to_dict(orient="records")
    elif hasattr(output, "tolist"):  # pandas Series, numpy scalar
        values = output.tolist()
    elif isinstance(output, (list, tuple)):
        values = list(output)
    else:
        values = [output]
    if not isinstance(values, list):
        values = [values]
    return _finite(values)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return _finite(value.item())
    return value


def _schema_reason(exc: BaseException) -> str:
    """The useful tail of mlflow's schema-enforcement message (its head dumps the whole frame)."""
    text = str(exc)
    tail = text.rsplit("Error:", 1)[-1].strip() if "Error:" in text else text.strip()
    tail = " ".join(tail.split())
    return tail if len(tail) <= 300 else tail[:297] + "..."


class ServedModel:
    """A loaded model: ``predict(request)`` validates the request and returns a JSON-ready list.

    ``inline`` says whether a prediction is cheap enough to run on the server's event loop (the
    fast path); generic predictions run on a worker thread so the loop keeps answering.
    """

    def __init__(
        self,
        *,
        model_uri: str,
        model_dir: Path,
        flavor: str,
        schema: InputSchema,
        pyfunc_model: Any,
        fast_fn: Callable[[np.ndarray], Any] | None,
        fast_path_note: str = "",
        sample: list[Any] | None = None,
        cleanup_dir: Path | None = None,
    ) -> None:
        self.model_uri = model_uri
        self.model_dir = model_dir
        self.flavor = flavor
        self.schema = schema
        self.fast_path_note = fast_path_note
        self.sample = sample
        self._fast_fn = fast_fn
        self._pyfunc = None if fast_fn is not None else pyfunc_model
        self._cleanup_dir = cleanup_dir

    @property
    def fast_path(self) -> bool:
        return self._fast_fn is not None

    @property
    def inline(self) -> bool:
        return self._fast_fn is not None

    @property
    def columns(self) -> list[str]:
        return [str(n) for n in self.schema.names]

    def predict(self, request: Any) -> list[Any]:
        """Validate ``request`` and predict. RequestError for bad input; anything else is a model failure."""
        if self._fast_fn is not None:
            return to_jsonable(self._fast_fn(self.schema.to_matrix(request)))
        return predict_generic(self._pyfunc, self.schema, request)

    def close(self) -> None:
        """Remove the downloaded artifacts (when this object downloaded them)."""
        if self._cleanup_dir is not None:
            shutil.rmtree(self._cleanup_dir, ignore_errors=True)
            self._cleanup_dir = None


# What a model's own input checks raise (scikit-learn, pandas, numpy: wrong width, unknown or
# reordered feature names, strings where numbers belong).
_INPUT_FAILURES = (ValueError, TypeError, KeyError, IndexError)


def predict_generic(pyfunc_model: Any, schema: InputSchema, request: Any) -> list[Any]:
    """pyfunc ``predict`` on the validated request; mlflow's schema rejections become RequestError.

    A model logged without a signature has nothing to check the input against before it runs, so
    the model's own refusal of it (a ValueError, TypeError, KeyError or IndexError) is the caller's
    bad input: a 400 with the model's reason, not a 500. With a signature the input was checked
    first, and such an error is the model failing.
    """
    from mlflow.exceptions import MlflowException

    data = schema.to_model_input(request)
    try:
        return to_jsonable(pyfunc_model.predict(data))
    except MlflowException as exc:
        if getattr(exc, "error_code", "") in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST"):
            raise RequestError(f"the model's signature rejected the input: {_schema_reason(exc)}") from None
        raise
    except _INPUT_FAILURES as exc:
        if schema.columns or schema.tensor_dtype is not None:
            raise
        raise RequestError(f"the model (no signature) refused the input: {_schema_reason(exc)}") from None


def _flavor_name(flavors: dict[str, Any]) -> str:
    others = [name for name in flavors if name != "python_function"]
    return others[0] if others else "python_function"


def _fast_candidate(model_dir: Path, flavors: dict[str, Any], schema: InputSchema) -> tuple[Any, str]:
    """(predict function or None, why not) for the sklearn flavour with an all-numeric signature."""
    pyfunc_conf = flavors.get("python_function") or {}
    if "sklearn" not in flavors or pyfunc_conf.get("loader_module") != "mlflow.sklearn":
        return None, f"flavor {_flavor_name(flavors)} is served through pyfunc"
    if not schema.numeric:
        return None, "the signature is missing or not all-numeric"
    import mlflow.sklearn

    try:
        estimator = mlflow.sklearn.load_model(str(model_dir))
        fn = getattr(estimator, pyfunc_conf.get("predict_fn") or "predict")
    except Exception as exc:
        return None, f"cannot load the estimator directly ({one_line(exc)})"
    # Process-wide but narrow: only this one message, which the fast path would trigger per call.
    warnings.filterwarnings("ignore", message=FEATURE_NAMES_WARNING, category=UserWarning)
    return fn, ""


def load_served_model(
    model_uri: str, tracking_uri: str, registry_uri: str | None = None, *, workdir: Path | None = None
) -> ServedModel:
    """Resolve, load and self-check the model; raise ModelCheckError with a one-line reason.

    ``workdir`` receives downloaded artifacts (a fresh temporary folder when None, removed by
    ``ServedModel.close``).
    """
    own_dir = workdir is None
    work = Path(tempfile.mkdtemp(prefix="cmlops-model-")) if workdir is None else workdir
    try:
        return _load(model_uri, tracking_uri, registry_uri, work, cleanup=work if own_dir else None)
    except BaseException:
        if own_dir:
            shutil.rmtree(work, ignore_errors=True)
        raise


def _load(
    model_uri: str, tracking_uri: str, registry_uri: str | None, work: Path, cleanup: Path | None
) -> ServedModel:
    import mlflow.pyfunc
    from mlflow.models import Model

    model_dir = resolve_model_dir(model_uri, tracking_uri, registry_uri, work)
    if not (model_dir / "MLmodel").is_file():
        raise ModelCheckError(f"{model_uri!r} is not an MLflow model (no MLmodel file)")
    try:
        mlmodel = Model.load(str(model_dir))
        schema = InputSchema.from_signature(mlmodel.signature)
        with mlflow_uris(tracking_uri, registry_uri):
            pyfunc_model = mlflow.pyfunc.load_model(str(model_dir))
    except ModelCheckError:
        raise
    except Exception as exc:
        raise ModelCheckError(f"cannot load model {model_uri!r}: {one_line(exc)}") from None

    flavors = dict(mlmodel.flavors)
    request = example_request(model_dir, mlmodel, schema)
    sample = None
    if request is not None:
        try:
            sample = predict_generic(pyfunc_model, schema, request)
        except Exception as exc:
            raise ModelCheckError(
                f"model {model_uri!r} failed to predict on its input example: {one_line(exc)}"
            ) from None

    fast_fn, note = _fast_candidate(model_dir, flavors, schema)
    if fast_fn is not None:
        note = _self_check(fast_fn, schema, request, sample)
        if note:
            fast_fn = None
    if note:
        log.info("fast path off for %s: %s", model_uri, note)
    return ServedModel(
        model_uri=model_uri,
        model_dir=model_dir,
        flavor=_flavor_name(flavors),
        schema=schema,
        pyfunc_model=pyfunc_model,
        fast_fn=fast_fn,
        fast_path_note=note,
        sample=sample,
        cleanup_dir=cleanup,
    )


def _self_check(
    fast_fn: Callable[[np.ndarray], Any], schema: InputSchema, request: Any, expected: list[Any] | None
) -> str:
    """'' when the fast path answers ``request`` exactly as pyfunc did, else the reason it does not."""
    if request is None or expected is None:
        return "no input example to compare the fast path with pyfunc"
    try:
        got = to_jsonable(fast_fn(schema.to_matrix(request)))
    except Exception as exc:
        return f"the estimator cannot predict on a plain array ({one_line(exc)})"
    if got != expected:
        return "the estimator's answer on a plain array differs from pyfunc's"
    return ""
