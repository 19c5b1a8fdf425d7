"""ApiClient: default headers, request bodies out, JSON answers into model objects."""

from __future__ import annotations

import datetime
import json
import os
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from . import rest
from .configuration import Configuration
from .description import API_VERSION
from .models import CLASSES

if TYPE_CHECKING:
    from multiprocessing.pool import ThreadPool

PRIMITIVES = {"str": str, "int": int, "float": float, "bool": bool}
_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)(?:[Tt ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?\s*(Z|z|[+-]\d\d(?::?\d\d)?)?)?$"
)


def parse_datetime(text: str) -> datetime.datetime:
    """RFC 3339 (any number of fraction digits, ``Z`` or an offset); ValueError otherwise."""
    match = _RFC3339.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(text)
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = None
    if zone:
        if zone in ("Z", "z"):
            tz = datetime.timezone.utc
        else:
            digits = zone[1:].replace(":", "")
            offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
            tz = datetime.timezone(offset if zone[0] == "+" else -offset)
    parts = [int(p or 0) for p in (year, month, day, hour, minute, second)]
    return datetime.datetime(*parts, micro, tzinfo=tz)


class ApiClient:
    """What CMLServiceApi sends requests through; ``set_default_header('authorization', 'Bearer ' + key)``."""

    def __init__(
        self,
        configuration: Configuration | None = None,
        header_name: str | None = None,
        header_value: str | None = None,
        cookie: str | None = None,
    ) -> None:
        self.configuration = configuration or Configuration()
        self.rest_client = rest.RESTClientObject(self.configuration)
        self.default_headers: dict[str, str] = {}
        if header_name is not None and header_value is not None:
            self.default_headers[header_name] = header_value
        self.cookie = cookie
        self.user_agent = f"cmlapi-local/{API_VERSION}/python"
        self._pool: ThreadPool | None = None

    @property
    def user_agent(self) -> str:
        return self.default_headers["User-Agent"]

    @user_agent.setter
    def user_agent(self, value: str) -> None:
        self.default_headers["User-Agent"] = value

    def set_default_header(self, header_name: str, header_value: str) -> None:
        self.default_headers[header_name] = header_value

    @property
    def pool(self) -> ThreadPool:
        if self._pool is None:
            from multiprocessing.pool import ThreadPool

            self._pool = ThreadPool()
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # --- out ------------------------------------------------------------------------------------

    def sanitize_for_serialization(self, obj: Any) -> Any:
        """Models become dicts of their set fields (JSON keys), datetimes ISO strings, recursively."""
        if obj is None or isinstance(obj, str | int | float | bool):
            return obj
        if isinstance(obj, list | tuple):
            return [self.sanitize_for_serialization(item) for item in obj]
        if isinstance(obj, datetime.datetime | datetime.date):
            return obj.isoformat()
        if isinstance(obj, dict):
            return {key: self.sanitize_for_serialization(value) for key, value in obj.items()}
        types = getattr(obj, "swagger_types", None)
        if types is None:
            raise TypeError(
                f"cannot send a {type(obj).__name__} in a request body: use a cmlapi model or a dict"
            )
        return {
            obj.attribute_map[name]: self.sanitize_for_serialization(getattr(obj, name))
            for name in types
            if getattr(obj, name, None) is not None
        }

    # --- in -------------------------------------------------------------------------------------

    def deserialize(self, response: rest.RESTResponse, response_type: str | None) -> Any:
        if response_type is None:
            return None
        try:
            data = json.loads(response.data)
        except ValueError:
            data = response.data
        return self.deserialize_value(data, response_type)

    def deserialize_value(self, data: Any, klass: str) -> Any:
        if data is None:
            return None
        if klass.startswith("list["):
            return [self.deserialize_value(item, klass[5:-1]) for item in data]
        if klass.startswith("dict("):
            inner = klass[klass.index(",") + 1 : -1].strip()
            return {key: self.deserialize_value(value, inner) for key, value in data.items()}
        if klass == "object":
            return data
        if klass in PRIMITIVES:
            try:
                return PRIMITIVES[klass](data)
            except (TypeError, ValueError):
                return data
        if klass in ("datetime", "date"):
            try:
                value = parse_datetime(data)
            except ValueError:
                raise rest.ApiException(
                    status=0, reason=f"Failed to parse `{data}` as {klass} object"
                ) from None
            return value if klass == "datetime" else value.date()
        cls = CLASSES[klass]
        if not isinstance(data, dict):
            return data
        values = {
            name: self.deserialize_value(data[key], cls.swagger_types[name])
            for name, key in cls.attribute_map.items()
            if key in data
        }
        return cls(**values)

    # --- a call -----------------------------------------------------------------------------------

    def call_api(
        self,
        resource_path: str,
        method: str,
        path_params: dict[str, Any] | None = None,
        query_params: list[tuple[str, Any]] | None = None,
        header_params: dict[str, str] | None = None,
        body: Any = None,
        post_params: list[tuple[str, Any]] | None = None,
        files: dict[str, Any] | None = None,
        response_type: str | None = None,
        auth_settings: list[str] | None = None,
        async_req: bool | None = None,
        _return_http_data_only: bool | None = None,
        collection_formats: dict[str, str] | None = None,
        _preload_content: bool = True,
        _request_timeout: Any = None,
    ) -> Any:
        args = (resource_path, method, path_params, query_params, header_params, body, files, response_type)
        options = (_return_http_data_only, _preload_content, _request_timeout)
        if async_req:
            return self.pool.apply_async(self._call, (*args, *options))
        return self._call(*args, *options)

    def _call(
        self,
        resource_path: str,
        method: str,
        path_params: dict[str, Any] | None,
        query_params: list[tuple[str, Any]] | None,
        header_params: dict[str, str] | None,
        body: Any,
        files: dict[str, Any] | None,
        response_type: str | None,
        data_only: bool | None,
        preload: bool,
        timeout: Any,
    ) -> Any:
        headers = {**self.default_headers, **(header_params or {})}
        if self.cookie:
            headers["Cookie"] = self.cookie
        key = self.configuration.get_api_key_with_prefix("authorization")
        if key and not any(h.lower() == "authorization" for h in headers):
            headers["authorization"] = key
        safe = self.configuration.safe_chars_for_path_param
        for name, value in (path_params or {}).items():
            resource_path = resource_path.replace("{" + name + "}", quote(str(value), safe=safe))
        url = self.configuration.host.rstrip("/") + resource_path
        query = [(k, v) for k, v in (query_params or []) if v is not None]
        if query:
            url += "?" + urlencode(query)
        payload = None
        if files:
            payload, headers["Content-Type"] = _multipart(files)
        elif body is not None:
            payload = json.dumps(self.sanitize_for_serialization(body)).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        headers.setdefault("Accept", "application/json")
        response = self.rest_client.request(method, url, headers, payload, timeout)
        if not preload:
            return response
        data = self.deserialize(response, response_type)
        if data_only:
            return data
        return data, response.status, response.getheaders()


def _multipart(files: dict[str, Any]) -> tuple[bytes, str]:
    """Form fields from local file paths (or (name, bytes) pairs), as the generated client sends them."""
    import mimetypes
    import uuid

    boundary = uuid.uuid4().hex
    chunks: list[bytes] = []
    for field, value in files.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, tuple):
                filename, content = item[0], item[1]
            else:
                with open(item, "rb") as handle:
                    filename, content = os.path.basename(item), handle.read()
            kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                f"Content-Type: {kind}\r\n\r\n"
            )
            chunks.extend([head.encode("utf-8"), content, b"\r\n"])
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"
