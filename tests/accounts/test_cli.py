from __future__ import annotations

from tests.conftest import login


def test_create_admin_makes_an_admin_who_can_sign_in(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create-admin", "--email", "Root@Example.com",
                                 "--display-name", "Root", "--password", "an admin password"])
    assert result.exit_code == 0, result.output
    assert "created admin root@example.com" in result.output
    token = login(client, "root@example.com", "an admin password").json["access_token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json["roles"] == ["admin"]


def test_create_admin_refuses_a_taken_email_and_short_passwords(app):
    runner = app.test_cli_runner()
    args = ["users", "create-admin", "--email", "root@example.com", "--password"]
    assert runner.invoke(args=args + ["an admin password"]).exit_code == 0
    again = runner.invoke(args=args + ["an admin password"])
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(args=["users", "create-admin", "--email", "b@example.com",
                                "--password", "short"])
    assert short.exit_code != 0 and "at least 10" in short.output


def test_suspend_and_unsuspend_commands(app, client, signed_in):
    headers = signed_in("ann@example.com")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "suspend", "ann@example.com"]).exit_code == 0
    assert client.get("/api/v1/me", headers=headers).status_code == 403
    assert runner.invoke(args=["users", "unsuspend", "ann@example.com"]).exit_code == 0
    # Tokens from before the suspension stay revoked; signing in again works.
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert login(client).status_code == 200
    assert runner.invoke(args=["users", "suspend", "nobody@example.com"]).exit_code != 0
