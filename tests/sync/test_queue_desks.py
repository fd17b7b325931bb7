"""Desks starting an upload together on a company whose queue is not yet filled for the organisation connected:
one fills it, the other finds it done. bench_desks.py's three QuickBooks desks on PostgreSQL lost two desks
to "duplicate key value violates unique constraint pk_app_setting (export.queued_target)"."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, func, select, text

from kcc_desktop.models import AppSetting, ExportItem, ExportStatus
from kcc_desktop.settings_db import upsert
from kcc_desktop.sync.export import ExportService
from kcc_desktop.sync.queue import QUEUED_TARGET_KEY, install_queue_listeners
from kcc_desktop.sync.target import PROVIDER_KEY, TENANT_KEY
from tests.helpers.ledger import build_ledger


def _connect(store, provider: str, tenant: str) -> None:
    with store.transaction() as s:
        upsert(s, store.is_postgres, PROVIDER_KEY, provider)
        upsert(s, store.is_postgres, TENANT_KEY, tenant)


def test_a_desk_that_found_the_queue_unfilled_while_another_filled_it_takes_the_other_ones_work(store):
    """Desk B reads that the queue was not filled for QuickBooks; before it writes anything, desk A fills it and
    commits. B then makes ready without an error, and every object is pending once for QuickBooks."""
    install_queue_listeners()
    build_ledger(store, invoices=3)
    _connect(store, "quickbooks", "9341453050000001")
    desk_b = threading.get_ident()
    a_done: list[object] = []
    a_errors: list[BaseException] = []

    def desk_a() -> None:
        try:
            a_done.append(ExportService(store).prepare())
        except BaseException as exc:   # reported by the assertion below
            a_errors.append(exc)

    def after_b_looked(conn, cursor, statement, parameters, context, executemany):
        looked = "app_setting" in statement.lower() and QUEUED_TARGET_KEY in str(parameters)
        if looked and not a_done and not a_errors and threading.get_ident() == desk_b:
            a = threading.Thread(target=desk_a)
            a.start()
            a.join()

    event.listen(store.engine, "after_cursor_execute", after_b_looked)
    try:
        target_b = ExportService(store).prepare()
    finally:
        event.remove(store.engine, "after_cursor_execute", after_b_looked)

    assert a_errors == [] and a_done == [target_b]
    assert (target_b.provider, target_b.tenant_id) == ("quickbooks", "9341453050000001")
    with store.session() as s:
        assert s.scalar(select(AppSetting.value).where(AppSetting.key == QUEUED_TARGET_KEY)) == \
            "quickbooks/9341453050000001"
        pending = select(ExportItem.item_type, ExportItem.object_id, func.count()).where(
            ExportItem.provider == "quickbooks", ExportItem.status == ExportStatus.PENDING,
        ).group_by(ExportItem.item_type, ExportItem.object_id)
        counts = s.execute(pending).all()
        xero_rows = s.scalar(select(func.count()).select_from(ExportItem).where(ExportItem.provider == "xero"))
    assert counts and all(n == 1 for *_, n in counts)
    assert len(counts) == xero_rows   # everything the ledger queued for Xero is now pending for QuickBooks too


def test_two_desks_both_finding_the_queue_unfilled_do_not_both_record_it(store):
    """PostgreSQL, as bench_desks met it: the queue is filled for QuickBooks but the file does not record it (a
    file from an older version), so each desk's fill adds nothing and takes no row lock. Desk A has looked
    twice and found nothing recorded; desk B runs now. B either finishes or waits for A; either way A then
    records the target and neither fails on the setting's unique key."""
    from tests.helpers.engines import engine_under_test

    if engine_under_test() != "postgresql":
        pytest.skip("PostgreSQL only: on SQLite the fill's INSERT takes the single write lock, so desks queue there")
    install_queue_listeners()
    build_ledger(store, invoices=3)
    _connect(store, "quickbooks", "9341453050000001")
    ExportService(store).prepare()
    with store.transaction() as s:
        s.execute(AppSetting.__table__.delete().where(AppSetting.key == QUEUED_TARGET_KEY))
    desk_a = threading.get_ident()
    looks = 0
    b_done: list[object] = []
    b_errors: list[BaseException] = []

    def desk_b() -> None:
        try:
            b_done.append(ExportService(store).prepare())
        except BaseException as exc:   # reported by the assertion below
            b_errors.append(exc)

    def b_finished_or_waiting(b: threading.Thread) -> None:
        with store.engine.connect() as watch:
            while b.is_alive():
                if watch.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                      "AND datname = current_database()")).scalar():
                    return
                watch.rollback()

    def after_a_looked(conn, cursor, statement, parameters, context, executemany):
        nonlocal looks
        if threading.get_ident() != desk_a or QUEUED_TARGET_KEY not in str(parameters):
            return
        looks += 1
        if looks == 2:   # A's last look before it records the target
            b = threading.Thread(target=desk_b)
            b.start()
            b_finished_or_waiting(b)
            resumed.append(b)

    resumed: list[threading.Thread] = []
    event.listen(store.engine, "after_cursor_execute", after_a_looked)
    try:
        a_errors: list[BaseException] = []
        try:
            target_a = ExportService(store).prepare()
        except BaseException as exc:   # the unique-key failure this test is about
            a_errors.append(exc)
            target_a = None
    finally:
        event.remove(store.engine, "after_cursor_execute", after_a_looked)
    for b in resumed:
        b.join()
    assert resumed, "desk B never ran: the interleaving under test did not happen"
    assert a_errors == [] and b_errors == [] and b_done == [target_a]
    with store.session() as s:
        assert s.scalar(select(AppSetting.value).where(AppSetting.key == QUEUED_TARGET_KEY)) == \
            "quickbooks/9341453050000001"
