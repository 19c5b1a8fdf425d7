"""The build worker: check a model in a process of its own, with the runtime's Python.

Started by the local API server for each build, with the interpreter of the environment the build
uses (the runtime's, plus the model's requirements or the project's own packages), never inside
the API server: a model whose loading code exits, crashes or hangs ends or blocks only this process,
and the server reports why (its exit code and the tail of its stderr, or its time limit)::

    python -m automation.local.serving.worker [--build ID] model MODEL_DIR
    python -m automation.local.serving.worker [--build ID] function PROJECT_DIR FILE_PATH FUNCTION_NAME

``model`` loads the MLflow model in ``MODEL_DIR`` (the build's copy of the registered version) and
predicts once on its input example (``check.check_model``); ``function`` imports the project file
and checks it defines the callable (``function.main``). Exit 0 when the model is fine (``model``
prints a one-line JSON summary on stdout), 10 with a one-line reason as the last line of stderr
when it is not, 2 on bad usage; any other exit is the model's own doing.
"""

from __future__ import annotations

import json
import os
import sys

from automation.errors import EXIT_BUILD_FAILED, EXIT_USAGE
from automation.local.serving.errors import ModelCheckError

USAGE = (
    "usage: python -m automation.local.serving.worker [--build ID] model MODEL_DIR\n"
    "       python -m automation.local.serving.worker [--build ID] function PROJECT_DIR FILE_PATH FUNCTION_NAME"
)


def check_model_dir(model_dir: str) -> int:
    from automation.local.serving.check import check_model

    # The model is a local folder: no tracking server is contacted (the URI only satisfies mlflow).
    uri = f"file://{os.path.abspath(model_dir)}"
    try:
        summary = check_model(model_dir, uri, uri)
    except ModelCheckError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BUILD_FAILED
    print(json.dumps({"flavor": summary["flavor"], "fast_path": summary["fast_path"]}))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--build"]:
        args = args[2:]  # the build's id: only there so the server can recognise its worker later
    if len(args) == 2 and args[0] == "model":
        return check_model_dir(args[1])
    if len(args) == 4 and args[0] == "function":
        from automation.local.serving.function import main as check_function

        return check_function(args[1:])
    print(USAGE, file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip finalisers of whatever the model started (threads, pools)
