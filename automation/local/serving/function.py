"""File-based models (AMP ``build_model`` tasks): a function in a project file, called once per request.

CML imports the model file with the project folder as working directory and on ``sys.path``, then
answers each call with ``{"success": true, "response": function(request)}``. ``load_function``
does the same import in this process (the model server's, or a build worker's, never the API
server's: user code runs in its own process, on the build's runtime). ``main`` (also
``python -m automation.local.serving.function PROJECT_DIR FILE_PATH FUNCTION_NAME``) is the build
check: exit 0 when importing the file defines a callable ``FUNCTION_NAME``, else exit 10 with a
one-line reason as the last line of stderr.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from automation.errors import EXIT_BUILD_FAILED, EXIT_USAGE
from automation.local.serving.errors import ModelCheckError, one_line

USAGE = "usage: python -m automation.local.serving.function PROJECT_DIR FILE_PATH FUNCTION_NAME"
# The model file is user code and must not see a workspace's settings or key, whatever starts the
# check (the build worker's environment holds none; this is the check's own guard).
SERVER_ONLY_PREFIXES = ("CML_", "CDSW_")


def load_function(project_dir: str, file_path: str, function_name: str) -> Callable[[Any], Any]:
    """Import ``file_path`` as CML does and return its callable ``function_name``; ModelCheckError if not."""
    root = Path(project_dir).resolve()
    target = (root / file_path).resolve()
    if root not in target.parents:
        raise ModelCheckError(f"file_path {file_path!r} points outside the project folder")
    if not target.is_file():
        raise ModelCheckError(f"file_path {file_path!r} not found in the project folder")
    os.chdir(root)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    module_name = "cml_model_" + "".join(c if c.isalnum() else "_" for c in target.stem)
    spec = importlib.util.spec_from_file_location(module_name, target)
    if spec is None or spec.loader is None:
        raise ModelCheckError(f"file_path {file_path!r} cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:  # SystemExit in a model file must fail the build, not end it quietly
        sys.modules.pop(module_name, None)
        raise ModelCheckError(f"importing {file_path!r} failed: {one_line(exc)}") from None
    function = getattr(module, function_name, None)
    if function is None:
        raise ModelCheckError(f"{file_path!r} defines no function {function_name!r}")
    if not callable(function):
        raise ModelCheckError(f"{function_name!r} in {file_path!r} is not callable")
    return function  # type: ignore[no-any-return]


class FunctionModel:
    """A loaded model function, shaped like predictor.ServedModel for the endpoint and the runner."""

    flavor = "python function (file_path/function_name)"
    fast_path = False
    fast_path_note = "a project function, called once per request"
    inline = False  # user code may block: run it on the endpoint's worker thread
    raw_response = True  # CML answers with the function's return value as it is

    def __init__(self, project_dir: str, file_path: str, function_name: str) -> None:
        self.description = f"{file_path}:{function_name}"
        self._function = load_function(project_dir, file_path, function_name)

    def predict(self, request: Any) -> Any:
        return self._function(request)

    def close(self) -> None:
        """Nothing to release (present for the runner, as ServedModel has it)."""


def main(argv: list[str] | None = None) -> int:
    """The build check (see the module docstring); returns the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print(USAGE, file=sys.stderr)
        return EXIT_USAGE
    for name in [n for n in os.environ if n.startswith(SERVER_ONLY_PREFIXES)]:
        del os.environ[name]
    try:
        load_function(*args)
    except ModelCheckError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BUILD_FAILED
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip finalisers of whatever the model file started (threads, pools)
