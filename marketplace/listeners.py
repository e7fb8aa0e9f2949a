"""Every hook that runs one package's code on another's events, in one place.

SQLAlchemy's session and mapper events are process-wide, and checkout's signals are heard by
the packages built on it; `register_listeners()` connects them all when an app is created
(the web app, the CLI, a Celery worker: each goes through `create_app`). Registering twice
changes nothing, so a process may create several apps (the tests do). Within one event,
listeners run in the order of the tables below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.catalog import models as catalog
from marketplace.catalog.models import Beat, BeatCredit, BeatTag
from marketplace.checkout import signals
from marketplace.common import append_only
from marketplace.jobs import dispatch
from marketplace.licensing import models as licensing
from marketplace.licensing.models import LicenseTier, Offer
from marketplace.moderation import audit
from marketplace.moderation.models import AuditEntry
from marketplace.payouts import services as payouts
from marketplace.payouts.ledger import LedgerIsAppendOnly
from marketplace.payouts.models import LedgerEntry
from marketplace.proposals import tasks as proposals
from marketplace.storage import service as storage

# (target, event, listener): what each does, and why it cannot be an explicit call.
DATABASE_LISTENERS: tuple[tuple[Any, str, Callable[..., Any]], ...] = (
    # Jobs queued in a transaction go to the runner only once it commits, and are forgotten
    # with what rolls back (a savepoint's own jobs only): enqueue cannot know how it will end.
    (Session, "after_commit", dispatch.dispatch_after_commit),
    (Session, "after_soft_rollback", dispatch.forget_after_rollback),
    # Files stored in a transaction are deleted if it rolls back; files it no longer names are
    # deleted once it commits (storage.service.save_in_transaction, delete_after_commit).
    (Session, "after_commit", storage.keep_files_after_commit),
    (Session, "after_soft_rollback", storage.delete_files_after_rollback),
    # A listed beat's revision (the listing cache's key) goes up with every ORM write that
    # changes what its listing shows, whatever code path makes it: the beat, its credits and
    # tags, its owner's or a credited person's name, its offers and their tiers' terms.
    (Session, "before_flush", catalog.forget_changes_of_failed_flushes),
    (Session, "after_flush", catalog.bump_changed_listings),
    (Beat, "before_update", catalog.beat_changed),
    *((part, change, catalog.beat_part_changed)
      for part in (BeatCredit, BeatTag) for change in ("after_insert", "after_update", "after_delete")),
    (User, "after_update", catalog.owner_renamed),
    *((Offer, change, licensing.offer_changed) for change in ("after_insert", "after_update", "after_delete")),
    *((LicenseTier, change, licensing.tier_changed) for change in ("after_update", "after_delete")),
    # Ledgers and logs are written once: a flush or a bulk statement that would change or
    # delete one of their rows fails (append_only.refuse_changes declares which models).
    (Session, "before_flush", append_only.refuse_in_flush),
    (Session, "do_orm_execute", append_only.refuse_in_bulk),
)

# Models whose rows are never changed nor deleted, and the error a change raises.
APPEND_ONLY: tuple[tuple[type, type[Exception]], ...] = (
    (AuditEntry, audit.AuditLogIsAppendOnly),  # moderation's audit log
    (LedgerEntry, LedgerIsAppendOnly),  # payouts' earnings ledger
)

# (checkout's signal, listener), run in the transaction that changed the order.
ORDER_LISTENERS: tuple[tuple[str, Callable[..., None]], ...] = (
    # Payouts keep the earnings ledger: shares on a sale, taken back on a refund or a lost
    # dispute, held while a dispute is open.
    (signals.ORDER_PAID, payouts.record_sale),
    (signals.ORDER_REFUNDED, payouts.record_refund),
    (signals.LINES_REFUNDED, payouts.record_refunded_lines),
    (signals.PAYMENT_PARTLY_REFUNDED, payouts.record_partial_refund),
    (signals.DISPUTE_OPENED, payouts.hold_for_dispute),
    (signals.DISPUTE_WON, payouts.release_dispute),
    (signals.DISPUTE_LOST, payouts.record_refund),
    # An exclusive sold ends every open proposal on its beat.
    (signals.ORDER_PAID, proposals.end_proposals_of_sold_exclusives),
    # Moderation's audit log records who refunded what, and the automatic refunds.
    (signals.REFUND_REQUESTED, audit.record_refund_request),
    (signals.PAYMENT_REFUSED, audit.record_refused_payment),
    (signals.LINE_REFUNDED, audit.record_line_refund),
)


def register_listeners() -> None:
    for model, error in APPEND_ONLY:
        append_only.refuse_changes(model, error)
    for target, name, listener in DATABASE_LISTENERS:
        if not event.contains(target, name, listener):
            event.listen(target, name, listener)
    for signal, listener in ORDER_LISTENERS:
        signals.connect(signal, listener)
