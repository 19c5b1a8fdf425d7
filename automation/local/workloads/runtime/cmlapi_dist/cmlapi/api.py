"""CMLServiceApi: one method per API v2 operation the local workspace serves, built from the description.

Names and argument orders are those of Cloudera's generated client: the operation id in snake_case;
positional arguments are the body (when the operation takes one) and then the path parameters in
URL order (``{project.id}`` is ``project_id``); query parameters are keywords. Every method also takes
``async_req``, ``_return_http_data_only``, ``_preload_content`` and ``_request_timeout``, and has a
``<name>_with_http_info`` twin returning ``(data, status, headers)``. Operations of the API that the
local workspace does not serve exist too and raise ApiException 501 saying so.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .api_client import ApiClient
from .description import NOT_SERVED, OPERATIONS, path_params
from .rest import not_served

CALL_OPTIONS = ("async_req", "_return_http_data_only", "_preload_content", "_request_timeout")


def _signature(name: str, op: dict[str, Any]) -> tuple[list[str], list[str], inspect.Signature]:
    required = (["body"] if op["body"] else []) + [py for py, _ in path_params(op["http"].split(" ", 1)[1])]
    optional = [*op["query"], *op.get("form", {})]
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in required]
    params += [inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY, default=None) for p in optional]
    params += [inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY, default=None) for p in CALL_OPTIONS]
    return required, optional, inspect.Signature(params)


def _bind(name: str, required: list[str], optional: list[str], args: tuple, kwargs: dict) -> dict[str, Any]:
    """The call's values by name, with the generated client's errors for bad calls."""
    if len(args) > len(required):
        raise TypeError(f"{name}() takes {len(required)} positional arguments but {len(args)} were given")
    values = dict(zip(required, args, strict=False))
    for key, value in kwargs.items():
        if key not in required and key not in optional and key not in CALL_OPTIONS:
            raise TypeError(f"Got an unexpected keyword argument '{key}' to method {name}")
        if key in values:
            raise TypeError(f"{name}() got multiple values for argument '{key}'")
        values[key] = value
    for key in required:
        if values.get(key) is None:
            raise ValueError(f"Missing the required parameter `{key}` when calling `{name}`")
    return values


def _operation(name: str, op: dict[str, Any]) -> tuple[Callable[..., Any], Callable[..., Any]]:
    required, optional, signature = _signature(name, op)
    verb, template = op["http"].split(" ", 1)
    names = path_params(template)

    def with_http_info(self: CMLServiceApi, *args: Any, **kwargs: Any) -> Any:
        values = _bind(name, required, optional, args, kwargs)
        form = op.get("form", {})
        files = {key: values[key] for key in form if values.get(key) is not None}
        return self.api_client.call_api(
            template,
            verb,
            path_params={raw: values[py] for py, raw in names},
            query_params=[(key, values.get(key)) for key in op["query"]],
            header_params={},
            body=values.get("body"),
            files=files or None,
            response_type=op["returns"],
            auth_settings=["Bearer"],
            async_req=values.get("async_req"),
            _return_http_data_only=values.get("_return_http_data_only"),
            _preload_content=values.get("_preload_content", True) is not False,
            _request_timeout=values.get("_request_timeout"),
        )

    def method(self: CMLServiceApi, *args: Any, **kwargs: Any) -> Any:
        kwargs["_return_http_data_only"] = True
        return with_http_info(self, *args, **kwargs)

    returns = op["returns"] or "None"
    for func, suffix in ((method, ""), (with_http_info, "_with_http_info")):
        func.__name__ = func.__qualname__ = name + suffix
        func.__signature__ = signature  # type: ignore[attr-defined]
        func.__doc__ = f"{op['http']} -> {returns}" + (" (data, status, headers)" if suffix else "")
    return method, with_http_info


class CMLServiceApi:
    """API v2 of a CML workspace (here: the operations the cmlops local workspace serves)."""

    covered_operations: tuple[str, ...] = tuple(OPERATIONS)

    def __init__(self, api_client: ApiClient | None = None) -> None:
        self.api_client = api_client or ApiClient()

    def __getattr__(self, name: str) -> Any:
        base = name.removesuffix("_with_http_info")
        if base in NOT_SERVED:

            def refuse(*_args: Any, **_kwargs: Any) -> Any:
                raise not_served(base, NOT_SERVED[base])

            refuse.__name__ = name
            return refuse
        raise AttributeError(f"'CMLServiceApi' object has no attribute '{name}'")


for _name, _op in OPERATIONS.items():
    _method, _info = _operation(_name, _op)
    setattr(CMLServiceApi, _name, _method)
    setattr(CMLServiceApi, _name + "_with_http_info", _info)
