"""pytest plugin for bench/mutate.py: which tests run which lines of the module under mutation.

Loaded with ``-p mutate_lines`` (bench/ on PYTHONPATH) and two environment variables:
``MUTATE_LINES_FILE``, the module's absolute path, and ``MUTATE_LINES_OUT``, where the map is
written as JSON: ``{"tests": [node ids in run order], "lines": {"<line>": [test indexes]},
"import": [lines run outside any test]}``. Lines run while modules are imported or collected (class
bodies, defaults, module constants) belong to no test: a mutant there is run against the whole
subset. Only frames of that one file are traced, in every thread.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import defaultdict
from types import FrameType
from typing import Any

import pytest

_TARGET = os.path.realpath(os.environ.get("MUTATE_LINES_FILE", ""))
_OUT = os.environ.get("MUTATE_LINES_OUT", "")

_tests: list[str] = []
_lines: dict[int, set[int]] = defaultdict(set)  # line -> indexes of the tests that ran it
_import_lines: set[int] = set()
_current: int | None = None  # index of the running test, None outside tests
_files: dict[str, bool] = {}  # co_filename -> is the target


def _local(frame: FrameType, event: str, _arg: Any):
    if event == "line":
        if _current is None:
            _import_lines.add(frame.f_lineno)
        else:
            _lines[frame.f_lineno].add(_current)
    return _local


def _global(frame: FrameType, event: str, arg: Any):
    name = frame.f_code.co_filename
    hit = _files.get(name)
    if hit is None:
        hit = _files[name] = os.path.realpath(name) == _TARGET
    if not hit:
        return None
    _local(frame, "line", arg)  # the def line or first line of the frame
    return _local


def pytest_configure(config: pytest.Config) -> None:
    if _TARGET and _OUT:
        sys.settrace(_global)
        threading.settrace(_global)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    global _current
    _tests.append(item.nodeid)
    _current = len(_tests) - 1
    try:
        yield
    finally:
        _current = None


def pytest_unconfigure(config: pytest.Config) -> None:
    if not (_TARGET and _OUT):
        return
    sys.settrace(None)
    threading.settrace(None)  # type: ignore[arg-type]
    data = {
        "tests": _tests,
        "lines": {str(line): sorted(tests) for line, tests in sorted(_lines.items())},
        "import": sorted(_import_lines),
    }
    with open(_OUT, "w") as fh:
        json.dump(data, fh)
