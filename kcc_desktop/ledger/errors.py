"""Expected ledger failures, each in words a bookkeeper can act on."""


class LedgerError(Exception):
    """A ledger rule refused the change; nothing was written."""


class PaymentGuardError(LedgerError):
    """With the integration enabled, account customers' payments are recorded in the accounting package."""
