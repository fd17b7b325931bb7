"""The layer between the ledger and the accounting package: one interface, two providers."""
