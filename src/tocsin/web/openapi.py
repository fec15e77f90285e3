"""The OpenAPI 3.1 document of ``/api/v1``, built from the API's route table."""

from __future__ import annotations

import re
from typing import Any

_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "detail": {}},
}
_PATH_SCHEMAS = {
    "kind": {"type": "string", "enum": ["sensors", "schedules"]},
    "int": {"type": "integer", "minimum": 0, "maximum": 2**62},
    "id": {"type": "integer", "minimum": 0, "maximum": 2**62},
    "path": {"type": "string", "minLength": 1},
    None: {"type": "string", "minLength": 1},
}


def _path(path: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for name, convertor in _PARAM.findall(path):
        schema = _PATH_SCHEMAS.get(convertor or None, _PATH_SCHEMAS[None])
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", path), params


def _operation(endpoint: Any) -> dict[str, Any]:
    _, params = _path(endpoint.path)
    params += [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in endpoint.query.items()
    ]
    error = {"description": "Bad input", "content": {"application/json": {"schema": _ERROR}}}
    operation: dict[str, Any] = {
        "summary": endpoint.summary,
        "operationId": f"{endpoint.method.lower()}_{endpoint.handler.__name__}",
        "parameters": params,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": {}}}},
            "201": {"description": "Created", "content": {"application/json": {"schema": {}}}},
            "4XX": error,
        },
    }
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": endpoint.method != "POST" or "required" in endpoint.body,
            "content": {"application/json": {"schema": endpoint.body}},
        }
    if endpoint.mutating:
        operation["security"] = [{"bearer": []}]
    return operation


def document(endpoints: list[Any]) -> dict[str, Any]:
    from tocsin.web.api import PREFIX

    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        path, _ = _path(endpoint.path)
        paths.setdefault(PREFIX + path, {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {"title": "tocsin", "version": "1"},
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
