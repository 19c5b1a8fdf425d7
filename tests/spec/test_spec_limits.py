"""The loader's and the file checks' limits on their boundaries, and where a target is located."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from spec_support import MINIMAL

from automation.errors import SpecError
from automation.spec import load_spec, loader, source_files
from automation.spec.files import MAX_UPLOAD_FILES
from automation.spec.yamlload import MAX_BYTES


def _padded(size: int, ending: str = "") -> str:
    """MINIMAL padded with a comment to exactly ``size`` bytes, ``ending`` last."""
    body = MINIMAL + "# "
    return body + "x" * (size - len(body) - len(ending) - 1) + "\n" + ending


def test_a_spec_of_exactly_the_limit_loads_to_its_last_byte(tmp_path):
    path = tmp_path / "s.yaml"
    # the last byte closes a quoted value: losing it would be a YAML error, not a smaller file
    path.write_text(_padded(MAX_BYTES, 'x-end: "z"'))
    assert path.stat().st_size == MAX_BYTES
    assert load_spec(path, environ={}).name == "demo"


def test_one_byte_over_the_limit_is_refused_at_line_1(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(_padded(MAX_BYTES + 1))
    with pytest.raises(SpecError) as caught:
        load_spec(path, environ={})
    assert (caught.value.line, caught.value.column) == (1, 1) and "1024 KiB" in caught.value.message


class _SmallOnStat(type(Path())):  # type: ignore[misc]
    """A path whose size looks small when asked, as a file that grows between stat and read does."""

    def stat(self, *args, **kwargs):
        real = os.stat(self, *args, **kwargs)
        return os.stat_result((real.st_mode, *real[1:6], 10, *real[7:]))


def test_a_file_that_grows_after_its_size_was_read_is_refused_too(tmp_path, monkeypatch):
    path = tmp_path / "s.yaml"
    path.write_text(_padded(MAX_BYTES + 1))
    monkeypatch.setattr(loader, "Path", _SmallOnStat)
    with pytest.raises(SpecError) as caught:
        load_spec(path, environ={})
    assert (caught.value.line, caught.value.column) == (1, 1)
    assert "larger than 1024 KiB" in caught.value.message


def test_an_unreadable_spec_says_why_in_words(tmp_path, monkeypatch):
    path = tmp_path / "s.yaml"
    path.write_text(MINIMAL)

    class Unreadable(type(Path())):  # type: ignore[misc]
        def open(self, *args, **kwargs):
            raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(loader, "Path", Unreadable)
    with pytest.raises(SpecError) as caught:
        load_spec(path, environ={})
    assert caught.value.message.endswith(": cannot read the spec: Permission denied")


def test_a_target_is_located_at_its_name(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(MINIMAL + "targets:\n  laptop:\n    kind: local\n")
    spec = load_spec(path, environ={})
    assert spec.targets["laptop"]._where == (str(path), 20, 3)  # the key, not its value (21:5)


DOCUMENTED_UPLOAD_LIMIT = 5000  # the README's Reliability section: globs matching more are refused


def test_the_upload_limit_is_the_documented_one():
    assert MAX_UPLOAD_FILES == DOCUMENTED_UPLOAD_LIMIT


@pytest.mark.parametrize(
    ("count", "ok"), [(DOCUMENTED_UPLOAD_LIMIT, True), (DOCUMENTED_UPLOAD_LIMIT + 1, False)]
)
def test_the_upload_list_holds_at_most_the_limit(tmp_path, count, ok):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    code = tmp_path / "code"
    code.mkdir()
    for i in range(count):
        (code / f"m{i:05d}.py").write_text("")
    (tmp_path / "specs").mkdir()
    spec_path = tmp_path / "specs" / "demo.yaml"
    spec_path.write_text(MINIMAL)
    spec = load_spec(spec_path, environ={})
    if ok:
        assert len(source_files(spec)) == count
    else:
        with pytest.raises(SpecError, match=f"more than {DOCUMENTED_UPLOAD_LIMIT} files"):
            source_files(spec)
