"""What the beat page's comparison of licenses needs from each offer: the Content ID rule and
the credit the buyer must give, in the beat document and in listings alike."""

from __future__ import annotations


def test_offers_say_whether_content_id_is_allowed_and_which_credit_is_required(client, seller, upload_beat,
                                                                               offer_all):
    _user, headers = seller
    beat_id = upload_beat(headers)
    tiers = offer_all(headers, beat_id, names={"Basic lease", "Exclusive rights"})
    changed = client.patch(f"/api/v1/license-tiers/{tiers['Basic lease']['id']}", headers=headers,
                           json={"credit_line_template": "Prod. by {producers} — “{beat_title}” 🎹"})
    assert changed.status_code == 200, changed.json

    beat = client.get(f"/api/v1/beats/{beat_id}").json
    offers = {offer["name"]: offer for offer in beat["offers"]}
    assert offers["Basic lease"]["content_id"] == "not_allowed"
    assert offers["Basic lease"]["credit_line_template"] == "Prod. by {producers} — “{beat_title}” 🎹"
    assert offers["Exclusive rights"]["content_id"] == "allowed"
    assert offers["Exclusive rights"]["credit_line_template"] == "{credit_line}"

    # Listings carry the same offers as the beat's own document.
    listed = next(item for item in client.get("/api/v1/beats").json["items"] if item["id"] == beat_id)
    assert listed["offers"] == beat["offers"]
