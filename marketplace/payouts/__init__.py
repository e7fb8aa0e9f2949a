"""Payouts: what each sale earns its beatmakers and collaborators, and paying them through
Stripe Connect.

Money is followed in an append-only earnings ledger (`ledger`): one row per payee per sale,
platform fee, transfer, refund, transfer reversal and dispute hold or release. Balances are
sums over it, never stored counters. Checkout tells this package when an order is paid,
refunded or disputed (its signals, connected by marketplace.listeners); the work that talks to Stripe runs in jobs (`tasks`).
"""
