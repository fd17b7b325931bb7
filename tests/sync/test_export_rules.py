"""The upload's declarations (``sync/export/rules.py``): what goes first, what shares a request, the limits
it keeps, and how a run's result reads to the user (the status line and the command's JSON)."""

from __future__ import annotations

from kcc_desktop.models import ItemType
from kcc_desktop.sync.export import rules
from kcc_desktop.sync.export.rules import StopRun, Summary, not_answering


def test_dependencies_go_first_and_documents_share_requests_by_family():
    assert rules.PHASES == ((ItemType.COMPANY,), (ItemType.STOCK_ITEM,), rules.DOC_TYPES,
                            (ItemType.PREPAYMENT_ALLOCATION,))
    assert set(rules.DOC_TYPES) == {ItemType.SALES_INVOICE, ItemType.SALES_CREDIT, ItemType.PURCHASE_INVOICE,
                                    ItemType.PURCHASE_CREDIT}
    family = rules.BATCH_FAMILY
    assert family[ItemType.SALES_INVOICE] == family[ItemType.PURCHASE_INVOICE]      # Xero's /Invoices
    assert family[ItemType.SALES_CREDIT] == family[ItemType.PURCHASE_CREDIT]        # Xero's /CreditNotes
    assert family[ItemType.SALES_INVOICE] != family[ItemType.SALES_CREDIT]


def test_the_limits_it_keeps():
    assert rules.REPLAY_WINDOW.total_seconds() == 5 * 60    # inside the packages' ~6 minutes of idempotency
    assert rules.PIPELINE == 3 and rules.CONSECUTIVE_FAILURES == 3
    assert rules.OTHERS_PATIENCE == 600.0 and rules.SAVE_EVERY == 10
    assert rules.SALT_KEY == "export.key_salt"


def test_a_clean_run_reads_as_counts_only():
    s = Summary(exported=1234, pending=5)
    assert s.ok
    assert s.text == "1,234 exported."   # counts of the run, not of the whole queue
    assert s.as_dict() == {"exported": 1234, "failed": 0, "pending": 5}
    assert s.exported_ids == [] and s.failed_ids == [] and Summary().exported_ids is not Summary().exported_ids


def test_every_kind_of_trouble_is_named_in_the_status_line():
    s = Summary(exported=2, failed=1234, held=2000, elsewhere=3000, pending=4000, cancelled=True,
                stopped="Xero is not answering.")
    assert s.text == ("Xero is not answering. 2 exported, 1,234 failed (see Error Feedback), 2,000 held back, "
                      "3,000 being sent from another desk, cancelled.")
    assert s.as_dict() == {"exported": 2, "failed": 3234, "pending": 4000, "elsewhere": 3000}


def test_any_failure_hold_or_stop_is_not_ok():
    assert not Summary(failed=1).ok
    assert not Summary(held=1).ok
    assert not Summary(stopped="x").ok
    assert Summary(elsewhere=1, cancelled=True).ok     # neither is a failure of this run
    assert Summary(held=1).text == "0 exported, 1 held back."
    assert Summary(elsewhere=1).text == "0 exported, 1 being sent from another desk."
    assert Summary(cancelled=True).text == "0 exported, cancelled."
    assert Summary(failed=1).text == "0 exported, 1 failed (see Error Feedback)."


def test_stopping_says_why_and_whether_a_sign_in_is_needed():
    stop = not_answering("QuickBooks")
    assert isinstance(stop, StopRun) and stop.sign_in is False
    assert str(stop) == "QuickBooks is not answering; nothing was lost; try again later."
    assert StopRun("Signed out.", sign_in=True).sign_in is True
    assert StopRun("x").sign_in is False
