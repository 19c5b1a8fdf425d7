"""Read an AMP file: bounded safe YAML with positions -> typed ``AmpFile``, every problem located.

The YAML reader is the spec's (``automation.spec.yamlload``): it refuses duplicate keys, alias bombs
and unknown tags, and remembers the line and column of every key and value. Pydantic's errors are
mapped back onto those positions here, with the task index and type in the message, so a problem
reads ``.project-metadata.yaml:42:5: tasks[3]: missing required field 'script' in task 3 (create_job)``.
Unknown keys are collected apart (CML ignores them; ``validate`` makes them warnings, or errors
under ``--strict``). Values CML passes on as text are read as written (``is_text_value``).
All problems are collected (in file order); ``load_amp`` raises the first, ``read_amp`` returns all.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from automation.amp.model import AMP_FILENAME, TASK_MODELS, TASK_TYPES, AmpFile
from automation.errors import InputError, SpecError
from automation.spec.diagnostics import EXPECTED_TYPES, describe, did_you_mean
from automation.spec.yamlload import MAX_BYTES, FieldPath, YamlDocument, dotted, parse_yaml

Position = tuple[int, int]


@dataclass
class LoadedAmp:
    """An AMP file read from disk: the typed model, where it came from, and its positions."""

    amp: AmpFile
    file: str
    root: Path
    doc: YamlDocument
    unknown: list[SpecError] = field(default_factory=list)  # unknown keys, ignored as CML ignores them

    def locate(self, path: FieldPath, *, key: bool = False) -> Position:
        return locate(self.doc, path, key=key)

    def error(
        self, path: FieldPath, message: str, *, hint: str | None = None, key: bool = False
    ) -> SpecError:
        """A SpecError at ``path`` of this file (for problems found after parsing)."""
        line, column = self.locate(path, key=key)
        return SpecError(
            message, file=self.file, line=line, column=column, field=dotted(path) or None, hint=hint
        )


@dataclass
class ReadResult:
    """Everything ``read_amp`` found: the loaded AMP (None when it does not parse) and the problems."""

    file: str
    root: Path
    loaded: LoadedAmp | None = None
    errors: list[SpecError] = field(default_factory=list)
    unknown: list[SpecError] = field(default_factory=list)


def find_amp_file(path: str | Path) -> Path:
    """``path`` itself when it is a file, else ``<folder>/.project-metadata.yaml``; SpecError if absent."""
    p = Path(path)
    if p.is_dir():
        candidate = p / AMP_FILENAME
        if not candidate.is_file():
            raise SpecError(
                f"no {AMP_FILENAME} in this folder",
                file=str(p),
                hint=f"an AMP keeps {AMP_FILENAME} at the root of its repository; give that folder or the file",
            )
        return candidate
    if not p.exists():
        raise SpecError(
            "AMP file not found", file=str(p), hint=f"give the path of a {AMP_FILENAME} or its folder"
        )
    if not p.is_file():
        raise SpecError("not a regular file", file=str(p))
    return p


_REPO_URL = re.compile(r"^(https?|ssh|git|file)://|^[\w.-]+@[\w.-]+:")


def is_repo_url(path: str) -> bool:
    """Whether ``path`` names a git repository (https://, ssh://, git@host:path, file://)."""
    return bool(_REPO_URL.match(path))


def clone_repo(url: str, dest: Path, ref: str | None = None, timeout: float = 300) -> Path:
    """Shallow-clone ``url`` (at ``ref``) into ``dest`` so its AMP file can be read; InputError on failure."""
    command = ["git", "clone", "--quiet", "--depth", "1"]
    if ref:
        command += ["--branch", ref]
    try:
        done = subprocess.run(
            [*command, "--", url, str(dest)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise InputError(
            f"cannot clone {url}: {exc}", hint="is git installed and the URL reachable?"
        ) from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["git clone failed"])[-1]
        raise InputError(
            f"cannot clone {url}: {reason}", hint="check the URL, the ref and your git credentials"
        )
    return dest


def locate(doc: YamlDocument, path: FieldPath, *, key: bool = False) -> Position:
    """Line and column of ``path``: its key (or value), else the nearest written ancestor's, else 1:1."""
    while path:
        if key and path in doc.keys:
            return doc.keys[path]
        if path in doc.values:
            return doc.values[path]
        if path in doc.keys:
            return doc.keys[path]
        path = path[:-1]
    return (1, 1)


def read_amp(path: str | Path) -> ReadResult:
    """Read and type-check the AMP file at ``path`` (file or folder); never raises for file problems."""
    try:
        file_path = find_amp_file(path)
    except SpecError as exc:
        return ReadResult(file=str(path), root=Path(path), errors=[exc])
    file = str(file_path)
    result = ReadResult(file=file, root=file_path.resolve().parent)
    try:
        text = _read_text(file_path)
        doc = _parse(text, file)
    except SpecError as exc:
        result.errors.append(exc)
        return result
    amp, result.errors, result.unknown = typed(doc)
    if amp is not None:
        result.loaded = LoadedAmp(amp=amp, file=file, root=result.root, doc=doc, unknown=result.unknown)
    return result


def load_amp(path: str | Path) -> LoadedAmp:
    """The typed AMP at ``path``; raises the first problem (file order) as a located SpecError."""
    result = read_amp(path)
    if result.errors:
        raise first_error(result.errors)
    assert result.loaded is not None
    return result.loaded


def first_error(errors: list[SpecError]) -> SpecError:
    first = errors[0]
    if len(errors) > 1:
        more = f"{len(errors) - 1} more problem{'s' if len(errors) > 2 else ''} after this one"
        first.hint = f"{first.hint}; {more}" if first.hint else more
    return first


def parse_amp_text(text: str, *, file: str = AMP_FILENAME, root: str | Path = ".") -> LoadedAmp:
    """Type-check AMP ``text`` as if it were ``file`` in the folder ``root``; raises the first problem."""
    doc = _parse(text, file)
    amp, errors, unknown = typed(doc)
    if amp is None:
        raise first_error(errors)
    return LoadedAmp(amp=amp, file=file, root=Path(root).resolve(), doc=doc, unknown=unknown)


def typed(doc: YamlDocument) -> tuple[AmpFile | None, list[SpecError], list[SpecError]]:
    """(the typed AMP or None, its problems, its unknown keys) of a parsed file.

    Unknown keys do not stop a launch (CML ignores them): each is reported (with a "did you mean")
    and left out, then the rest is type-checked again. A required field whose name is misspelled is
    still missing; its message names the misspelling.
    """
    data = copy.deepcopy(doc.data)
    unknown: list[SpecError] = []
    for _ in range(8):  # a removal can only reveal keys of a section the previous pass did not reach
        try:
            return AmpFile.model_validate(data), [], unknown
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        extras = [e for e in errors if e["type"] == "extra_forbidden"]
        if not extras:
            break
        for error in extras:
            unknown.append(_diagnose(error, doc)[1])
            _remove(data, _clean_loc(tuple(error["loc"])))
    found = sorted((_diagnose(e, doc) for e in errors if e["type"] != "extra_forbidden"), key=lambda i: i[0])
    problems = [err for _, err in found]
    for err in problems:
        _name_misspelling(err, unknown)
    unknown.sort(key=lambda e: (e.line or 0, e.column or 0))
    return None, problems, unknown


def bare_message(err: SpecError) -> str:
    """The message of ``err`` without its ``file:line:column: field:`` prefix."""
    prefix = SpecError("", file=err.file, line=err.line, column=err.column, field=err.field).message
    return err.message.removeprefix(prefix)


def _clean_loc(raw_loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """A task's loc carries the union tag: ("tasks", 3, "create_job", "scirpt") -> drop the tag."""
    if len(raw_loc) >= 3 and raw_loc[0] == "tasks" and raw_loc[2] in TASK_TYPES:
        raw_loc = raw_loc[:2] + raw_loc[3:]
    return tuple(p for p in raw_loc if p != "[key]")


def _remove(data: Any, loc: tuple[Any, ...]) -> None:
    node = data
    for part in loc[:-1]:
        node = _child(node, part)
    if isinstance(node, dict):
        node.pop(loc[-1], None)


def _name_misspelling(err: SpecError, unknown: list[SpecError]) -> None:
    """``missing required field 'script'`` next to an unknown ``scirpt``: say that it is the same field."""
    if not bare_message(err).startswith("missing required field") or not err.field:
        return
    parent, _, name = err.field.rpartition(".")
    for other in unknown:
        other_parent, _, other_name = (other.field or "").rpartition(".")
        if other_parent == parent and did_you_mean(other_name, [name]):
            err.hint = f"'{other_name}' (line {other.line}) looks like a misspelling of '{name}'"
            return


# --- reading ---------------------------------------------------------------------------------------------


def _read_text(p: Path) -> str:
    file = str(p)
    try:
        with p.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError(f"cannot read the AMP file: {exc.strerror or exc}", file=file) from None
    if len(raw) > MAX_BYTES:
        raise SpecError(
            f"the AMP file is larger than {MAX_BYTES // 1024} KiB; refusing it", file=file, line=1
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        raise SpecError(
            "the AMP file is not UTF-8 text",
            file=file,
            line=before.count(b"\n") + 1,
            column=exc.start - (before.rfind(b"\n") + 1) + 1,
            hint="save it as UTF-8",
        ) from None


_TASK_ENV = ("environment", "environment_variables")
_TEXT_TOP = ("specification_version", "prototype_version", "date")


def is_text_value(path: FieldPath) -> bool:
    """Values CML passes on as the text the author wrote (YAML 1.2 / raw scalars, not YAML 1.1's
    ``yes`` -> true): variable defaults, task environments, job arguments and version numbers."""
    if len(path) == 1 and path[0] in _TEXT_TOP:
        return True
    if len(path) == 3 and path[0] == "runtimes" and path[2] == "version":
        return True
    if len(path) == 3 and path[0] == "environment_variables" and path[2] == "default":
        return True
    if len(path) == 4 and path[0] == "tasks" and path[2] in _TASK_ENV:
        return True
    return len(path) == 3 and path[0] == "tasks" and path[2] == "arguments"


def _parse(text: str, file: str) -> YamlDocument:
    """The spec's safe YAML reader, with messages that speak of an AMP file rather than a spec."""
    hint = (
        "an AMP file starts with name:, description:, author:, specification_version: and prototype_version:"
    )
    try:
        return parse_yaml(text, file, text_at=is_text_value)
    except SpecError as exc:
        if "the spec is empty" in exc.message:
            raise SpecError("the AMP file is empty", file=file, line=1, column=1, hint=hint) from None
        if "top level of a spec" in exc.message:
            raise SpecError(
                "the top level of an AMP file must be a mapping (key: value lines)",
                file=file,
                line=exc.line,
                column=exc.column,
                hint=hint,
            ) from None
        if exc.hint and "spec" in exc.hint:
            exc.hint = None
        raise


# --- pydantic errors -> located SpecErrors ---------------------------------------------------------------


def _strip(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


def _pick_task(tp: Any, node: Any) -> Any:
    """The task union resolves to the model named by the task's written ``type``."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        kind = node.get("type") if isinstance(node, dict) else None
        if isinstance(kind, str) and kind in TASK_MODELS:
            return TASK_MODELS[kind]
    return tp


def _child(node: Any, part: Any) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _model_at(loc: tuple[Any, ...], data: Any) -> type[BaseModel] | None:
    """The model class found by following ``loc`` from the top (None when it leads elsewhere)."""
    tp: Any = AmpFile
    node = data
    for part in loc:
        tp = _pick_task(_strip(tp), node)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            info = tp.model_fields.get(part) if isinstance(part, str) else None
            if info is None:
                return None
            tp = info.annotation
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        elif typing.get_origin(tp) is list:
            tp = typing.get_args(tp)[0]
        else:
            return None
        node = _child(node, part)
    tp = _pick_task(_strip(tp), node)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[FieldPath, Any]:
    path: FieldPath = ()
    node = data
    for part in loc:
        if (isinstance(node, dict) and isinstance(part, str) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            path, node = (*path, part), node[part]
    return path, node


def _task_context(loc: tuple[Any, ...], data: Any) -> str:
    if len(loc) < 2 or loc[0] != "tasks" or not isinstance(loc[1], int):
        return ""
    tasks = data.get("tasks") if isinstance(data, dict) else None
    task = tasks[loc[1]] if isinstance(tasks, list) and loc[1] < len(tasks) else None
    kind = task.get("type") if isinstance(task, dict) else None
    return (
        f" in task {loc[1]} ({kind})"
        if isinstance(kind, str) and kind in TASK_MODELS
        else f" in task {loc[1]}"
    )


def _diagnose(error: dict[str, Any], doc: YamlDocument) -> tuple[Position, SpecError]:
    data = doc.data
    kind: str = error["type"]
    loc = _clean_loc(tuple(error["loc"]))
    path, node = _data_path(data, loc)
    where = _task_context(loc, data)
    field_path: FieldPath = path
    hint: str | None = None
    key = False

    if kind == "missing":
        name = loc[-1]
        field_path = (*path, name)
        model = _model_at(loc[:-1], data)
        info = model.model_fields.get(name) if model and isinstance(name, str) else None
        message = f"missing required field '{name}'{where}"
        hint = f"add '{name}:'" + (f" ({info.description})" if info and info.description else "")
    elif kind == "extra_forbidden":
        name = str(loc[-1])
        model = _model_at(loc[:-1], data)
        allowed = sorted(f for f in model.model_fields if f != "type") if model else []
        message = (f"unknown field '{name}'{where}" if where else f"unknown key '{name}'") + (
            " (CML ignores it)"
        )
        close = did_you_mean(name, allowed)
        hint = (f"did you mean '{close}'? " if close else "") + (
            f"known fields here: {', '.join(allowed)}" if allowed else ""
        )
        key = True
    elif kind == "union_tag_invalid":
        tag = str(error.get("ctx", {}).get("tag", ""))
        field_path = (*path, "type")
        message = f"unknown task type '{tag}'{where}"
        close = did_you_mean(tag, TASK_TYPES)
        hint = (f"did you mean '{close}'? " if close else "") + f"task types: {', '.join(TASK_TYPES)}"
    elif kind == "union_tag_not_found":
        field_path = (*path, "type")
        if isinstance(node, dict):
            message = f"missing required field 'type'{where}"
            hint = f"every task starts with '- type: ...', one of: {', '.join(TASK_TYPES)}"
        else:
            message = f"a task must be a mapping (- type: ...), not {describe(node, False)}{where}"
            field_path = path
    else:
        base = kind.rsplit("_", 1)[0] if kind.endswith(("_type", "_parsing")) else ""
        if base in EXPECTED_TYPES or kind == "int_from_float":
            expected = EXPECTED_TYPES.get(base, "a whole number")
            message = f"expected {expected}, got {describe(node, False)}{where}"
        else:
            msg = str(error.get("msg", "invalid value"))
            for prefix in ("Value error, ", "Assertion error, "):
                msg = msg.removeprefix(prefix)
            msg = msg.replace("Input should be", "must be").replace("String should", "must")
            if not isinstance(node, dict | list) and kind != "value_error":
                msg += f" (got {describe(node, False)})"
            message = msg + where
    line, column = locate(doc, field_path if kind != "missing" else path, key=key)
    return (line, column), SpecError(
        message, file=doc.file, line=line, column=column, field=dotted(field_path) or None, hint=hint
    )
