"""Spec version 1 -> version 2: one conversion, used by the loader (on data) and by ``cmlops migrate``
(on the file's text, through ruamel.yaml's round-trip so comments are kept where possible).

v1 ``training.install`` becomes the job ``jobs[install.name]``; ``training.job`` becomes
``jobs[job.name]`` with ``after: <install.name>``; ``model`` + ``training.experiment`` + ``deployment``
become ``models[model.registered_name]`` with ``job``, ``experiment`` and ``endpoint``.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import MutableMapping
from typing import Any

from automation.errors import SpecError
from automation.spec.yamlload import FieldPath

V1_SECTIONS = ("training", "model", "deployment")
SECTION_RENAMES = {"training": "jobs", "model": "models"}  # top-level keys v2 names differently
V1_INSTALL_TIMEOUT = 900  # v1's default for training.install.timeout (a v2 job's default is 1800)

# (v1 path prefix, v2 path prefix, exact): where a v1 key or value lands in the v2 shape.
Rule = tuple[FieldPath, FieldPath, bool]


def is_v1(data: Any) -> bool:
    """Whether parsed YAML data says ``version: 1``."""
    if not isinstance(data, dict):
        return False
    version = data.get("version")
    return not isinstance(version, bool) and isinstance(version, int | str) and str(version).strip() == "1"


def _insert(mapping: MutableMapping[str, Any], index: int, key: str, value: Any) -> None:
    """Put ``key`` at position ``index`` (ruamel's CommentedMap.insert keeps comments; a dict is rebuilt)."""
    if hasattr(mapping, "insert"):
        mapping.insert(index, key, value)
        return
    items = list(mapping.items())
    items.insert(index, (key, value))
    mapping.clear()
    mapping.update(items)


def _index(mapping: MutableMapping[str, Any], key: str) -> int:
    return list(mapping).index(key)


def convert_in_place(data: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Rewrite a validated v1 document as v2, in place (so ruamel keeps the comments of moved nodes)."""
    training, model, deployment = (data[section] for section in V1_SECTIONS)
    job, install = training["job"], training.get("install")
    jobs = type(data)()
    if install is not None:
        install_name = install.pop("name")
        install.setdefault("timeout", V1_INSTALL_TIMEOUT)
        jobs[install_name] = install
    job_name = job.pop("name")
    if install is not None:
        _insert(job, _index(job, "script") + 1, "after", install_name)
    jobs[job_name] = job
    registered = model.pop("registered_name")
    _insert(model, 0, "job", job_name)
    _insert(model, 1, "experiment", training["experiment"])
    model["endpoint"] = deployment
    models = type(data)()
    models[registered] = model
    data["version"] = 2
    at = _index(data, "training")
    del data["training"]
    _insert(data, at, "jobs", jobs)
    at = _index(data, "model")
    del data["model"]
    _insert(data, at, "models", models)
    del data["deployment"]
    return data


def convert(data: dict[str, Any]) -> dict[str, Any]:
    """The v2 shape of validated v1 ``data`` (a new dict; ``data`` is left as it was)."""
    return dict(convert_in_place(copy.deepcopy(data)))


def rules(data: dict[str, Any]) -> list[Rule]:
    """How v1 field paths of ``data`` map onto v2 paths (general rules first, specific ones after)."""
    training, model = data["training"], data["model"]
    job_name, registered = training["job"]["name"], model["registered_name"]
    found: list[Rule] = [
        (("training",), ("jobs",), True),
        (("training", "job"), ("jobs", job_name), False),
        (("training", "job", "name"), ("models", registered, "job"), True),
        (("training", "experiment"), ("models", registered, "experiment"), True),
        (("model",), ("models",), True),
        (("model",), ("models", registered), False),
        (("deployment",), ("models", registered, "endpoint"), False),
    ]
    install = training.get("install")
    if install is not None:
        found.insert(1, (("training", "install"), ("jobs", install["name"]), False))
        found.append((("training", "install"), ("jobs", job_name, "after"), True))
    return found


def remap(table: dict[FieldPath, Any], found: list[Rule]) -> dict[FieldPath, Any]:
    """A table keyed by v1 field paths (positions, secret marks) re-keyed by v2 paths."""
    out = {path: value for path, value in table.items() if not path or path[0] not in V1_SECTIONS}
    for old, new, exact in found:
        for path, value in table.items():
            if path[: len(old)] == old and (not exact or len(path) == len(old)):
                out[new + path[len(old) :]] = value
    return out


# --- the file's text ------------------------------------------------------------------------------------


def _null(representer: Any, _value: None) -> Any:
    """Write None as ``null`` (ruamel writes an empty value, which reads the same but says less)."""
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def migrate_text(text: str, file: str) -> str:
    """The v2 text of a v1 spec file (validated beforehand), comments kept where ruamel.yaml can."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(type(None), _null)
    data = yaml.load(text)
    training = data["training"]
    names = [training["job"]["name"], data["model"]["registered_name"]]
    if training.get("install") is not None:
        names.append(training["install"]["name"])
    for name in names:
        if "${" in str(name):
            raise SpecError(
                f"cannot migrate: the name {str(name)!r} uses a ${{...}} reference; in version 2 it becomes "
                "a mapping key, where references are not substituted",
                file=file,
                hint="write the name literally, then run cmlops migrate again",
            )
    above = _take_comments_above_sections(data)
    ending = above.pop(None, "")  # after the last value: it ends the new file too
    carried = _comments_before(data)
    orphans = _comments_after_removed_keys(data)
    _indent_comments(data["model"], 2)  # model -> models.<name>: one level deeper
    _indent_comments(data["deployment"], 4)  # deployment -> models.<name>.endpoint: two levels
    convert_in_place(data)
    _restore_comments(data, carried, above)
    for mapping, key, text in orphans:
        mapping.yaml_set_comment_before_after_key(key, before=text, indent=4)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue() + ending


def _comment_text(text: str) -> str | None:
    """Comment lines without their '#' (None when there are none), for yaml_set_comment_before_after_key."""
    lines = [line.strip() for line in text.splitlines()]
    kept = [line.removeprefix("#").removeprefix(" ") for line in lines if line.startswith("#")]
    return "\n".join(kept) or None


def _comment_lines(tokens: Any) -> str | None:
    """The text of ruamel comment tokens (one, a list, or None)."""
    if tokens is None:
        return None
    tokens = tokens if isinstance(tokens, list) else [tokens]
    return _comment_text("".join(token.value for token in tokens if token is not None))


def _indent_comments(node: Any, by: int) -> None:
    """Shift the indented full-line comments inside ``node`` right by ``by`` columns, so they stay
    aligned with the keys they describe once the node moves deeper (column-0 comments stay: they
    introduce the next top-level section)."""
    ca = getattr(node, "ca", None)
    if ca is not None:
        for entry in ca.items.values():
            for index, slot in enumerate(entry or []):
                for token in slot if isinstance(slot, list) else [slot]:
                    if token is None:
                        continue
                    if index in (1, 3) and token.column > 0:  # a whole-line comment above a key
                        token.column += by
                    elif index == 2:  # end-of-line comment, then maybe whole lines: shift those
                        token.value = re.sub(
                            r"(?<=\n)( +)#", lambda m: m.group(1) + " " * by + "#", token.value
                        )
    children = node.values() if hasattr(node, "values") else node if isinstance(node, list) else []
    for child in children:
        _indent_comments(child, by)


def _trailing_token(node: Any, key: Any) -> Any:
    """The comment token after the innermost last value under ``node[key]``: ruamel keeps there the
    comment lines that follow the value, up to the next key of any level."""
    child = node[key]
    while hasattr(child, "ca") and len(child):
        node, key = child, list(child)[-1] if hasattr(child, "keys") else len(child) - 1
        child = node[key]
    entry = node.ca.items.get(key)
    if not entry:
        return None
    return entry[0] if isinstance(node, list) else entry[2]


def _take_comments_above_sections(data: Any) -> dict[str | None, str]:
    """Remove and return the column-0 comment lines above each top-level key after the first (and
    those ending the file, under None), keyed by the key they introduce. ruamel keeps such lines
    at the end of the value before the key (or, after a flow collection, on the key itself), so
    they would travel with that value wherever the conversion moves it."""
    keys = list(data)
    taken: dict[str | None, str] = {}
    for key, following in zip(keys, [*keys[1:], None], strict=True):
        lines = ""
        entry = data.ca.items.get(following) if following is not None else None
        if entry and entry[1]:
            lines, entry[1] = "".join(token.value for token in entry[1]), None
        token = _trailing_token(data, key)
        if token is not None and "\n#" in token.value:
            at = token.value.index("\n#")
            lines, token.value = token.value[at + 1 :] + lines, token.value[: at + 1]
        if lines:
            taken[following] = lines
    return taken


def _comments_before(data: Any) -> dict[str, Any]:
    """Comments attached to the v1 keys that disappear: at the end of the training and model lines,
    and below training.experiment (above the first job)."""
    items = data.ca.items
    return {
        "jobs": items.get("training"),
        "models": items.get("model"),
        # below training.experiment (which moves into the model): above the first job
        "first_job": _comment_lines((data["training"].ca.items.get("experiment") or [None, None, None])[2]),
    }


def _comments_after_removed_keys(data: Any) -> list[tuple[Any, str, str]]:
    """The whole-line comments below a key that the conversion removes (a job's or the install's
    ``name``, the model's ``registered_name``): ruamel keeps them on that key, so they would go
    with it. Returned as (mapping, the key they stand above, their text), to be put back there."""
    training = data["training"]
    removed = [(training["job"], "name"), (data["model"], "registered_name")]
    if training.get("install") is not None:
        removed.append((training["install"], "name"))
    found = []
    for mapping, key in removed:
        keys = list(mapping)
        entry = mapping.ca.items.get(key)
        token = entry[2] if entry and len(entry) > 2 else None
        if token is None or keys[-1] == key or "\n" not in token.value:
            continue
        at = token.value.index("\n")
        text = _comment_text(token.value[at + 1 :])
        if text:
            token.value = token.value[: at + 1]
            found.append((mapping, keys[keys.index(key) + 1], text))
    return found


def _restore_comments(data: Any, carried: dict[str, Any], above: dict[str | None, str]) -> None:
    """Put the comments taken off the v1 keys back, above the v2 keys that replace them."""
    for key in ("jobs", "models"):
        if carried[key] is not None:
            data.ca.items[key] = carried[key]
    jobs, (model,) = data["jobs"], data["models"].values()
    if carried["first_job"]:
        jobs.yaml_set_comment_before_after_key(next(iter(jobs)), before=carried["first_job"], indent=2)
    for key, lines in above.items():
        text = _comment_text(lines) or ""
        if key == "deployment":
            model.yaml_set_comment_before_after_key("endpoint", before=text, indent=4)
        else:
            data.yaml_set_comment_before_after_key(SECTION_RENAMES.get(key, key), before=text, indent=0)
