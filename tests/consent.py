"""Crediting other people as the product allows it: by invitation, then their acceptance.

`credit_with_consent` takes a credit list as PUT /beats/{id}/credits does; each credit naming
another account's `user_id` is sent as an invitation to that account's address instead, and
that account then accepts it from its own sign-in. Answers GET /beats/{id}/credits after."""

from __future__ import annotations

from marketplace.accounts import services as accounts_services
from marketplace.catalog.models import Beat
from marketplace.db import db


def credit_with_consent(app, client, headers_for, owner_headers, beat_id, credits):
    with app.app_context():
        owner_id = db.session.get(Beat, beat_id).owner_id
        emails = {c["user_id"]: accounts_services.get_user(c["user_id"]).email
                  for c in credits if c.get("user_id") and c["user_id"] != owner_id}
    body = []
    for credit in credits:
        credit = dict(credit)
        if credit.get("user_id") in emails:
            credit["invite"] = {"email": emails[credit.pop("user_id")]}
        body.append(credit)
    response = client.put(f"/api/v1/beats/{beat_id}/credits", json=body, headers=owner_headers)
    assert response.status_code == 200, response.json
    for user_id in emails:
        headers = headers_for(user_id)
        mine = client.get("/api/v1/me/credit-invitations", headers=headers).json["items"]
        for invitation in mine:
            if invitation["beat"]["id"] == beat_id and invitation["status"] == "pending":
                answer = client.post(f"/api/v1/me/credit-invitations/{invitation['id']}/accept", headers=headers)
                assert answer.status_code == 200, answer.json
    return client.get(f"/api/v1/beats/{beat_id}/credits", headers=owner_headers)
