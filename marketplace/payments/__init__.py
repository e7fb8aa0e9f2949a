"""Payments: Stripe behind checkout's payment port, the webhook endpoint, and a Stripe sandbox."""
