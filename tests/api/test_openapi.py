"""docs/openapi.yaml is a valid OpenAPI 3.1 document and describes every HTTP route the server has."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from server.app import create_app
from tests.conftest import make_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
METHODS = {"GET", "POST", "PATCH", "DELETE", "PUT"}


def load() -> dict[str, Any]:
    spec = yaml.safe_load(DOC.read_text(encoding="utf-8"))
    assert isinstance(spec, dict)
    return spec


def test_document_is_valid_openapi_3_1() -> None:
    spec = load()
    assert spec["openapi"].startswith("3.1.")
    errors = [str(e.message) for e in OpenAPIV31SpecValidator(spec).iter_errors()]
    assert errors == []
    validate(spec)  # the library's own entry point agrees


def test_every_route_of_the_server_is_documented_and_nothing_else(tmp_path: Path) -> None:
    app = create_app(make_config(tmp_path))  # does no I/O until started
    served: set[tuple[str, str]] = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter") or ""
        if route.method not in METHODS or not path.startswith(("/api/", "/healthz", "/metrics")):
            continue
        if "{tail" in path:  # the JSON 404 for unknown API routes
            continue
        served.add((route.method.lower(), path))
    documented = {(method, path) for path, item in load()["paths"].items() for method in item if method != "parameters"}
    assert served == documented


def test_every_operation_documents_its_errors_and_auth() -> None:
    spec = load()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            statuses = set(op["responses"])
            public = op.get("security") == []
            if path.startswith("/api/"):
                assert "415" in statuses, (method, path)  # any Content-Encoding, on any /api/ request
            if path.startswith("/api/") and not public:
                assert "503" in statuses, (method, path)
            if not public:
                assert "401" in statuses, (method, path)
            if "requestBody" in op:
                assert {"400", "413"} <= statuses, (method, path)
            if re.search(r"\{\w+\}", path):
                assert "404" in statuses, (method, path)
