from __future__ import annotations

from flask import Response

from marketplace.accounts.auth import auth_required, current_user
from marketplace.api import Blueprint, document_errors
from marketplace.db import db
from marketplace.privacy import closing, export
from marketplace.privacy.schemas import CloseAccountSchema

blp = Blueprint("privacy", __name__, description="Your data, and closing your account")


@blp.post("/me/close")
@auth_required()
@blp.arguments(CloseAccountSchema)
@blp.response(204)
@document_errors(403, 409, 422, 429)
def close_account(payload):
    """Close your account (your password is needed). It is anonymised and every session ends;
    your beats leave the store. Orders and licenses, bought and sold, stay valid as records,
    and money owed to you is still paid out. The last administrator cannot close theirs (409)."""
    closing.close_account(current_user(), payload["password"])
    db.session.commit()
    return Response(status=204)


@blp.get("/me/export")
@auth_required()
@blp.response(200, description="Everything the store holds about you, as a JSON file to download")
def export_data():
    """A copy of what the store holds about you: profile, sessions, orders, licenses bought,
    beats and credits, sales and licenses sold, payouts, reports filed and strikes."""
    return Response(export.export_json(current_user()), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{export.file_name()}"',
                             "Cache-Control": "no-store"})
