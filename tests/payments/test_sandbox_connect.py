"""Stripe Connect in the sandbox over raw HTTP: connected accounts and their hosted onboarding,
transfers and reversals, destination charges and their refunds, and the account controls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from marketplace.payments.sandbox import SandboxServer
from tests.payments.test_sandbox import (
    HTTP,
    api,
    changed,
    create_session,
    error_of,
    paid_session,
    session_form,
    signature_verifies,
)
from tests.stripe_sandbox import SandboxControl, WebhookReceiver

RETURN_URL = "https://store.test/payouts/done"
REFRESH_URL = "https://store.test/payouts/retry"
DESTINATION = "payment_intent_data[transfer_data][destination]"
FEE = "payment_intent_data[application_fee_amount]"


# -- helpers ---------------------------------------------------------------------------

def account_form(**changes: str | None) -> dict[str, str]:
    """Form fields of an Express account creation as the SDK encodes them; None drops a field."""
    form = {
        "type": "express",
        "country": "US",
        "email": "producer@example.com",
        "business_type": "individual",
        "capabilities[transfers][requested]": "true",
        "capabilities[card_payments][requested]": "false",
        "metadata[user_id]": "42",
    }
    return changed(form, changes)


def create_account(sandbox: SandboxControl, **changes: str | None) -> dict[str, Any]:
    response = api(sandbox, "POST", "/v1/accounts", account_form(**changes))
    assert response.status_code == 200, response.text
    return response.json()


def onboarded_account(sandbox: SandboxControl) -> str:
    account_id = create_account(sandbox)["id"]
    sandbox.onboard(account_id, deliver="none")
    return account_id


def create_link(sandbox: SandboxControl, account_id: str, link_type: str = "account_onboarding") -> dict[str, Any]:
    response = api(sandbox, "POST", "/v1/account_links", {
        "account": account_id, "type": link_type, "refresh_url": REFRESH_URL, "return_url": RETURN_URL})
    assert response.status_code == 200, response.text
    return response.json()


def post_transfer(sandbox: SandboxControl, destination: str, amount: int = 1000,
                  idempotency_key: str | None = None, **fields: str) -> requests.Response:
    form = {"amount": str(amount), "currency": "usd", "destination": destination, **fields}
    return api(sandbox, "POST", "/v1/transfers", form, idempotency_key=idempotency_key)


def make_transfer(sandbox: SandboxControl, destination: str, amount: int = 1000, **fields: str) -> dict[str, Any]:
    response = post_transfer(sandbox, destination, amount, **fields)
    assert response.status_code == 200, response.text
    return response.json()


def reverse(sandbox: SandboxControl, transfer_id: str, **fields: str) -> requests.Response:
    return api(sandbox, "POST", f"/v1/transfers/{transfer_id}/reversals", fields)


def get(sandbox: SandboxControl, path: str) -> dict[str, Any]:
    response = api(sandbox, "GET", path)
    assert response.status_code == 200, response.text
    return response.json()


def destination_charge(sandbox: SandboxControl, account_id: str, fee: str = "300") -> dict[str, Any]:
    """A USD 29.99 Checkout payment sending all but `fee` on to the account; its charge."""
    session_id = create_session(sandbox, **{
        FEE: fee, DESTINATION: account_id, "payment_intent_data[transfer_group]": "ord_1"})["id"]
    payment_intent = sandbox.complete(session_id, deliver="none")["session"]["payment_intent"]
    return get(sandbox, f"/v1/charges/{get(sandbox, f'/v1/payment_intents/{payment_intent}')['latest_charge']}")


def event_types(sandbox: SandboxControl) -> list[str]:
    return [event["type"] for event in sandbox.events()]


# -- accounts ----------------------------------------------------------------------------

def test_an_express_account_is_created_waiting_for_onboarding(stripe_sandbox: SandboxControl) -> None:
    account = create_account(stripe_sandbox, country="de")
    assert account["id"].startswith("acct_") and account["object"] == "account"
    assert (account["type"], account["country"], account["default_currency"]) == ("express", "DE", "eur")
    assert (account["email"], account["business_type"], account["metadata"]) == (
        "producer@example.com", "individual", {"user_id": "42"})
    assert (account["charges_enabled"], account["payouts_enabled"], account["details_submitted"]) == (
        False, False, False)
    assert account["capabilities"] == {"transfers": "inactive"}  # card payments were not requested
    requirements = account["requirements"]
    assert "external_account" in requirements["currently_due"]
    assert requirements["disabled_reason"] == "requirements.past_due"
    assert account["controller"]["stripe_dashboard"] == {"type": "express"}
    assert isinstance(account["created"], int) and account["external_accounts"]["data"] == []
    assert stripe_sandbox.account(account["id"]) == account
    assert event_types(stripe_sandbox) == []


def test_a_standard_account_gets_the_capabilities_stripe_gives(stripe_sandbox: SandboxControl) -> None:
    account = create_account(stripe_sandbox, type="standard", **{"capabilities[transfers][requested]": None,
                                                                 "capabilities[card_payments][requested]": None})
    assert account["capabilities"] == {"card_payments": "inactive", "transfers": "inactive"}


@pytest.mark.parametrize(("changes", "param", "code"), [
    ({"type": None}, "type", "parameter_missing"),
    ({"type": "platform"}, "type", None),
    ({"individual[first_name]": "Ada"}, "individual", "parameter_unknown"),
    ({"capabilities[transfers][requested]": "yes"}, "capabilities[transfers][requested]", None),
    ({"capabilities[crypto_transfers][requested]": "true"}, "capabilities[crypto_transfers]",
     "parameter_unknown"),
    ({"country": "USA"}, "country", None),
    ({"country": "ZZ"}, "country", None),
    ({"email": "not an email"}, "email", "email_invalid"),
    ({"metadata[user_id]": "x" * 501}, "metadata[user_id]", None),
])
def test_account_parameters_are_checked(stripe_sandbox: SandboxControl, changes: dict[str, str | None],
                                        param: str, code: str | None) -> None:
    error = error_of(api(stripe_sandbox, "POST", "/v1/accounts", account_form(**changes)), 400)
    assert (error["type"], error["param"], error.get("code")) == ("invalid_request_error", param, code)


def test_a_deleted_account_is_gone_with_its_links(stripe_sandbox: SandboxControl) -> None:
    account_id = create_account(stripe_sandbox)["id"]
    link = create_link(stripe_sandbox, account_id)
    deleted = HTTP.delete(f"{stripe_sandbox.url}/v1/accounts/{account_id}",
                          headers={"Authorization": f"Bearer {stripe_sandbox.api_key}"}, timeout=10)
    assert deleted.json() == {"id": account_id, "object": "account", "deleted": True}
    assert stripe_sandbox.account(account_id)["error"]["code"] == "resource_missing"
    assert HTTP.get(link["url"], timeout=10).status_code == 404


# -- onboarding --------------------------------------------------------------------------------

def test_onboarding_on_the_hosted_page_enables_the_account_and_tells_the_platform(
        stripe_sandbox: SandboxControl, webhook_receiver: WebhookReceiver) -> None:
    account_id = create_account(stripe_sandbox)["id"]
    link = create_link(stripe_sandbox, account_id)
    assert link["object"] == "account_link" and link["expires_at"] == link["created"] + 300
    assert link["url"].startswith(f"{stripe_sandbox.url}/onboarding/")

    page = HTTP.get(link["url"], timeout=10)
    assert page.status_code == 200 and account_id in page.text and "producer@example.com" in page.text
    assert "<code>external_account</code>" in page.text
    assert '<button type="submit" name="action" value="complete"' in page.text
    done = HTTP.post(link["url"], data={"action": "complete"}, allow_redirects=False, timeout=10)
    assert (done.status_code, done.headers["Location"]) == (303, RETURN_URL)

    account = stripe_sandbox.account(account_id)
    assert (account["charges_enabled"], account["payouts_enabled"], account["details_submitted"]) == (
        True, True, True)
    assert account["capabilities"] == {"transfers": "active"}
    assert account["requirements"]["currently_due"] == [] and account["requirements"]["disabled_reason"] is None
    [delivery] = webhook_receiver.wait_for(1)
    assert signature_verifies(delivery.headers["Stripe-Signature"], delivery.body, stripe_sandbox.webhook_secret)
    assert (delivery.event["type"], delivery.event["account"]) == ("account.updated", account_id)
    assert delivery.event["data"]["object"] == account


def test_an_onboarding_link_serves_once(stripe_sandbox: SandboxControl) -> None:
    link = create_link(stripe_sandbox, create_account(stripe_sandbox)["id"])
    HTTP.post(link["url"], data={"action": "complete"}, allow_redirects=False, timeout=10)
    page = HTTP.get(link["url"], timeout=10).text
    assert "was already used" in page and f'href="{REFRESH_URL}"' in page and "<button" not in page
    again = HTTP.post(link["url"], data={"action": "complete"}, allow_redirects=False, timeout=10)
    assert (again.status_code, again.headers["Location"]) == (303, link["url"].removeprefix(stripe_sandbox.url))
    assert event_types(stripe_sandbox) == ["account.updated"]


def test_leaving_onboarding_goes_to_the_refresh_url(stripe_sandbox: SandboxControl) -> None:
    account_id = create_account(stripe_sandbox)["id"]
    link = create_link(stripe_sandbox, account_id)
    left = HTTP.post(link["url"], data={"action": "leave"}, allow_redirects=False, timeout=10)
    assert (left.status_code, left.headers["Location"]) == (303, REFRESH_URL)
    unknown = HTTP.post(link["url"], data={"action": "hack"}, timeout=10)
    assert unknown.status_code == 400 and "Choose Complete onboarding or Leave." in unknown.text
    assert stripe_sandbox.account(account_id)["details_submitted"] is False


def test_an_expired_link_leads_to_a_new_one(stripe_sandbox: SandboxControl,
                                            stripe_sandbox_server: SandboxServer) -> None:
    account_id = create_account(stripe_sandbox)["id"]
    link = create_link(stripe_sandbox, account_id)
    with stripe_sandbox_server.sandbox.store.change() as change:  # as if five minutes went by
        [stored] = change.state.account_links.values()
        stored["expires_at"] = change.now - 1
    page = HTTP.get(link["url"], timeout=10).text
    assert "has expired" in page and f'href="{REFRESH_URL}"' in page and "<button" not in page
    HTTP.post(link["url"], data={"action": "complete"}, timeout=10)
    assert stripe_sandbox.account(account_id)["details_submitted"] is False


def test_the_onboarding_page_escapes_what_the_app_sent(stripe_sandbox: SandboxControl) -> None:
    account_id = create_account(stripe_sandbox, **{"business_profile[name]": "<script>alert('x')</script> & Co"})["id"]
    page = HTTP.get(create_link(stripe_sandbox, account_id)["url"], timeout=10).text
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co" in page


def test_account_links_are_checked(stripe_sandbox: SandboxControl) -> None:
    express = create_account(stripe_sandbox)["id"]
    form = {"account": express, "type": "account_onboarding", "refresh_url": REFRESH_URL, "return_url": RETURN_URL}
    missing = api(stripe_sandbox, "POST", "/v1/account_links", {**form, "account": "acct_nope"})
    assert (error_of(missing, 404)["code"], error_of(missing, 404)["param"]) == ("resource_missing", "account")
    without_return = {name: value for name, value in form.items() if name != "return_url"}
    assert error_of(api(stripe_sandbox, "POST", "/v1/account_links", without_return), 400)["param"] == "return_url"
    not_a_url = api(stripe_sandbox, "POST", "/v1/account_links", {**form, "refresh_url": "javascript:alert(1)"})
    assert error_of(not_a_url, 400)["code"] == "url_invalid"
    update = api(stripe_sandbox, "POST", "/v1/account_links", {**form, "type": "account_update"})
    assert error_of(update, 400)["param"] == "type"
    custom = create_account(stripe_sandbox, type="custom")["id"]
    assert create_link(stripe_sandbox, custom, "account_update")["object"] == "account_link"


def test_an_onboarding_link_outlives_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "sandbox.json"
    with SandboxServer(state_file=state_file) as server:
        control = SandboxControl(server.url)
        link = create_link(control, create_account(control)["id"])
    with SandboxServer(state_file=state_file) as server:  # on another port: the link's path still leads
        path = link["url"].removeprefix(control.url)
        assert "Complete onboarding" in HTTP.get(f"{server.url}{path}", timeout=10).text


# -- transfers ----------------------------------------------------------------------------------

def test_a_transfer_reaches_an_onboarded_account(stripe_sandbox: SandboxControl) -> None:
    account_id = onboarded_account(stripe_sandbox)
    transfer = make_transfer(stripe_sandbox, account_id, 1500, transfer_group="ord_1", description="Night Drive",
                             **{"metadata[order_id]": "ord_1"})
    assert transfer["id"].startswith("tr_") and transfer["object"] == "transfer"
    assert (transfer["amount"], transfer["currency"], transfer["destination"]) == (1500, "usd", account_id)
    assert (transfer["amount_reversed"], transfer["reversed"], transfer["source_transaction"]) == (0, False, None)
    assert (transfer["transfer_group"], transfer["metadata"]) == ("ord_1", {"order_id": "ord_1"})
    assert transfer["reversals"] == {"object": "list", "data": [], "has_more": False,
                                     "url": f"/v1/transfers/{transfer['id']}/reversals"}
    assert transfer["balance_transaction"].startswith("txn_")
    assert get(stripe_sandbox, f"/v1/transfers/{transfer['id']}") == transfer
    [event] = stripe_sandbox.events("transfer.created")
    assert event["data"]["object"] == transfer and "account" not in event  # a platform event

    other = make_transfer(stripe_sandbox, account_id, 500, transfer_group="ord_2")
    listed = api(stripe_sandbox, "GET", "/v1/transfers", {"transfer_group": "ord_1"}).json()
    assert listed["object"] == "list" and [found["id"] for found in listed["data"]] == [transfer["id"]]
    newest_first = api(stripe_sandbox, "GET", "/v1/transfers", {"destination": account_id, "limit": "1"}).json()
    assert [found["id"] for found in newest_first["data"]] == [other["id"]] and newest_first["has_more"] is True
    expanded = api(stripe_sandbox, "GET", f"/v1/transfers/{transfer['id']}", {"expand[]": "destination"}).json()
    assert expanded["destination"]["id"] == account_id


def test_transfers_go_only_to_accounts_that_can_take_them(stripe_sandbox: SandboxControl) -> None:
    unknown = error_of(post_transfer(stripe_sandbox, "acct_nope"), 404)
    assert unknown == {"type": "invalid_request_error", "code": "resource_missing",
                       "message": "No such destination: 'acct_nope'", "param": "destination"}
    not_onboarded = error_of(post_transfer(stripe_sandbox, create_account(stripe_sandbox)["id"]), 400)
    assert (not_onboarded["code"], not_onboarded["param"]) == ("insufficient_capabilities_for_transfer",
                                                               "destination")
    assert "transfers" in not_onboarded["message"]
    assert get(stripe_sandbox, "/v1/transfers")["data"] == []


@pytest.mark.parametrize(("fields", "param"), [
    ({"amount": "0"}, "amount"),
    ({"currency": "dollars"}, "currency"),
    ({"destination": None}, "destination"),
    ({"source_type": "card"}, "source_type"),
])
def test_transfer_parameters_are_checked(stripe_sandbox: SandboxControl, fields: dict[str, str | None],
                                         param: str) -> None:
    form = {"amount": "100", "currency": "usd", "destination": onboarded_account(stripe_sandbox), **fields}
    refused = api(stripe_sandbox, "POST", "/v1/transfers", {name: value for name, value in form.items() if value})
    assert error_of(refused, 400)["param"] == param


def test_a_transfer_from_a_charge_sends_on_no_more_than_the_charge_brought_in(
        stripe_sandbox: SandboxControl) -> None:
    account_id = onboarded_account(stripe_sandbox)
    _, payment_intent = paid_session(stripe_sandbox)  # USD 29.99
    charge_id = get(stripe_sandbox, f"/v1/payment_intents/{payment_intent}")["latest_charge"]
    first = make_transfer(stripe_sandbox, account_id, 2000, source_transaction=charge_id)
    assert first["source_transaction"] == charge_id

    too_much = error_of(post_transfer(stripe_sandbox, account_id, 1000, source_transaction=charge_id), 400)
    assert (too_much["code"], too_much["param"]) == ("balance_insufficient", "amount")
    assert "USD 9.99" in too_much["message"]
    assert make_transfer(stripe_sandbox, account_id, 999, source_transaction=charge_id)["amount"] == 999
    unknown = error_of(post_transfer(stripe_sandbox, account_id, 1, source_transaction="ch_nope"), 404)
    assert unknown["param"] == "source_transaction"
    euros = error_of(post_transfer(stripe_sandbox, account_id, 1, currency="eur", source_transaction=charge_id), 400)
    assert euros["param"] == "currency"


def test_a_transfer_is_made_once_per_idempotency_key(stripe_sandbox: SandboxControl) -> None:
    account_id = onboarded_account(stripe_sandbox)
    first = post_transfer(stripe_sandbox, account_id, 1000, idempotency_key="payout-1")
    again = post_transfer(stripe_sandbox, account_id, 1000, idempotency_key="payout-1")
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert len(get(stripe_sandbox, "/v1/transfers")["data"]) == 1
    conflict = post_transfer(stripe_sandbox, account_id, 2000, idempotency_key="payout-1")
    assert error_of(conflict, 400)["type"] == "idempotency_error"


def test_a_failing_transfer_call_can_be_retried(stripe_sandbox: SandboxControl) -> None:
    account_id = onboarded_account(stripe_sandbox)
    stripe_sandbox.fault("POST", "/v1/transfers", "error_500")
    assert error_of(post_transfer(stripe_sandbox, account_id), 500)["type"] == "api_error"
    assert post_transfer(stripe_sandbox, account_id).status_code == 200
    assert len(get(stripe_sandbox, "/v1/transfers")["data"]) == 1


# -- reversals ----------------------------------------------------------------------------------

def test_reversals_partial_then_the_rest_then_nothing(stripe_sandbox: SandboxControl) -> None:
    transfer_id = make_transfer(stripe_sandbox, onboarded_account(stripe_sandbox), 1000)["id"]
    partial = reverse(stripe_sandbox, transfer_id, amount="300", **{"metadata[reason]": "chargeback"}).json()
    assert partial["id"].startswith("trr_") and partial["object"] == "transfer_reversal"
    assert (partial["amount"], partial["currency"], partial["transfer"]) == (300, "usd", transfer_id)
    assert (partial["metadata"], partial["source_refund"]) == ({"reason": "chargeback"}, None)
    transfer = get(stripe_sandbox, f"/v1/transfers/{transfer_id}")
    assert (transfer["amount_reversed"], transfer["reversed"]) == (300, False)
    assert transfer["reversals"]["data"] == [partial]

    too_much = error_of(reverse(stripe_sandbox, transfer_id, amount="701"), 400)
    assert too_much["param"] == "amount" and "USD 7.00" in too_much["message"]
    rest = reverse(stripe_sandbox, transfer_id).json()
    assert rest["amount"] == 700
    transfer = get(stripe_sandbox, f"/v1/transfers/{transfer_id}")
    assert (transfer["amount_reversed"], transfer["reversed"]) == (1000, True)
    assert "fully reversed" in error_of(reverse(stripe_sandbox, transfer_id), 400)["message"]

    listed = get(stripe_sandbox, f"/v1/transfers/{transfer_id}/reversals")
    assert [reversal["id"] for reversal in listed["data"]] == [rest["id"], partial["id"]]
    reversed_events = stripe_sandbox.events("transfer.reversed")
    assert [event["data"]["object"]["amount_reversed"] for event in reversed_events] == [300, 1000]
    assert error_of(reverse(stripe_sandbox, "tr_nope"), 404)["code"] == "resource_missing"


# -- destination charges ------------------------------------------------------------------------

def test_a_destination_charge_sends_all_but_the_fee_on(stripe_sandbox: SandboxControl) -> None:
    account_id = onboarded_account(stripe_sandbox)
    charge = destination_charge(stripe_sandbox, account_id, fee="300")
    assert (charge["amount"], charge["application_fee_amount"], charge["transfer_group"]) == (2999, 300, "ord_1")
    assert charge["transfer_data"] == {"amount": None, "destination": account_id}
    intent = get(stripe_sandbox, f"/v1/payment_intents/{charge['payment_intent']}")
    assert (intent["application_fee_amount"], intent["transfer_data"]) == (300, {"destination": account_id})

    transfer = get(stripe_sandbox, f"/v1/transfers/{charge['transfer']}")
    assert (transfer["amount"], transfer["destination"], transfer["source_transaction"]) == (
        2699, account_id, charge["id"])
    assert transfer["transfer_group"] == "ord_1"
    fee = get(stripe_sandbox, f"/v1/application_fees/{charge['application_fee']}")
    assert fee["id"].startswith("fee_") and fee["object"] == "application_fee"
    assert (fee["amount"], fee["account"], fee["charge"], fee["amount_refunded"]) == (300, account_id, charge["id"], 0)
    assert fee["application"].startswith("ca_")
    assert event_types(stripe_sandbox) == ["account.updated", "application_fee.created", "transfer.created",
                                           "checkout.session.completed"]
    # All of it is sent on already: a separate transfer from the same charge finds nothing left.
    more = error_of(post_transfer(stripe_sandbox, account_id, 301, source_transaction=charge["id"]), 400)
    assert more["code"] == "balance_insufficient"


def test_a_destination_charge_without_a_fee_sends_everything_on(stripe_sandbox: SandboxControl) -> None:
    session_id = create_session(stripe_sandbox, **{DESTINATION: onboarded_account(stripe_sandbox)})["id"]
    stripe_sandbox.complete(session_id, async_payment=True, deliver="none")
    assert stripe_sandbox.events("transfer.created") == []  # nothing is sent on before the money arrives
    stripe_sandbox.async_succeed(session_id, deliver="none")
    [created] = stripe_sandbox.events("transfer.created")
    assert created["data"]["object"]["amount"] == 2999
    assert stripe_sandbox.events("application_fee.created") == []


def test_destination_charges_are_checked_when_the_session_is_created(stripe_sandbox: SandboxControl) -> None:
    def refused(status: int, **fields: str) -> dict[str, Any]:
        return error_of(api(stripe_sandbox, "POST", "/v1/checkout/sessions", session_form(**fields)), status)

    account_id = onboarded_account(stripe_sandbox)
    assert refused(404, **{DESTINATION: "acct_nope"})["param"] == DESTINATION
    not_onboarded = refused(400, **{DESTINATION: create_account(stripe_sandbox)["id"]})
    assert (not_onboarded["code"], not_onboarded["param"]) == ("insufficient_capabilities_for_transfer", DESTINATION)
    assert refused(400, **{DESTINATION: account_id, FEE: "3000"})["param"] == FEE
    assert refused(400, **{FEE: "100"})["param"] == FEE  # a fee needs a destination
    assert create_session(stripe_sandbox, **{DESTINATION: account_id, FEE: "2999"})["status"] == "open"


def test_a_refund_takes_back_its_share_of_the_transfer_and_the_fee(stripe_sandbox: SandboxControl) -> None:
    account_id = onboarded_account(stripe_sandbox)
    charge = destination_charge(stripe_sandbox, account_id, fee="300")  # 2999: 2699 sent on, 300 kept
    first = api(stripe_sandbox, "POST", "/v1/refunds", {
        "charge": charge["id"], "amount": "1000", "reverse_transfer": "true",
        "refund_application_fee": "true"}).json()
    reversal = get(stripe_sandbox, f"/v1/transfers/{charge['transfer']}/reversals")["data"][0]
    assert first["transfer_reversal"] == reversal["id"] and reversal["source_refund"] == first["id"]
    assert reversal["amount"] == 899  # 1000 * 2699 / 2999 = 899.97, rounded down
    fee = get(stripe_sandbox, f"/v1/application_fees/{charge['application_fee']}")
    assert (fee["amount_refunded"], fee["refunded"]) == (100, False)  # 1000 * 300 / 2999 = 100.03
    assert fee["refunds"]["data"][0]["object"] == "fee_refund" and fee["refunds"]["data"][0]["amount"] == 100

    api(stripe_sandbox, "POST", "/v1/refunds", {"charge": charge["id"], "reverse_transfer": "true",
                                                "refund_application_fee": "true"})
    transfer = get(stripe_sandbox, f"/v1/transfers/{charge['transfer']}")
    assert (transfer["amount_reversed"], transfer["reversed"]) == (2699, True)  # the rest: 1800
    fee = get(stripe_sandbox, f"/v1/application_fees/{charge['application_fee']}")
    assert (fee["amount_refunded"], fee["refunded"]) == (300, True)
    assert event_types(stripe_sandbox)[-8:] == [
        "transfer.reversed", "application_fee.refunded", "charge.refunded", "refund.created"] * 2


def test_a_refund_leaves_the_transfer_alone_unless_asked(stripe_sandbox: SandboxControl) -> None:
    charge = destination_charge(stripe_sandbox, onboarded_account(stripe_sandbox))
    refund = api(stripe_sandbox, "POST", "/v1/refunds", {"charge": charge["id"], "amount": "1000"}).json()
    assert refund["transfer_reversal"] is None
    assert get(stripe_sandbox, f"/v1/transfers/{charge['transfer']}")["amount_reversed"] == 0
    assert get(stripe_sandbox, f"/v1/application_fees/{charge['application_fee']}")["amount_refunded"] == 0


def test_only_a_destination_charge_has_a_transfer_to_reverse(stripe_sandbox: SandboxControl) -> None:
    _, payment_intent = paid_session(stripe_sandbox)
    refund = {"payment_intent": payment_intent, "reverse_transfer": "true"}
    assert error_of(api(stripe_sandbox, "POST", "/v1/refunds", refund), 400)["param"] == "reverse_transfer"
    not_a_boolean = {"payment_intent": payment_intent, "reverse_transfer": "yes"}
    assert error_of(api(stripe_sandbox, "POST", "/v1/refunds", not_a_boolean), 400)["param"] == "reverse_transfer"
    assert get(stripe_sandbox, "/v1/payment_intents/" + payment_intent)["status"] == "succeeded"
    assert stripe_sandbox.events("charge.refunded") == []


def test_reversing_a_destination_transfer_can_refund_the_fee_in_proportion(stripe_sandbox: SandboxControl) -> None:
    charge = destination_charge(stripe_sandbox, onboarded_account(stripe_sandbox), fee="300")
    reverse(stripe_sandbox, charge["transfer"], amount="1000", refund_application_fee="true")
    fee = get(stripe_sandbox, f"/v1/application_fees/{charge['application_fee']}")
    assert fee["amount_refunded"] == 111  # 1000 * 300 / 2699 = 111.15, rounded down
    reverse(stripe_sandbox, charge["transfer"], amount="1000")
    assert get(stripe_sandbox, f"/v1/application_fees/{charge['application_fee']}")["amount_refunded"] == 111


# -- account controls ---------------------------------------------------------------------------

def test_a_deauthorized_account_can_no_longer_be_paid(
        stripe_sandbox: SandboxControl, webhook_receiver: WebhookReceiver) -> None:
    account_id = onboarded_account(stripe_sandbox)
    deauthorized = stripe_sandbox.deauthorize(account_id)
    account = deauthorized["account"]
    assert (account["charges_enabled"], account["payouts_enabled"]) == (False, False)
    assert account["capabilities"] == {"transfers": "inactive"}
    assert [event["type"] for event in deauthorized["events"]] == ["account.updated",
                                                                   "account.application.deauthorized"]
    assert [delivery["status"] for delivery in deauthorized["deliveries"]] == [200, 200]
    updated, gone = (received.event for received in webhook_receiver.wait_for(2))
    assert (updated["account"], gone["account"]) == (account_id, account_id)
    assert gone["data"]["object"]["object"] == "application"
    refused = error_of(post_transfer(stripe_sandbox, account_id), 400)
    assert refused["code"] == "insufficient_capabilities_for_transfer"
    assert stripe_sandbox.deauthorize("acct_nope")["error"]["code"] == "resource_missing"


def test_a_restricted_account_is_not_paid_out_until_it_gives_what_is_due(stripe_sandbox: SandboxControl) -> None:
    account_id = onboarded_account(stripe_sandbox)
    restricted = stripe_sandbox.restrict(account_id, deliver="none")
    account = restricted["account"]
    assert (account["payouts_enabled"], account["charges_enabled"]) == (False, True)
    assert account["requirements"]["past_due"] and account["requirements"]["disabled_reason"] == "requirements.past_due"
    assert [event["type"] for event in restricted["events"]] == ["account.updated"]
    assert post_transfer(stripe_sandbox, account_id).status_code == 200  # money still arrives, held
    onboarded = stripe_sandbox.onboard(account_id, deliver="none")["account"]
    assert onboarded["payouts_enabled"] is True and onboarded["requirements"]["past_due"] == []
