from __future__ import annotations

from tests.conftest import make_test_app


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_checks_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "rate_limits": "ok"}


def test_readyz_is_503_when_the_database_is_unreachable():
    app = make_test_app("postgresql+psycopg://nobody:nothing@127.0.0.1:1/none")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "not_ready"
    assert response.json["error"]["details"]["checks"] == {"database": "unreachable", "rate_limits": "ok"}
    # The process itself is still alive.
    assert app.test_client().get("/healthz").status_code == 200
