"""Accounts: the companies leads belong to (the rules that decide it are domain/accounts.py)."""
