"""Checkout: carts priced into orders, exclusive holds, coupons and deals, fulfilment."""
