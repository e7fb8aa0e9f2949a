"""Split sheet versions: a change of a collaborator's share applies to later sales only, once
they accept it; every version is kept with its acceptances and a hash of its content, and each
license names the version it was sold under."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.collaborators.models import SplitVersion
from marketplace.db import db
from marketplace.licensing.models import License
from marketplace.payouts.models import LedgerEntry
from tests.collaborators.test_held_shares import assert_reconciled, line_parts

FIELDS = ("name", "role", "profit_share_bps", "publishing_share_bps", "master_points_bps", "pro", "ipi", "user_id",
          "invitation_id")


def cleo_share(app, order, cleo):
    with app.app_context():
        return db.session.scalar(select(LedgerEntry.amount).where(
            LedgerEntry.order_id == order["id"], LedgerEntry.payee_id == cleo, LedgerEntry.kind == "sale"))


def version_of_license(app, order):
    with app.app_context():
        license_ = db.session.scalar(select(License).where(License.id == order["licenses"][0]["id"]))
        return db.session.get(SplitVersion, license_.split_version_id).number


def test_a_split_change_applies_only_to_sales_after_the_collaborator_accepts_it(
        app, client, beatmaker, make_user, headers_for, credit, new_buyer, buy, put_credits, reconcile):
    anna, anna_headers, beat, tiers = beatmaker("Anna")
    cleo = make_user(Role.BEATMAKER, "Cleo")
    cleo_headers = headers_for(cleo)
    credit(anna_headers, beat, [("Anna", anna, "producer", 6000), ("Cleo", cleo, "co_producer", 4000)])
    first = buy(new_buyer()[1], [(beat, tiers["Basic"]["id"])])
    assert cleo_share(app, first, cleo) == line_parts(app, first, [(anna, 6000), (cleo, 4000)])[0][cleo]

    # Anna moves Cleo to 30%: Cleo must accept it, and until then sales keep 60/40.
    credits = client.get(f"/api/v1/beats/{beat}/credits").json["credits"]
    changed = put_credits(anna_headers, beat, [
        {**{k: credits[0][k] for k in ("name", "role", "user_id")}, "profit_share_bps": 7000},
        {**{k: credits[1][k] for k in ("name", "role", "user_id")}, "profit_share_bps": 3000}])
    assert changed.status_code == 200, changed.json
    sheet = client.get(f"/api/v1/beats/{beat}/split-sheet", headers=cleo_headers).json
    assert sheet["in_force"]["number"] == 2 and sheet["proposed"]["number"] == 3
    awaited = {a["user_id"]: a["accepted_at"] for a in sheet["proposed"]["acceptances"]}
    assert awaited[cleo] is None and awaited[anna] is not None
    second = buy(new_buyer()[1], [(beat, tiers["Basic"]["id"])])
    assert cleo_share(app, second, cleo) == line_parts(app, second, [(anna, 6000), (cleo, 4000)])[0][cleo]

    # Only those asked may accept; Cleo's acceptance brings version 3 into force.
    refused = client.post(f"/api/v1/beats/{beat}/split-sheet/versions/3/accept", headers=headers_for(
        make_user(Role.BEATMAKER, "Dan")))
    assert refused.status_code == 404
    accepted = client.post(f"/api/v1/beats/{beat}/split-sheet/versions/3/accept", headers=cleo_headers)
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["status"] == "in_force"
    third = buy(new_buyer()[1], [(beat, tiers["Basic"]["id"])])
    assert cleo_share(app, third, cleo) == line_parts(app, third, [(anna, 7000), (cleo, 3000)])[0][cleo]
    assert [version_of_license(app, order) for order in (first, second, third)] == [2, 2, 3]

    # Every version is kept, with its acceptances and the hash of its canonical content.
    listed = client.get(f"/api/v1/beats/{beat}/split-sheet/versions", headers=anna_headers).json["items"]
    assert [(v["number"], v["status"]) for v in listed] == [(3, "in_force"), (2, "superseded"), (1, "superseded")]
    for version in listed:
        canonical = json.dumps({"beat_id": beat, "version": version["number"],
                                "entries": [{f: e[f] for f in FIELDS} for e in version["entries"]]},
                               sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert version["content_hash"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert [e["profit_share_bps"] for e in listed[0]["entries"]] == [7000, 3000]
    one = client.get(f"/api/v1/beats/{beat}/split-sheet/versions/2", headers=cleo_headers).json
    assert [e["profit_share_bps"] for e in one["entries"]] == [6000, 4000]
    assert client.get(f"/api/v1/beats/{beat}/split-sheet/versions/9", headers=cleo_headers).status_code == 404
    again = client.post(f"/api/v1/beats/{beat}/split-sheet/versions/2/accept", headers=cleo_headers)
    assert again.status_code == 409
    assert_reconciled(reconcile, "--offline")


def test_changes_that_move_no_accepted_share_are_in_force_at_once_and_a_new_change_withdraws_a_proposal(
        app, client, beatmaker, make_user, headers_for, credit, put_credits):
    anna, anna_headers, beat, _ = beatmaker("Anna")
    cleo = make_user(Role.BEATMAKER, "Cleo")
    credit(anna_headers, beat, [("Anna", anna, "producer", 6000), ("Cleo", cleo, "co_producer", 4000)])
    credits = client.get(f"/api/v1/beats/{beat}/credits").json["credits"]
    keep = [{k: c[k] for k in ("name", "role", "user_id", "invitation_id", "profit_share_bps")} for c in credits]
    # Adding an engineer by name, with no share: nobody's share moves.
    added = put_credits(anna_headers, beat, [*keep, {"name": "Max", "role": "mix_engineer"}])
    assert added.status_code == 200, added.json
    sheet = client.get(f"/api/v1/beats/{beat}/split-sheet", headers=anna_headers).json
    assert sheet["in_force"]["number"] == 3 and sheet["proposed"] is None
    # Sending the same list again makes no version.
    assert put_credits(anna_headers, beat, [*keep, {"name": "Max", "role": "mix_engineer"}]).status_code == 200
    moved = [{**keep[0], "profit_share_bps": 9000}, {**keep[1], "profit_share_bps": 1000}]
    assert put_credits(anna_headers, beat, moved).status_code == 200
    assert put_credits(anna_headers, beat, keep).status_code == 200  # back to 60/40: nothing to accept
    listed = client.get(f"/api/v1/beats/{beat}/split-sheet/versions", headers=anna_headers).json["items"]
    assert [(v["number"], v["status"]) for v in listed][:3] == [(5, "in_force"), (4, "withdrawn"), (3, "superseded")]
