"""Every operation of the served OpenAPI spec, fuzzed with generated requests, signed in and
not: no answer is a server error, and every answer matches what the spec documents."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
# Loaded here, while the suite is collected, rather than by the first schema load mid-run:
# pytest rewrites a plugin's modules as they are imported, and a late rewrite has been seen to
# fail in CPython 3.11 ("AST constructor recursion depth mismatch") while other threads run.
from schemathesis.specs.openapi import schemas as _openapi_schemas  # noqa: F401
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from marketplace import create_app
from marketplace.accounts.models import Role

EXAMPLES_PER_OPERATION = 12
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation in the spec, read from an app built for collection."""
    spec = create_app("testing", {"DATABASE_URL": "sqlite://"}).test_client().get("/api/v1/openapi.json").json
    return [(method.upper(), path) for path, item in spec["paths"].items() for method in item
            if method in ("get", "post", "put", "patch", "delete")]


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture(params=["anonymous", "beatmaker", "artist"])
def caller(request, make_user, headers_for):
    if request.param == "anonymous":
        return {}
    return headers_for(make_user(Role.BEATMAKER if request.param == "beatmaker" else Role.ARTIST, "Fuzz"))


@pytest.mark.parametrize("method,path", _operations())
def test_every_operation_answers_as_documented(api_schema, caller, method, path):
    operation = api_schema[path][method]

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def fuzz(data):
        case = data.draw(operation.as_strategy())
        # The in-process client hands back the bytes as sent: ask for them uncompressed, as the
        # checks read the JSON (compression has tests of its own).
        headers = {**(case.headers or {}), **caller, "Accept-Encoding": "identity"}
        case.call_and_validate(headers=headers, checks=CHECKS)

    fuzz()
