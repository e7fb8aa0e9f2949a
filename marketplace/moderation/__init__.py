"""Moderation: reports, takedowns, pre-moderation reviews, strikes, suspensions, and the
append-only audit log every moderation action (by an admin, an operator or the system) writes."""
