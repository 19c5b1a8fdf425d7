"""Run a script the way a CML ML Runtime's Jupyter kernel runs a job, application or model script.

Executed (never imported) by the project environment's Python::

    python kernel_runner.py EDITOR SCRIPT CONNECTION_FILE [ARGUMENTS...]

What a script sees, as in CML:

* the whole file runs as one IPython cell, so IPython syntax works in a ``.py`` file:
  ``!pip3 install -r requirements.txt`` and other ``!shell`` lines, ``%magics``;
* ``__file__`` is not defined; the working directory is the project folder, which is first on
  ``sys.path``;
* ``sys.argv`` is ``[SCRIPT, *ARGUMENTS]`` on the Workbench editor; the Jupyter-based editors (PBJ
  Workbench, JupyterLab) also carry the kernel's ``-f <connection file>``, so a strict
  ``argparse.parse_args()`` exits 2 there (use ``parse_known_args()``);
* ``SystemExit`` fails the run, even ``sys.exit(0)``: the kernel reports it as an error. A script
  ends by returning.

Exit status: 0 when the cell ran without an error; the ``SystemExit`` code when it is a non-zero
integer; 1 for any other error (the traceback is in the log, as in a CML job log).
Only the standard library and IPython (part of every runtime) are used here.
"""

from __future__ import annotations

import os
import sys
import tempfile

JUPYTER_EDITORS = ("PBJ Workbench", "JupyterLab")
EXIT_MESSAGE = (
    "[cmlops local] the script raised SystemExit({code!r}). CML's job kernel reports any SystemExit, "
    "even sys.exit(0), as a failed run: end the script by returning instead of calling sys.exit()."
)


def _shell():
    # IPython's profile folder goes to a scratch folder, not into the project (HOME is the project).
    os.environ.setdefault("IPYTHONDIR", tempfile.mkdtemp(prefix="ipython-"))
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.InteractiveShell.colors = "NoColor"
    config.HistoryManager.enabled = False  # no history database in the project folder
    shell = InteractiveShell.instance(config=config)
    shell.system = shell.system_raw  # '!' output goes straight to the job log, with no pty
    return shell


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print("usage: kernel_runner.py EDITOR SCRIPT CONNECTION_FILE [ARGUMENTS...]", file=sys.stderr)
        return 2
    editor, script, connection, *arguments = argv
    with open(script, encoding="utf-8") as fh:
        source = fh.read()
    sys.path[0] = os.getcwd()  # the project folder, not this runner's folder
    sys.argv = [script, *arguments]
    if editor in JUPYTER_EDITORS:
        sys.argv += ["-f", connection]
    shell = _shell()
    shell.user_ns.pop("__file__", None)
    result = shell.run_cell(source, store_history=False)
    sys.stdout.flush()
    error = result.error_before_exec or result.error_in_exec
    if error is None:
        return 0
    if isinstance(error, SystemExit):
        print(EXIT_MESSAGE.format(code=error.code), flush=True)
        return error.code if isinstance(error.code, int) and error.code != 0 else 1
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
