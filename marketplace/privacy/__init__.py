"""What the store holds about a person: a copy of it for them, and closing their account."""
