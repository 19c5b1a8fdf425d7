"""Safe YAML reading that remembers where every key and value came from.

Why not ``yaml.safe_load``: it forgets positions (so errors could not say file:line:column), silently
keeps the last of two duplicate keys, and expands aliases without bound (a "billion laughs" document of
a few hundred bytes becomes gigabytes). Here the text is composed into a node tree with
``yaml.SafeLoader`` and walked once into plain Python data (dict, list, str, int, float, bool, None),
counting every node *after* alias expansion, refusing duplicates, unknown tags, cycles and excessive
nesting, and recording a 1-based ``(line, column)`` for every mapping key and every value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from automation.errors import SpecError

MAX_BYTES = 1024 * 1024
"""A spec larger than this is refused before it is parsed."""
MAX_NODES = 20_000
"""Upper bound on scalars + collections after alias expansion (the flagship has a few hundred)."""
MAX_DEPTH = 64
"""Upper bound on nesting; no legitimate spec comes close."""

FieldPath = tuple[str | int, ...]
Position = tuple[int, int]

_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_NULL = "tag:yaml.org,2002:null"
# Timestamps are kept as the text the user wrote: no spec field is a date, and datetime objects are not JSON.
_SCALAR_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    _STR,
    "tag:yaml.org,2002:timestamp",
}


@dataclass
class YamlDocument:
    """Plain data of one YAML document plus the position of every key and value in it."""

    data: dict[str, Any]
    file: str
    keys: dict[FieldPath, Position] = field(default_factory=dict)
    values: dict[FieldPath, Position] = field(default_factory=dict)

    def position(self, path: FieldPath, *, key: bool = False) -> Position:
        """Best position for ``path``: its key (or value), else the nearest ancestor's, else 1:1."""
        if key and path and isinstance(path[-1], int):
            key = False  # a list item has no key: point at the item itself
        table = self.keys if key else self.values
        while True:
            if path in table:
                return table[path]
            if not path:
                return (1, 1)
            path = path[:-1]
            table = self.keys


def _pos(node: Node) -> Position:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _describe_node(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return "a scalar"


def _line_col(text: str, index: int) -> Position:
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


class _Builder:
    """Walks a composed node tree into plain data, enforcing the limits above."""

    def __init__(self, doc: YamlDocument, text_at: Callable[[FieldPath], bool] | None = None) -> None:
        self.doc = doc
        self.text_at = text_at
        self.count = 0
        self.active: set[int] = set()
        self.constructor = SafeConstructor()

    def error(self, node: Node, message: str, hint: str | None = None, path: FieldPath = ()) -> SpecError:
        line, column = _pos(node)
        field_name = dotted(path) if path else None
        return SpecError(message, file=self.doc.file, line=line, column=column, field=field_name, hint=hint)

    def build(self, node: Node, path: FieldPath, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.error(
                node,
                f"the document expands to more than {MAX_NODES} values (aliases included); refusing it",
                hint="a spec this large is a mistake or an alias bomb; remove repeated *aliases",
            )
        if depth > MAX_DEPTH:
            raise self.error(node, f"values are nested deeper than {MAX_DEPTH} levels")
        self.doc.values[path] = _pos(node)
        if isinstance(node, ScalarNode):
            if self.text_at is not None and node.tag != _NULL and self.text_at(path):
                return node.value  # the text as written: `yes` stays "yes", `010` stays "010"
            return self.scalar(node, path)
        if id(node) in self.active:
            raise self.error(node, "recursive alias: a value contains itself", path=path)
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                if node.tag != _SEQ:
                    raise self.error(node, f"unsupported YAML tag {node.tag!r}", path=path)
                return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self.mapping(node, path, depth)
            raise self.error(node, "unsupported YAML node", path=path)  # pragma: no cover - defensive
        finally:
            self.active.discard(id(node))

    def scalar(self, node: ScalarNode, path: FieldPath) -> Any:
        tag = node.tag
        if tag not in _SCALAR_TAGS:
            raise self.error(
                node, f"unsupported YAML tag {tag!r}", hint="specs use plain YAML values only", path=path
            )
        if tag in (_STR, "tag:yaml.org,2002:timestamp"):
            return node.value
        try:
            return self.constructor.construct_object(node)
        except (ValueError, OverflowError, yaml.YAMLError):
            shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
            raise self.error(
                node, f"cannot read the value {shown!r} (too large or malformed)", path=path
            ) from None

    def key(self, node: Node, path: FieldPath) -> str:
        if not isinstance(node, ScalarNode):
            raise self.error(node, f"a mapping key must be text, not {_describe_node(node)}", path=path)
        value = self.scalar(node, path)
        if not isinstance(value, str):
            raise self.error(
                node,
                f"the key {node.value!r} is read as {type(value).__name__}, not text",
                hint=f"quote it: '{node.value}'",
                path=path,
            )
        return value

    def mapping(self, node: MappingNode, path: FieldPath, depth: int) -> dict[str, Any]:
        if node.tag != _MAP:
            raise self.error(node, f"unsupported YAML tag {node.tag!r}", path=path)
        merges = [(k, v) for k, v in node.value if k.tag == _MERGE]
        explicit = [(k, v) for k, v in node.value if k.tag != _MERGE]
        result: dict[str, Any] = {}
        own_position = self.doc.values[path]
        # "<<: *base" merge keys: explicit keys win, and among several merged mappings the first wins.
        for _merge_key, value_node in merges:
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in reversed(sources):
                if not isinstance(source, MappingNode):
                    raise self.error(source, "a '<<' merge key takes a mapping or a list of mappings")
                result.update(self.build(source, path, depth))
            self.count += 1  # the merge key itself
        self.doc.values[path] = own_position
        seen: dict[str, int] = {}
        for key_node, value_node in explicit:
            name = self.key(key_node, path)
            sub = (*path, name)
            if name in seen:
                raise self.error(
                    key_node,
                    f"duplicate key {name!r} (first written at line {seen[name]})",
                    hint="YAML keeps only one of them; remove or merge the duplicate",
                    path=sub,
                )
            seen[name] = _pos(key_node)[0]
            self.doc.keys[sub] = _pos(key_node)
            result[name] = self.build(value_node, sub, depth + 1)
        return result


ABSENT: Any = object()
"""What ``child`` returns when the key or index is not there (None is a legitimate YAML value)."""


def child(node: Any, part: str | int) -> Any:
    """``node[part]`` for a dict key or an in-range list index; ``ABSENT`` otherwise."""
    if isinstance(node, dict) and isinstance(part, str):
        return node.get(part, ABSENT)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return ABSENT


def dotted(path: FieldPath) -> str:
    """``("a", "b", 0, "c")`` -> ``"a.b[0].c"``: how fields are named in messages."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse_yaml(text: str, file: str, *, text_at: Callable[[FieldPath], bool] | None = None) -> YamlDocument:
    """Parse one YAML document whose top level must be a mapping. Raises SpecError only.

    ``text_at(path)`` true: the scalar at ``path`` is kept as the text written (a null stays None),
    for formats whose values are text however they look (YAML 1.1 reads ``yes`` as true).
    """
    if len(text) > MAX_BYTES:
        raise SpecError(
            f"the spec is larger than {MAX_BYTES // 1024} KiB; refusing it", file=file, line=1, column=1
        )
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or "invalid YAML"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        raise SpecError(f"invalid YAML: {what}{context}", file=file, line=line, column=column) from None
    except yaml.reader.ReaderError as exc:
        line, column = _line_col(text, exc.position)
        raise SpecError(
            f"invalid YAML: the character #x{exc.character:04x} is not allowed",
            file=file,
            line=line,
            column=column,
            hint="remove control characters; tabs are only allowed inside quoted text",
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", file=file, line=1, column=1) from None
    except RecursionError:
        raise SpecError(
            f"values are nested deeper than {MAX_DEPTH} levels", file=file, line=1, column=1
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    if root is None:
        raise SpecError(
            "the spec is empty",
            file=file,
            line=1,
            column=1,
            hint="start from specs/wine-quality.yaml; a spec begins with 'version: 1'",
        )
    doc = YamlDocument(data={}, file=file)
    if not isinstance(root, MappingNode):  # a tagged mapping is refused by the builder, tag named
        line, column = _pos(root)
        raise SpecError(
            f"the top level of a spec must be a mapping (key: value lines), not {_describe_node(root)}",
            file=file,
            line=line,
            column=column,
            hint="start from specs/wine-quality.yaml; a spec begins with 'version: 1'",
        )
    doc.data = _Builder(doc, text_at).build(root, (), 0)
    return doc
