"""Accounts: users, roles, bearer tokens, and the checks views use to know who is calling."""
