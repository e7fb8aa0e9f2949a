"""Stripe's objects as plain JSON-ready dicts, with the fields and shapes Stripe sends.

Fields the sandbox has no use for are present with Stripe's empty values, so code written
against these objects meets the same keys it will meet in production.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

API_VERSION = "2026-10-28.endive"

_ALPHABET = string.ascii_letters + string.digits
# Id prefixes of the objects the sandbox keeps, by Stripe object type.
ID_PREFIXES = {
    "checkout.session": "cs_test",
    "payment_intent": "pi",
    "charge": "ch",
    "refund": "re",
    "dispute": "dp",
    "event": "evt",
    "product": "prod",
    "account": "acct",
    "transfer": "tr",
    "transfer_reversal": "trr",
    "application_fee": "fee",
    "fee_refund": "fr",
}
# Checkout Session ids are much longer than others, connected account ids shorter.
_ID_LENGTHS = {"checkout.session": 58, "account": 16}


def random_token(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_{random_token(length)}"


def new_object_id(kind: str) -> str:
    return new_id(ID_PREFIXES[kind], _ID_LENGTHS.get(kind, 24))


def kind_of(object_id: str) -> str | None:
    """The object type an id names, judged by its prefix as a reader of Stripe ids would."""
    for kind, prefix in ID_PREFIXES.items():
        if object_id.startswith(prefix + "_"):
            return kind
    return None


def list_object(data: list[dict[str, Any]], url: str, has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def _address() -> dict[str, None]:
    return dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"))


def customer_details(email: str) -> dict[str, Any]:
    return {"address": _address(), "email": email, "name": None, "phone": None, "tax_exempt": "none",
            "tax_ids": [], "business_name": None, "individual_name": None}


def product(data: dict[str, Any], now: int) -> dict[str, Any]:
    return {
        "id": new_object_id("product"), "object": "product", "active": True, "created": now,
        "default_price": None, "description": data.get("description"), "images": [], "livemode": False,
        "marketing_features": [], "metadata": data.get("metadata", {}), "name": data["name"],
        "package_dimensions": None, "shippable": None, "statement_descriptor": None, "tax_code": None,
        "type": "service", "unit_label": None, "updated": now, "url": None,
    }


def line_item(quantity: int, currency: str, unit_amount: int, item_product: dict[str, Any],
              now: int) -> dict[str, Any]:
    """An item of a Checkout Session, with the one-off price Stripe makes from `price_data`."""
    amount = unit_amount * quantity
    price = {
        "id": new_id("price"), "object": "price", "active": False, "billing_scheme": "per_unit",
        "created": now, "currency": currency, "custom_unit_amount": None, "livemode": False,
        "lookup_key": None, "metadata": {}, "nickname": None, "product": item_product["id"],
        "recurring": None, "tax_behavior": "unspecified", "tiers_mode": None, "transform_quantity": None,
        "type": "one_time", "unit_amount": unit_amount, "unit_amount_decimal": str(unit_amount),
    }
    return {
        "id": new_id("li"), "object": "item", "amount_discount": 0, "amount_subtotal": amount,
        "amount_tax": 0, "amount_total": amount, "currency": currency, "description": item_product["name"],
        "metadata": {}, "price": price, "quantity": quantity,
    }


def checkout_session(session_id: str, params: dict[str, Any], items: list[dict[str, Any]],
                     expires_at: int, url: str, now: int) -> dict[str, Any]:
    """A new, open Checkout Session from the checked parameters of its creation."""
    total = sum(item["amount_total"] for item in items)
    return {
        "id": session_id, "object": "checkout.session", "adaptive_pricing": {"enabled": False},
        "after_expiration": None, "allow_promotion_codes": None, "amount_subtotal": total,
        "amount_total": total, "automatic_tax": {"enabled": False, "liability": None, "provider": None,
                                                 "status": None},
        "billing_address_collection": None, "cancel_url": params.get("cancel_url"),
        "client_reference_id": params.get("client_reference_id"), "client_secret": None,
        "collected_information": None, "consent": None, "consent_collection": None, "created": now,
        "currency": items[0]["currency"], "currency_conversion": None, "custom_fields": [],
        "custom_text": {"after_submit": None, "shipping_address": None, "submit": None,
                        "terms_of_service_acceptance": None},
        "customer": None, "customer_account": None, "customer_creation": "if_required",
        "customer_details": None, "customer_email": params.get("customer_email"), "discounts": [],
        "expires_at": expires_at, "integration_identifier": None, "invoice": None,
        "invoice_creation": {"enabled": False, "invoice_data": {
            "account_tax_ids": None, "custom_fields": None, "description": None, "footer": None,
            "issuer": None, "metadata": {}, "rendering_options": None}},
        "livemode": False, "locale": params.get("locale"), "managed_payments": {"enabled": False},
        "metadata": params.get("metadata", {}), "mode": params["mode"], "origin_context": None,
        "payment_intent": None, "payment_link": None, "payment_method_collection": "if_required",
        "payment_method_configuration_details": None, "payment_method_options": {},
        "payment_method_types": params.get("payment_method_types", ["card"]),
        "payment_status": "unpaid", "permissions": None, "phone_number_collection": {"enabled": False},
        "recovered_from": None, "saved_payment_method_options": None, "setup_intent": None,
        "shipping_address_collection": None, "shipping_cost": None, "shipping_options": [],
        "status": "open", "submit_type": params.get("submit_type"), "subscription": None,
        "success_url": params["success_url"],
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted", "url": url, "wallet_options": None,
    }


def payment_intent(session: dict[str, Any], intent_data: dict[str, Any], method_type: str,
                   now: int) -> dict[str, Any]:
    """The PaymentIntent Checkout makes when the customer submits, from `payment_intent_data`:
    processing until the money arrives."""
    intent_id = new_object_id("payment_intent")
    destination = intent_data.get("transfer_data", {}).get("destination")
    return {
        "id": intent_id, "object": "payment_intent", "amount": session["amount_total"],
        "amount_capturable": 0, "amount_details": {"tip": {}}, "amount_received": 0, "application": None,
        "application_fee_amount": intent_data.get("application_fee_amount"),
        "automatic_payment_methods": None, "canceled_at": None, "cancellation_reason": None,
        "capture_method": "automatic", "client_secret": f"{intent_id}_secret_{random_token(25)}",
        "confirmation_method": "automatic", "created": now, "currency": session["currency"],
        "customer": None, "customer_account": None, "description": intent_data.get("description"),
        "excluded_payment_method_types": None, "last_payment_error": None, "latest_charge": None,
        "livemode": False, "metadata": intent_data.get("metadata", {}), "next_action": None,
        "on_behalf_of": None, "payment_method": new_id("pm"),
        "payment_method_configuration_details": None, "payment_method_options": {},
        "payment_method_types": [method_type], "processing": None,
        "receipt_email": None, "review": None, "setup_future_usage": None, "shipping": None,
        "source": None, "statement_descriptor": None, "statement_descriptor_suffix": None,
        "status": "processing", "transfer_data": {"destination": destination} if destination else None,
        "transfer_group": intent_data.get("transfer_group"),
    }


def payment_failure(method_type: str) -> dict[str, Any]:
    """`last_payment_error` of a bank payment that did not settle."""
    return {"type": "invalid_request_error", "code": "payment_method_provider_decline",
            "message": "The customer's bank declined the payment.", "payment_method": {"type": method_type}}


def _payment_method_details(method_type: str) -> dict[str, Any]:
    if method_type == "card":
        return {"type": "card", "card": {"brand": "visa", "country": "US", "exp_month": 12,
                                         "exp_year": 2034, "funding": "credit", "last4": "4242",
                                         "network": "visa"}}
    return {"type": method_type, method_type: {"bank_name": "STRIPE TEST BANK", "last4": "6789"}}


def charge(intent: dict[str, Any], email: str, method_type: str, now: int) -> dict[str, Any]:
    """The successful charge of a PaymentIntent, for its whole amount."""
    transfer_data = intent["transfer_data"]
    return {
        "id": new_object_id("charge"), "object": "charge", "amount": intent["amount"],
        "amount_captured": intent["amount"], "amount_refunded": 0, "application": None,
        "application_fee": None, "application_fee_amount": intent["application_fee_amount"],
        "balance_transaction": new_id("txn"),
        "billing_details": {"address": _address(), "email": email, "name": None, "phone": None,
                            "tax_id": None},
        "calculated_statement_descriptor": "SANDBOX", "captured": True, "created": now,
        "currency": intent["currency"], "customer": None, "description": intent["description"],
        "disputed": False, "failure_balance_transaction": None, "failure_code": None,
        "failure_message": None, "fraud_details": {}, "livemode": False, "metadata": intent["metadata"],
        "on_behalf_of": None,
        "outcome": {"advice_code": None, "network_advice_code": None, "network_decline_code": None,
                    "network_status": "approved_by_network", "reason": None, "risk_level": "normal",
                    "seller_message": "Payment complete.", "type": "authorized"},
        "paid": True, "payment_intent": intent["id"], "payment_method": intent["payment_method"],
        "payment_method_details": _payment_method_details(method_type), "receipt_email": None,
        "receipt_number": None, "receipt_url": None, "refunded": False, "review": None, "shipping": None,
        "source": None, "source_transfer": None, "statement_descriptor": None,
        "statement_descriptor_suffix": None, "status": "succeeded",
        "transfer": None,  # the transfer to the destination of a destination charge, once made
        "transfer_data": {"amount": None, **transfer_data} if transfer_data else None,
        "transfer_group": intent["transfer_group"],
    }


def refund(refunded_charge: dict[str, Any], amount: int, reason: str | None,
           metadata: dict[str, str], now: int) -> dict[str, Any]:
    return {
        "id": new_object_id("refund"), "object": "refund", "amount": amount,
        "balance_transaction": new_id("txn"), "charge": refunded_charge["id"], "created": now,
        "currency": refunded_charge["currency"], "customer": None, "customer_account": None,
        "destination_details": {"type": "card", "card": {"type": "refund"}}, "metadata": metadata,
        "payment_intent": refunded_charge["payment_intent"],
        "payment_method": refunded_charge["payment_method"], "reason": reason, "receipt_number": None,
        "source_transfer_reversal": None, "status": "succeeded", "transfer_reversal": None,
    }


_EVIDENCE_FIELDS = (
    "access_activity_log", "billing_address", "cancellation_policy", "cancellation_policy_disclosure",
    "cancellation_rebuttal", "customer_communication", "customer_email_address", "customer_name",
    "customer_purchase_ip", "customer_signature", "duplicate_charge_documentation",
    "duplicate_charge_explanation", "duplicate_charge_id", "product_description", "receipt",
    "refund_policy", "refund_policy_disclosure", "refund_refusal_explanation", "service_date",
    "service_documentation", "shipping_address", "shipping_carrier", "shipping_date",
    "shipping_documentation", "shipping_tracking_number", "uncategorized_file", "uncategorized_text",
)
_EVIDENCE_DAYS = 7


def dispute(disputed_charge: dict[str, Any], reason: str, now: int) -> dict[str, Any]:
    """A chargeback on the whole charge, waiting for the merchant's evidence."""
    return {
        "id": new_object_id("dispute"), "object": "dispute", "amount": disputed_charge["amount"],
        "balance_transactions": [], "charge": disputed_charge["id"], "created": now,
        "currency": disputed_charge["currency"],
        "enhanced_eligibility_types": [],
        "evidence": {**dict.fromkeys(_EVIDENCE_FIELDS), "enhanced_evidence": {}},
        "evidence_details": {"due_by": now + _EVIDENCE_DAYS * 86400, "enhanced_eligibility": {},
                             "has_evidence": False, "past_due": False, "submission_count": 0},
        "is_charge_refundable": False, "livemode": False, "metadata": {},
        "payment_intent": disputed_charge["payment_intent"],
        "payment_method_details": {"type": "card", "card": {"brand": "visa", "case_type": "chargeback",
                                                            "network_reason_code": "10.4"}},
        "reason": reason, "status": "needs_response",
    }


def event(event_type: str, snapshot: dict[str, Any], request: dict[str, str | None], now: int,
          account: str | None = None) -> dict[str, Any]:
    """A snapshot event: `data.object` is the object as it was when the event happened.

    Events about a connected account name it in `account`, as Stripe's Connect events do.
    """
    connected = {"account": account} if account else {}
    return {
        "id": new_object_id("event"), "object": "event", **connected, "api_version": API_VERSION,
        "created": now, "data": {"object": snapshot}, "livemode": False, "pending_webhooks": 1,
        "request": request, "type": event_type,
    }


# -- Connect ---------------------------------------------------------------------------------

PLATFORM_APPLICATION = "ca_SandboxPlatformApplication00000"  # the marketplace, as Connect names it
PLATFORM_COUNTRY = "US"
_EURO_COUNTRIES = ("AT", "BE", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR", "IE", "IT", "LT", "LU",
                   "LV", "MT", "NL", "PT", "SI", "SK")
# Countries the sandbox opens connected accounts in, with the currency their payouts are made in.
CONNECT_CURRENCIES = {
    "US": "usd", "CA": "cad", "GB": "gbp", "AU": "aud", "NZ": "nzd", "JP": "jpy", "SG": "sgd",
    "HK": "hkd", "CH": "chf", "SE": "sek", "NO": "nok", "DK": "dkk", "PL": "pln", "MX": "mxn",
    "BR": "brl", **dict.fromkeys(_EURO_COUNTRIES, "eur"),
}
# What Stripe asks an Express account for before it can be paid out; the onboarding page
# stands in for the forms that collect them.
ONBOARDING_REQUIREMENTS = ("business_profile.mcc", "business_profile.url", "external_account",
                           "individual.dob.day", "individual.first_name", "individual.last_name",
                           "tos_acceptance.date", "tos_acceptance.ip")
# An account type as Stripe's `controller` describes it: (fee payer, who covers losses,
# who collects requirements, dashboard).
_CONTROLLERS = {
    "express": ("application_express", "application", "stripe", "express"),
    "custom": ("application_custom", "application", "application", "none"),
    "standard": ("account", "stripe", "stripe", "full"),
}
_BUSINESS_PROFILE_FIELDS = ("mcc", "name", "product_description", "support_email", "support_phone",
                            "support_url", "url")


def account(params: dict[str, Any], requested_capabilities: list[str], now: int) -> dict[str, Any]:
    """A connected account as created: nothing submitted, its capabilities waiting for onboarding."""
    account_id = new_object_id("account")
    country = params.get("country", PLATFORM_COUNTRY)
    return {
        "id": account_id, "object": "account",
        "business_profile": _business_profile(params.get("business_profile", {})),
        "business_type": params.get("business_type"),
        "capabilities": dict.fromkeys(sorted(requested_capabilities), "inactive"),
        "charges_enabled": False, "controller": _controller(params["type"]), "country": country,
        "created": now, "default_currency": CONNECT_CURRENCIES[country], "details_submitted": False,
        "email": params.get("email"),
        "external_accounts": list_object([], f"/v1/accounts/{account_id}/external_accounts"),
        "future_requirements": account_requirements(()), "metadata": params.get("metadata", {}),
        "payouts_enabled": False, "requirements": account_requirements(ONBOARDING_REQUIREMENTS),
        "settings": _account_settings(), "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "type": params["type"],
    }


def account_requirements(due: tuple[str, ...]) -> dict[str, Any]:
    """`requirements` of an account that owes `due` now: until it is given, the account is disabled."""
    return {
        "alternatives": [], "current_deadline": None, "currently_due": list(due),
        "disabled_reason": "requirements.past_due" if due else None, "errors": [],
        "eventually_due": list(due), "past_due": list(due), "pending_verification": [],
    }


def _business_profile(given: dict[str, str]) -> dict[str, Any]:
    return {"annual_revenue": None, "estimated_worker_count": None,
            **{field: given.get(field) for field in _BUSINESS_PROFILE_FIELDS},
            "minority_owned_business_designation": None, "support_address": None}


def _controller(account_type: str) -> dict[str, Any]:
    fee_payer, losses, requirement_collection, dashboard = _CONTROLLERS[account_type]
    return {"type": "application", "is_controller": True, "fees": {"payer": fee_payer},
            "losses": {"payments": losses}, "requirement_collection": requirement_collection,
            "stripe_dashboard": {"type": dashboard}}


def _account_settings() -> dict[str, Any]:
    descriptors = dict.fromkeys(("statement_descriptor", "statement_descriptor_kana",
                                 "statement_descriptor_kanji"))
    return {
        "branding": dict.fromkeys(("icon", "logo", "primary_color", "secondary_color")),
        "card_payments": {"decline_on": {"avs_failure": False, "cvc_failure": False},
                          "statement_descriptor_prefix": None, "statement_descriptor_prefix_kana": None,
                          "statement_descriptor_prefix_kanji": None},
        "dashboard": {"display_name": None, "timezone": "Etc/UTC"},
        "payments": descriptors,
        "payouts": {"debit_negative_balances": True, "schedule": {"delay_days": 2, "interval": "daily"},
                    "statement_descriptor": None},
    }


def account_link(url: str, now: int, expires_at: int) -> dict[str, Any]:
    return {"object": "account_link", "created": now, "expires_at": expires_at, "url": url}


def application() -> dict[str, Any]:
    """The platform's Connect application, as `account.application.deauthorized` shows it."""
    return {"id": PLATFORM_APPLICATION, "object": "application", "name": "Sandbox platform"}


def transfer(params: dict[str, Any], now: int) -> dict[str, Any]:
    """Money sent to a connected account, from checked `amount`, `currency`, `destination` and the
    optional `source_transaction`, `transfer_group`, `description` and `metadata`."""
    transfer_id = new_object_id("transfer")
    return {
        "id": transfer_id, "object": "transfer", "amount": params["amount"], "amount_reversed": 0,
        "balance_transaction": new_id("txn"), "created": now, "currency": params["currency"],
        "description": params.get("description"), "destination": params["destination"],
        "destination_payment": new_id("py"), "livemode": False, "metadata": params.get("metadata", {}),
        "reversals": list_object([], f"/v1/transfers/{transfer_id}/reversals"), "reversed": False,
        "source_transaction": params.get("source_transaction"), "source_type": "card",
        "transfer_group": params.get("transfer_group"),
    }


def transfer_reversal(reversed_transfer: dict[str, Any], amount: int, metadata: dict[str, str],
                      source_refund: str | None, now: int) -> dict[str, Any]:
    return {
        "id": new_object_id("transfer_reversal"), "object": "transfer_reversal", "amount": amount,
        "balance_transaction": new_id("txn"), "created": now, "currency": reversed_transfer["currency"],
        "destination_payment_refund": new_id("pyr"), "metadata": metadata, "source_refund": source_refund,
        "transfer": reversed_transfer["id"],
    }


def application_fee(fee_charge: dict[str, Any], account_id: str, now: int) -> dict[str, Any]:
    """The platform's cut of a destination charge, collected from the destination account."""
    fee_id = new_object_id("application_fee")
    return {
        "id": fee_id, "object": "application_fee", "account": account_id,
        "amount": fee_charge["application_fee_amount"], "amount_refunded": 0,
        "application": PLATFORM_APPLICATION, "balance_transaction": new_id("txn"),
        "charge": fee_charge["id"], "created": now, "currency": fee_charge["currency"],
        "fee_source": {"charge": fee_charge["id"], "type": "charge"}, "livemode": False,
        "originating_transaction": None, "refunded": False,
        "refunds": list_object([], f"/v1/application_fees/{fee_id}/refunds"),
    }


def fee_refund(refunded_fee: dict[str, Any], amount: int, now: int) -> dict[str, Any]:
    return {
        "id": new_object_id("fee_refund"), "object": "fee_refund", "amount": amount,
        "balance_transaction": new_id("txn"), "created": now, "currency": refunded_fee["currency"],
        "fee": refunded_fee["id"], "metadata": {},
    }
