"""Read a spec file: bounded safe YAML -> ``${VAR}`` substitution -> typed, validated ``Spec``.

Every failure is a SpecError located at file:line:column; nothing else escapes (a property test feeds
random text to ``parse_spec`` to hold that line).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from automation.errors import SpecError
from automation.spec import migrate
from automation.spec.diagnostics import from_validation_error
from automation.spec.graph import check_references
from automation.spec.models import CmlTarget, Spec, mark_secrets
from automation.spec.paths import find_repo_root
from automation.spec.substitute import Substituted, substitute
from automation.spec.v1 import SpecV1
from automation.spec.yamlload import MAX_BYTES, FieldPath, YamlDocument, dotted, parse_yaml


def load_spec(path: str | Path, environ: Mapping[str, str] | None = None) -> Spec:
    """Load and validate the spec at ``path``; ``${VAR}`` resolve from ``environ`` (default os.environ).

    Relative paths in the spec are resolved against the repo root found above the file
    (see ``find_repo_root``). Files are not checked here; ``check_files`` does that.
    """
    file = str(path)
    p = Path(path)
    try:
        if not p.exists():
            raise SpecError(
                "spec file not found", file=file, hint="check the path, e.g. specs/wine-quality.yaml"
            )
        if not p.is_file():
            raise SpecError("not a regular file", file=file, hint="give the path of a .yaml spec file")
        if p.stat().st_size > MAX_BYTES:
            raise SpecError(
                f"the spec is larger than {MAX_BYTES // 1024} KiB; refusing it", file=file, line=1, column=1
            )
        with p.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError(f"cannot read the spec: {exc.strerror or exc}", file=file) from None
    if len(raw) > MAX_BYTES:
        raise SpecError(
            f"the spec is larger than {MAX_BYTES // 1024} KiB; refusing it", file=file, line=1, column=1
        )
    text = decode(raw, file)
    return parse_spec(text, file=file, environ=environ, source_path=p.resolve(), repo_root=find_repo_root(p))


def decode(raw: bytes, file: str) -> str:
    """UTF-8 text (a BOM is dropped), or a SpecError at the first bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise SpecError(
            "the spec is not UTF-8 text", file=file, line=line, column=column, hint="save the file as UTF-8"
        ) from None


def parse_spec(
    text: str,
    *,
    file: str = "<spec>",
    environ: Mapping[str, str] | None = None,
    source_path: Path | None = None,
    repo_root: Path | None = None,
) -> Spec:
    """Validate spec ``text`` (``file`` is only used in messages). Raises SpecError only."""
    env = os.environ if environ is None else environ
    doc = parse_yaml(text, file)
    # Top-level keys starting with "x-" are ignored: a place to define YAML anchors (&defaults) once.
    doc.data = {key: value for key, value in doc.data.items() if not key.startswith("x-")}
    resolved = substitute(doc, env)
    _refuse_literal_secrets(doc, resolved)
    source_version = 1 if migrate.is_v1(resolved.data) else 2
    written: dict[FieldPath, FieldPath] = {}
    if source_version == 1:
        _validate(SpecV1, doc, resolved)
        doc, resolved, written = _as_v2(doc, resolved)
    elif isinstance(resolved.data, dict) and str(resolved.data.get("version")).strip() == "2":
        _refuse_v1_sections(doc)
    spec = _validate(Spec, doc, resolved)
    assert isinstance(spec, Spec)
    spec._source_version = source_version
    spec._written = written
    _attach(spec, doc, resolved, source_path, repo_root)
    check_references(spec)
    return spec


def _refuse_v1_sections(doc: YamlDocument) -> None:
    """A version 1 section in a file saying version 2 (a half-done migration), named as such."""
    for section in migrate.V1_SECTIONS:
        if section in doc.data:
            line, column = doc.position((section,), key=True)
            raise SpecError(
                f"'{section}' is a version 1 section, and this file says version: 2",
                file=doc.file,
                line=line,
                column=column,
                field=section,
                hint="write version: 1 (and run `cmlops migrate FILE` to rewrite it), or move it to "
                "jobs:/models: as the README's Spec v2 section shows",
            )


def _validate(model: type[Spec] | type[SpecV1], doc: YamlDocument, resolved: Substituted) -> Spec | SpecV1:
    try:
        return model.model_validate(resolved.data)
    except ValidationError as exc:
        raise from_validation_error(exc, doc, resolved.data, model, resolved.secret_paths) from None
    except RecursionError:  # pragma: no cover - nesting is bounded by parse_yaml
        raise SpecError("values are nested too deeply", file=doc.file, line=1, column=1) from None


def _as_v2(
    doc: YamlDocument, resolved: Substituted
) -> tuple[YamlDocument, Substituted, dict[FieldPath, FieldPath]]:
    """A validated v1 document converted to v2, with positions and secret marks following the fields,
    and each v2 field path's v1 path (what later messages name: the field as the file writes it)."""
    rules = migrate.rules(resolved.data)
    data = migrate.convert(resolved.data)
    converted = YamlDocument(
        data=data, file=doc.file, keys=migrate.remap(doc.keys, rules), values=migrate.remap(doc.values, rules)
    )
    secrets = set(migrate.remap(dict.fromkeys(resolved.secret_paths), rules))
    variables = migrate.remap(resolved.variables, rules)
    written = migrate.remap({path: path for path in doc.keys}, rules)
    return converted, Substituted(data=data, secret_paths=secrets, variables=variables), written


def _refuse_literal_secrets(doc: YamlDocument, resolved: Substituted) -> None:
    """An API key written in the spec would end up in git: only ``${env:NAME}`` references are accepted."""
    targets = resolved.data.get("targets") if isinstance(resolved.data, dict) else None
    if not isinstance(targets, dict):
        return
    for name, target in targets.items():
        if not isinstance(target, dict):
            continue
        value: Any = target.get("api_key")
        path = ("targets", name, "api_key")
        if isinstance(value, str) and value.strip() and path not in resolved.secret_paths:
            line, column = doc.position(path)
            raise SpecError(
                "api_key is written in the spec; secrets are never written in a spec",
                file=doc.file,
                line=line,
                column=column,
                field=dotted(path),
                hint="write api_key: ${env:CML_API_KEY} and export CML_API_KEY",
            )


def _attach(
    spec: Spec, doc: YamlDocument, resolved: Substituted, source_path: Path | None, repo_root: Path | None
) -> None:
    """Give the validated spec what later steps need: positions, secrets, repo root, target locations."""
    spec._file = doc.file
    spec._source_path = source_path
    spec._repo_root = repo_root
    spec._keys = dict(doc.keys)
    spec._values = dict(doc.values)
    mark_secrets(spec, resolved.secret_paths)
    for name, target in spec.targets.items():
        line, column = spec.locate(("targets", name), key=True)
        target._where = (doc.file, line, column)
        if isinstance(target, CmlTarget):
            url_path = ("targets", name, "url")
            if url_path in doc.values:
                target._where = (doc.file, *doc.values[url_path])
            target._url_variables = list(resolved.variables.get(url_path, []))
