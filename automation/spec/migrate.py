"""Spec version 1 -> version 2: one conversion, used by the loader (on data) and by ``cmlops migrate``
(on the file's text, through ruamel.yaml's round-trip so comments are kept where possible).

v1 ``training.install`` becomes the job ``jobs[install.name]``; ``training.job`` becomes
``jobs[job.name]`` with ``after: <install.name>``; ``model`` + ``training.experiment`` + ``deployment``
become ``models[model.registered_name]`` with ``job``, ``experiment`` and ``endpoint``.
"""

from __future__ import annotations

import copy
import io
from collections.abc import MutableMapping
from typing import Any

from automation.errors import SpecError
from automation.spec.yamlload import FieldPath

V1_SECTIONS = ("training", "model", "deployment")
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
    carried = _comments_before(data)
    convert_in_place(data)
    _restore_comments(data, carried)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _comment_lines(tokens: Any) -> str | None:
    """The text of ruamel comment tokens, one line each without '#' (None when there is none)."""
    if tokens is None:
        return None
    tokens = tokens if isinstance(tokens, list) else [tokens]
    lines = [line.strip() for token in tokens if token is not None for line in token.value.splitlines()]
    kept = [line.removeprefix("#").removeprefix(" ") for line in lines if line.startswith("#")]
    return "\n".join(kept) or None


def _comments_before(data: Any) -> dict[str, Any]:
    """Comments attached to the v1 keys that disappear: above each section, and above ``install``."""
    items = data.ca.items
    return {
        "jobs": items.get("training"),
        "models": items.get("model"),
        "endpoint": _comment_lines((items.get("deployment") or [None, None])[1]),
        "install": _comment_lines((data["training"].ca.items.get("experiment") or [None, None, None])[2]),
        "has_install": data["training"].get("install") is not None,
    }


def _restore_comments(data: Any, carried: dict[str, Any]) -> None:
    for key in ("jobs", "models"):
        if carried[key] is not None:
            data.ca.items[key] = carried[key]
    jobs, (model,) = data["jobs"], data["models"].values()
    if carried["install"] and carried["has_install"]:
        jobs.yaml_set_comment_before_after_key(next(iter(jobs)), before=carried["install"], indent=2)
    if carried["endpoint"]:
        model.yaml_set_comment_before_after_key("endpoint", before=carried["endpoint"], indent=4)
