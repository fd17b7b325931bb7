"""Accounts → Trial Balance: the figures for a date range, and the range the journal covers."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from ..ledger.trial_balance import TrialBalance, trial_balance
from ..models import JournalLine
from ..store import Store


def journal_date_range(store: Store, today: date) -> tuple[date, date]:
    """From the first journal date to today (or the last journal date, if later): the whole ledger."""
    with store.session() as s:
        first, last = s.execute(select(func.min(JournalLine.date), func.max(JournalLine.date))).tuples().one()
    return (first or today.replace(month=1, day=1)), max(last or today, today)


def trial_balance_for(store: Store, date_from: date, date_to: date) -> TrialBalance:
    """Debits and credits per nominal code (plain values: safe to hand from a worker thread to the window)."""
    with store.session() as s:
        return trial_balance(s, date_from, date_to)
