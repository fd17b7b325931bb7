"""Sync services between the ledger and the accounting package: options, mapping, export, import."""
