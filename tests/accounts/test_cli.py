from __future__ import annotations

from marketplace.accounts import services
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


def test_seed_demo_creates_accounts_once_and_prints_passwords(app, client):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed", "demo"])
    second = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == second.exit_code == 0
    assert "(3 created now)" in first.output and "(0 created now)" in second.output
    assert "demo-admin-password" in second.output
    with app.app_context():
        roles = {email: services.find_user_by_email(email).roles
                 for email in ("admin@demo.test", "beatmaker@demo.test", "artist@demo.test")}
    assert roles == {"admin@demo.test": ["admin"], "beatmaker@demo.test": ["beatmaker"],
                     "artist@demo.test": ["artist"]}
    assert login(client, "beatmaker@demo.test", "demo-beatmaker-password").status_code == 200
