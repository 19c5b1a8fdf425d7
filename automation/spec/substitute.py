"""``${VAR}`` substitution in every string value of a spec.

Syntax (one pass, no nesting, substituted text is never re-scanned):

- ``${VAR}``             the value of VAR; an error when VAR is not set (an empty value is allowed)
- ``${VAR:-default}``    the value of VAR, or ``default`` when VAR is unset or empty
- ``${env:NAME}``        like ``${VAR}`` but the value is a secret: it is masked in every output
- ``${env:NAME:-dflt}``  a secret with a default (``${env:CML_API_KEY:-}`` = optional secret)
- ``$${``                a literal ``${``

Why a secret marker: a spec is committed to git, so API keys are referenced, never written; and the
resolved value must never be printed (repr, ``--output json``, error messages).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from automation.errors import SpecError
from automation.spec.yamlload import FieldPath, YamlDocument, dotted

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Substituted:
    """The data after substitution, which paths hold secrets, and which variables fed each path."""

    data: Any
    secret_paths: set[FieldPath] = field(default_factory=set)
    variables: dict[FieldPath, list[str]] = field(default_factory=dict)


class _Problem(Exception):
    """A syntax or lookup problem inside one string; turned into a located SpecError by the caller."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def substitute_text(text: str, environ: Mapping[str, str]) -> tuple[str, bool, list[str]]:
    """Resolve one string. Returns (value, is_secret, variable names used). Raises _Problem."""
    out: list[str] = []
    secret = False
    names: list[str] = []
    i = 0
    while True:
        j = text.find("$", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        if text.startswith("$${", j):
            out.append("${")
            i = j + 3
            continue
        if not text.startswith("${", j):
            out.append("$")
            i = j + 1
            continue
        end = text.find("}", j + 2)
        if end < 0:
            raise _Problem("unterminated '${' (no closing '}')", hint="write $${ for a literal '${'")
        body = text[j + 2 : end]
        if "${" in body:
            raise _Problem(f"nested substitution '${{{body}}}' is not supported")
        is_secret = body.startswith("env:")
        if is_secret:
            body = body[4:]
        name, sep, default = body.partition(":-")
        if not _NAME.fullmatch(name):
            hint = "variable names are letters, digits and _; write ${VAR}, ${VAR:-default} or ${env:NAME}"
            if "-" in name and not sep:
                base, _, dflt = name.partition("-")
                hint = f"for a default write ${{{base}:-{dflt}}}"
            raise _Problem(f"invalid substitution '${{{text[j + 2 : end]}}}'", hint=hint)
        value = environ.get(name)
        if sep:
            if not value:
                value = default
        elif value is None:
            how = f"export {name}=<value>"
            if is_secret:
                raise _Problem(
                    f"secret variable {name} is not set",
                    hint=f"{how} in the environment (secrets are read from the environment only), "
                    f"or write ${{env:{name}:-}} to make it optional",
                )
            raise _Problem(
                f"variable {name} is not set",
                hint=f"{how} before running cmlops, or write ${{{name}:-default}} in the spec",
            )
        secret = secret or is_secret
        names.append(name)
        out.append(value)
        i = end + 1
    return "".join(out), secret, names


def substitute(doc: YamlDocument, environ: Mapping[str, str]) -> Substituted:
    """Resolve every string value of ``doc`` (keys are left alone). Raises SpecError at the value."""
    result = Substituted(data=None)

    def walk(value: Any, path: FieldPath) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*path, i)) for i, v in enumerate(value)]
        if not isinstance(value, str) or "$" not in value:
            return value
        try:
            text, secret, names = substitute_text(value, environ)
        except _Problem as problem:
            line, column = doc.position(path)
            raise SpecError(
                problem.message,
                file=doc.file,
                line=line,
                column=column,
                field=dotted(path),
                hint=problem.hint,
            ) from None
        if secret:
            result.secret_paths.add(path)
        if names:
            result.variables[path] = names
        return text

    result.data = walk(doc.data, ())
    return result
