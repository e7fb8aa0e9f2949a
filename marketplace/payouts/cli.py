"""``flask payouts reconcile``: check the earnings ledger against orders and Stripe."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.payouts import reconcile

payouts_cli = AppGroup("payouts", help="Payouts to beatmakers and collaborators.")


@payouts_cli.command("reconcile")
@click.option("--offline", is_flag=True,
              help="Check the database only; do not ask Stripe about transfers and charges.")
def reconcile_command(offline: bool) -> None:
    """Every settled order's lines have ledger rows adding up to their prices (a refunded line or
    order: refund rows taking all of it back; a partial refund: as much taken back as was given
    back), every paid transfer has its ledger rows and matches Stripe's, and every charge at
    Stripe is refunded or is the payment of a settled order; money held for a pending credit
    stays held only while its invitation is pending, and each release pays out what it took.
    Prints each difference; exits 1 when there is any."""
    differences: list[str] = []
    orders, transfers = reconcile.orders_to_check(), reconcile.transfers_to_check()
    charges = [] if offline else reconcile.charges_to_check()
    with click.progressbar(length=len(orders) + len(transfers) + len(charges), label="Reconciling",
                           show_pos=True) as progress:
        for order_id in orders:
            differences += reconcile.order_differences(order_id)
            progress.update(1)
        for transfer_id in transfers:
            differences += reconcile.transfer_differences(transfer_id, ask_provider=not offline)
            progress.update(1)
        for charge in charges:
            differences += reconcile.charge_differences(charge)
            progress.update(1)
    for invitation_id in reconcile.invitations_to_check():
        differences += reconcile.held_differences(invitation_id)
    for difference in differences:
        click.echo(difference)
    click.echo(f"checked {len(orders)} orders, {len(transfers)} transfers and {len(charges)} charges: "
               + (f"{len(differences)} differences" if differences else "no difference"))
    if differences:
        raise SystemExit(1)
