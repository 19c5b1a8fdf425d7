"""Request and response models, one class per API v2 definition the covered operations reach.

Each class has the definition's fields as attributes (``None`` when unset), ``swagger_types`` (field
-> type: ``str``, ``int``, ``float``, ``bool``, ``datetime``, ``list[Tag]``, ``dict(str, str)``, a
model name) and ``attribute_map`` (field -> JSON key), takes the fields as keywords or positionally
in the definition's order, and gives ``to_dict()`` (every field, nested models as dicts). Enumerations
(``EngineStatus``...) are classes of string constants; fields holding them are plain strings.
"""

from __future__ import annotations

from typing import Any

from .description import ENUMS, MODELS


class Model:
    """The base of every model class."""

    swagger_types: dict[str, str] = {}
    attribute_map: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = list(self.swagger_types)
        cls = type(self).__name__
        if len(args) > len(names):
            raise TypeError(f"{cls}() takes at most {len(names)} positional arguments ({len(args)} given)")
        values = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in self.swagger_types:
                raise TypeError(f"{cls}() got an unexpected keyword argument '{key}'")
            if key in values:
                raise TypeError(f"{cls}() got multiple values for argument '{key}'")
            values[key] = value
        for name in names:
            setattr(self, name, values.get(name))

    def to_dict(self) -> dict[str, Any]:
        return {name: _plain(getattr(self, name, None)) for name in self.swagger_types}

    def to_str(self) -> str:
        import pprint

        return pprint.pformat(self.to_dict())

    def __repr__(self) -> str:
        return self.to_str()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and self.__dict__ == other.__dict__

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


def _model_class(name: str, fields: dict[str, str]) -> type[Model]:
    doc = f"{name}({', '.join(f'{f}: {t}' for f, t in fields.items())})"
    namespace = {
        "swagger_types": dict(fields),
        "attribute_map": {field: field for field in fields},
        "__doc__": doc,
        "__module__": __name__,
        "__qualname__": name,
    }
    return type(name, (Model,), namespace)


def _enum_class(name: str, values: list[str]) -> type:
    namespace: dict[str, Any] = {value: value for value in values}
    namespace.update(allowed_values=list(values), __module__=__name__, __qualname__=name)
    namespace["__doc__"] = f"{name}: one of {', '.join(values)} (fields hold the plain string)"
    return type(name, (), namespace)


CLASSES: dict[str, type[Model]] = {name: _model_class(name, fields) for name, fields in MODELS.items()}
ENUM_CLASSES: dict[str, type] = {name: _enum_class(name, values) for name, values in ENUMS.items()}
globals().update(CLASSES)
globals().update(ENUM_CLASSES)
__all__ = sorted([*CLASSES, *ENUM_CLASSES])
