from __future__ import annotations

import re


def test_spec_is_served_and_lists_the_account_endpoints(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path in ["/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/logout", "/api/v1/me"]:
        assert path in paths, path
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert paths["/api/v1/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in paths["/api/v1/auth/login"]["post"]


def test_spec_documents_the_error_envelope(client):
    spec = client.get("/api/v1/openapi.json").json
    error = spec["components"]["schemas"]["ErrorEnvelope"]
    assert error["required"] == ["error"]
    login_responses = spec["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert {"200", "401", "422", "429"} <= set(login_responses)


def test_docs_page_loads_its_assets_locally(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert assets, html
    for asset in assets:
        assert asset.startswith("/static/"), f"{asset} would need network access"
        assert client.get(asset).status_code == 200, asset


def test_the_served_spec_is_valid_openapi_3(client):
    from openapi_spec_validator import validate

    validate(client.get("/api/v1/openapi.json").json)  # raises on any error


def test_uploads_are_one_multipart_body(client):
    body = client.get("/api/v1/openapi.json").json["paths"]["/api/v1/beats"]["post"]["requestBody"]
    schema_ref = body["content"]["multipart/form-data"]["schema"]["$ref"]
    schema = client.get("/api/v1/openapi.json").json["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert {"file", "stems", "cover", "title", "bpm"} <= set(schema["properties"])
    assert schema["properties"]["file"]["format"] == "binary"
