"""Ledger rules: posting, balances, the trial balance and the payment guard. Qt-free."""
