"""How Connect moves, one `Change` at a time: connected accounts and their onboarding, transfers
to them and reversals of those, and what a destination charge sends on to its destination.

As in `lifecycle`, every function checks first and changes afterwards. The platform's own
balance is not modelled: a transfer without a `source_transaction` is always funded, where
Stripe would refuse one larger than the platform's available balance. Events about a connected
account name it in `account` and go to the one webhook endpoint, where Stripe would send them
to the platform's Connect endpoint.
"""

from __future__ import annotations

from typing import Any

from marketplace.common.money import Money
from marketplace.payments.sandbox import objects
from marketplace.payments.sandbox.errors import ParamError, StripeError, no_such
from marketplace.payments.sandbox.state import Change, StripeObject

ACCOUNT_LINK_SECONDS = 300
# What Stripe asks again of an onboarded account it restricts, until the account gives it.
RESTRICTING_REQUIREMENTS = ("individual.verification.document",)
# Stripe decides a Standard account's capabilities itself; Express and Custom ones get those requested.
STANDARD_CAPABILITIES = ["card_payments", "transfers"]
DESTINATION_PARAM = "payment_intent_data[transfer_data][destination]"
FEE_PARAM = "payment_intent_data[application_fee_amount]"


# -- accounts --------------------------------------------------------------------------------

def create_account(change: Change, params: dict[str, Any]) -> StripeObject:
    country = params.get("country", objects.PLATFORM_COUNTRY)
    if country not in objects.CONNECT_CURRENCIES:
        raise ParamError(f"Connected accounts cannot be created in {country} in the sandbox; it opens them "
                         f"in {', '.join(sorted(objects.CONNECT_CURRENCIES))}.", "country")
    if params["type"] == "standard":
        requested = STANDARD_CAPABILITIES
    else:
        requested = [name for name, wish in params.get("capabilities", {}).items() if wish["requested"]]
    return change.state.put(objects.account(params, requested, change.now))


def delete_account(change: Change, account_id: str) -> StripeObject:
    change.state.remove("account", account_id)
    change.state.account_links = {token: link for token, link in change.state.account_links.items()
                                  if link["account"] != account_id}
    return {"id": account_id, "object": "account", "deleted": True}


def complete_onboarding(change: Change, account_id: str) -> StripeObject:
    """The account gives Stripe all it asked for: it can be charged for, paid and paid out."""
    account = change.state.get("account", account_id)
    account.update(details_submitted=True, charges_enabled=True, payouts_enabled=True,
                   capabilities=dict.fromkeys(account["capabilities"], "active"),
                   requirements=objects.account_requirements(()))
    change.emit("account.updated", account, account=account_id)
    return account


def restrict(change: Change, account_id: str) -> StripeObject:
    """Stripe wants more of the account before it pays out again; transfers still arrive."""
    account = change.state.get("account", account_id)
    account.update(payouts_enabled=False, requirements=objects.account_requirements(RESTRICTING_REQUIREMENTS))
    change.emit("account.updated", account, account=account_id)
    return account


def deauthorize(change: Change, account_id: str) -> StripeObject:
    """The account disconnects from the platform, which can no longer charge for it or pay it."""
    account = change.state.get("account", account_id)
    account.update(charges_enabled=False, payouts_enabled=False,
                   capabilities=dict.fromkeys(account["capabilities"], "inactive"))
    change.emit("account.updated", account, account=account_id)
    change.emit("account.application.deauthorized", objects.application(), account=account_id)
    return account


# -- account links: the way into the hosted onboarding page ------------------------------------

def create_account_link(change: Change, params: dict[str, Any], page_base: str) -> StripeObject:
    account = change.state.get("account", params["account"], param="account")
    if params["type"] == "account_update" and account["type"] != "custom":
        raise StripeError(f"You cannot create `account_update` type Account Links for {account['type']} "
                          "accounts: Stripe collects their details. Use `account_onboarding`.", param="type")
    token = objects.random_token(32)
    expires_at = change.now + ACCOUNT_LINK_SECONDS
    change.state.account_links[token] = {
        "account": account["id"], "type": params["type"], "refresh_url": params["refresh_url"],
        "return_url": params["return_url"], "expires_at": expires_at, "used": False}
    return objects.account_link(f"{page_base}/onboarding/{token}", change.now, expires_at)


def link_status(link: dict[str, Any], now: int) -> str:
    """"open", "used" (a link serves once, as Stripe's do) or "expired"."""
    if link["used"]:
        return "used"
    return "expired" if now > link["expires_at"] else "open"


def onboard_through_link(change: Change, token: str) -> dict[str, Any]:
    """Onboarding completed on the page an open link leads to; answers the link, now used."""
    link = change.state.account_links.get(token)
    if link is None:
        raise no_such("account link", token)
    status = link_status(link, change.now)
    if status != "open":
        raise StripeError(f"This account link is {status}: create a new one.")
    complete_onboarding(change, link["account"])
    link["used"] = True
    return link


# -- transfers and their reversals --------------------------------------------------------------

def create_transfer(change: Change, params: dict[str, Any]) -> StripeObject:
    _payable_account(change, params["destination"], "destination")
    if "source_transaction" in params:
        _check_funding(change, params["source_transaction"], params["amount"], params["currency"])
    return _send(change, params)


def _payable_account(change: Change, account_id: str, param: str) -> StripeObject:
    """A connected account that can receive transfers now."""
    account = change.state.find("account", account_id)
    if account is None:
        raise no_such("destination", account_id, param)
    if account["capabilities"].get("transfers") != "active":
        raise StripeError("Your destination account needs to have at least one of the following capabilities "
                          "enabled: transfers, crypto_transfers, legacy_payments",
                          code="insufficient_capabilities_for_transfer", param=param)
    return account


def _check_funding(change: Change, charge_id: str, amount: int, currency: str) -> None:
    """A transfer from a charge may send on what the charge brought in, less what was refunded
    and what it already funded; a disputed charge funds nothing."""
    charge = change.state.get("charge", charge_id, param="source_transaction")
    if currency != charge["currency"]:
        raise StripeError(f"The currency of source_transaction's balance transaction ({charge['currency']}) "
                          f"must be the same as the transfer currency ({currency}).", param="currency")
    funded = sum(transfer["amount"] for transfer in change.state.all("transfer")
                 if transfer["source_transaction"] == charge_id)
    # What was refunded left with the refund. A dispute withdraws the whole charge; winning it
    # brings the money back to the platform's balance, not to the charge, which funds no more.
    left = 0 if charge["disputed"] else charge["amount"] - charge["amount_refunded"] - funded
    if amount > left:
        raise StripeError(
            f"Insufficient funds: the transfer amount ({Money(amount, currency).formatted()}) is greater than "
            f"what charge {charge_id} has left to transfer ({Money(left, currency).formatted()}).",
            code="balance_insufficient", param="amount")


def _send(change: Change, params: dict[str, Any]) -> StripeObject:
    transfer = change.state.put(objects.transfer(params, change.now))
    change.emit("transfer.created", transfer)
    return transfer


def reverse_transfer(change: Change, transfer_id: str, amount: int | None = None, *,
                     metadata: dict[str, str] | None = None,
                     refund_application_fee: bool = False) -> StripeObject:
    """Take back part or all of what is left of a transfer (all of it when no amount is given);
    with `refund_application_fee`, give back the same share of the fee on the charge behind it."""
    transfer = change.state.get("transfer", transfer_id)
    left = transfer["amount"] - transfer["amount_reversed"]
    if left == 0:
        raise StripeError(f"Transfer {transfer_id} has already been fully reversed.")
    amount = left if amount is None else amount
    if amount > left:
        currency = transfer["currency"]
        raise StripeError(
            f"Transfer reversal amount ({Money(amount, currency).formatted()}) is greater than the amount "
            f"left on the transfer ({Money(left, currency).formatted()}).", param="amount")
    reversal = _reverse(change, transfer, amount, metadata or {}, source_refund=None)
    fee = _fee_behind(change, transfer)
    if refund_application_fee and fee is not None:
        _refund_fee(change, fee, _share(amount, transfer["amount"], fee["amount"], fee["amount_refunded"],
                                        all_of_it=transfer["reversed"]))
    return reversal


def _fee_behind(change: Change, transfer: StripeObject) -> StripeObject | None:
    """The application fee taken on the charge that funded the transfer, if there is one."""
    source = transfer["source_transaction"]
    charge = change.state.find("charge", source) if source else None
    if charge is None or charge["application_fee"] is None:
        return None
    return change.state.get("application_fee", charge["application_fee"])


def _reverse(change: Change, transfer: StripeObject, amount: int, metadata: dict[str, str],
             source_refund: str | None) -> StripeObject:
    reversal = change.state.put(objects.transfer_reversal(transfer, amount, metadata, source_refund, change.now))
    transfer["amount_reversed"] += amount
    transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]  # Stripe: fully reversed only
    transfer["reversals"]["data"].insert(0, reversal)  # newest first, as Stripe lists them
    change.emit("transfer.reversed", transfer)
    return reversal


def _refund_fee(change: Change, fee: StripeObject, amount: int) -> None:
    if amount == 0:
        return
    made = change.state.put(objects.fee_refund(fee, amount, change.now))
    fee["amount_refunded"] += amount
    fee["refunded"] = fee["amount_refunded"] == fee["amount"]
    fee["refunds"]["data"].insert(0, made)
    change.emit("application_fee.refunded", fee)


def _share(part: int, whole: int, total: int, taken_back: int, *, all_of_it: bool) -> int:
    """`part / whole` of `total`, rounded down as Stripe rounds, never more than is left of it after
    what was `taken_back`; all that is left once the whole is used up, so that taking back in parts
    adds up to the total."""
    left = total - taken_back
    return left if all_of_it else min(part * total // whole, left)


# -- destination charges ------------------------------------------------------------------------

def check_destination_charge(change: Change, intent_data: dict[str, Any], total: int, currency: str) -> None:
    """Refuse at session creation what Stripe refuses: a destination that cannot be paid, a fee
    without a destination, a fee larger than the payment."""
    destination = intent_data.get("transfer_data", {}).get("destination")
    fee = intent_data.get("application_fee_amount")
    if destination is not None:
        _payable_account(change, destination, DESTINATION_PARAM)
    if fee is None:
        return
    if destination is None:
        raise ParamError("Can only apply an application_fee_amount when the PaymentIntent is attempting a "
                         "direct payment (using an OAuth key or Stripe-Account header) or destination payment "
                         "(using `transfer_data[destination]`).", FEE_PARAM)
    if fee > total:
        raise ParamError(f"The application fee ({Money(fee, currency).formatted()}) cannot be greater than the "
                         f"amount of the payment ({Money(total, currency).formatted()}).", FEE_PARAM)


def pay_destination(change: Change, charge: StripeObject) -> None:
    """A destination charge succeeded: the platform keeps its fee and transfers the rest."""
    destination = charge["transfer_data"]["destination"]
    fee_amount = charge["application_fee_amount"] or 0
    if fee_amount:
        fee = change.state.put(objects.application_fee(charge, destination, change.now))
        charge["application_fee"] = fee["id"]
        change.emit("application_fee.created", fee)
    transfer = _send(change, {"amount": charge["amount"] - fee_amount, "currency": charge["currency"],
                              "destination": destination, "source_transaction": charge["id"],
                              "transfer_group": charge["transfer_group"]})
    charge["transfer"] = transfer["id"]


def check_refund_reversal(charge: StripeObject, reverse_transfer: bool) -> None:
    if reverse_transfer and charge["transfer"] is None:
        raise ParamError(f"Charge {charge['id']} has no transfer to reverse: `reverse_transfer` applies to "
                         "destination charges.", "reverse_transfer")


def undo_destination_payment(change: Change, charge: StripeObject, refund: StripeObject, *,
                             reverse_transfer: bool, refund_application_fee: bool) -> None:
    """Take back from the destination, and give back of the fee, the refund's share of the charge:
    Stripe reverses ``refund amount * transfer amount / charge amount``, rounded down."""
    fully_refunded = charge["refunded"]
    if reverse_transfer:
        transfer = change.state.get("transfer", charge["transfer"])
        amount = _share(refund["amount"], charge["amount"], transfer["amount"], transfer["amount_reversed"],
                        all_of_it=fully_refunded)
        if amount:
            refund["transfer_reversal"] = _reverse(change, transfer, amount, {}, refund["id"])["id"]
    if refund_application_fee and charge["application_fee"] is not None:
        fee = change.state.get("application_fee", charge["application_fee"])
        _refund_fee(change, fee, _share(refund["amount"], charge["amount"], fee["amount"], fee["amount_refunded"],
                                        all_of_it=fully_refunded))
