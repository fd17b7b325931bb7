"""The export queue's rules as the Pending Export grid and the export see them: which rows are pending, for
which package and organisation, with which columns, after ORM changes, bulk writes and a change of target."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from kcc_desktop.ledger import service
from kcc_desktop.ledger.bulk_rows import BulkLine, BulkRows, ItemCosts
from kcc_desktop.models import (
    AppSetting,
    Company,
    Document,
    DocumentKind,
    ExportItem,
    ExportStatus,
    StockItem,
)
from kcc_desktop.sync.options import OptionsService
from kcc_desktop.sync.queue import (
    QUEUED_TARGET_KEY,
    SKIP_QUEUE,
    enqueue_all,
    ensure_queued,
    install_queue_listeners,
    pending_count,
    prepare_target,
    uninstall_queue_listeners,
)
from kcc_desktop.sync.target import PROVIDER_KEY, TENANT_KEY, Target
from tests.helpers.ledger import add_company, add_item, bank, build_ledger, codes

XERO = Target("xero", "")


@pytest.fixture(autouse=True)
def _listeners():
    install_queue_listeners()
    yield
    install_queue_listeners()   # a test that uninstalled them leaves them as every other test expects


def connect(store, provider: str, tenant: str) -> None:
    """What signing in to a package and choosing an organisation stores."""
    with store.transaction() as s:
        for key, value in ((PROVIDER_KEY, provider), (TENANT_KEY, tenant)):
            setting = s.get(AppSetting, key)
            if setting is None:
                s.add(AppSetting(key=key, value=value))
            else:
                setting.value = value


def grid(store, status=ExportStatus.PENDING):
    """(provider, organisation, type, reference, action) of each row in this status, in queue order."""
    with store.session() as s:
        return [(e.provider, e.tenant_id, e.item_type, e.reference, e.action) for e in s.scalars(
            select(ExportItem).where(ExportItem.status == status).order_by(ExportItem.id))]


def mark_exported(store, target: Target | None = None) -> None:
    """The package confirmed every pending row (of ``target``, or of every target)."""
    with store.transaction() as s:
        stmt = ExportItem.__table__.update().where(ExportItem.status == ExportStatus.PENDING)
        if target is not None:
            stmt = stmt.where(ExportItem.provider == target.provider, ExportItem.tenant_id == target.tenant_id)
        s.execute(stmt.values(status=ExportStatus.EXPORTED))


def columns(row: ExportItem) -> tuple:
    return (row.provider, row.tenant_id, row.item_type, row.object_id, row.action, row.status, row.reference,
            row.company_name, row.doc_date, row.amount, row.currency, row.precheck, row.attempts,
            row.marked_manually, row.confirmed, row.remote_id, row.remote_number, row.match_state)


def all_columns(store) -> list[tuple]:
    with store.session() as s:
        return [columns(e) for e in s.scalars(select(ExportItem).order_by(ExportItem.item_type, ExportItem.object_id))]


def small_books(s) -> dict:
    """A customer in euros, a stock item, an invoice of it and a non-account customer's prepayment
    allocated to a second invoice; returns their ids."""
    euro = add_company(s, "EURO", "Euro Kunde GmbH")
    euro.currency = "EUR"
    cash = add_company(s, "CASH", "Cash Customer", is_account=False)
    item = add_item(s, "BOLT", "1.25", "0.40")
    inv = service.create_document(s, "sales_invoice", euro, "SI-1", date(2026, 3, 4),
                                  [service.LineInput(Decimal(4), Decimal("1.25"), stock_item_id=item.id)],
                                  currency="EUR")
    inv2 = service.create_document(s, "sales_invoice", cash, "SI-2", date(2026, 3, 5),
                                   [service.LineInput(Decimal(1), Decimal("30"), stock_item_id=item.id)])
    pre = service.record_payment(s, "prepayment", cash, bank(s), Decimal("50"), date(2026, 3, 5))
    alloc = service.allocate_prepayment(s, pre, inv2, Decimal("20.00"), date(2026, 3, 6))
    s.flush()
    return {"euro": euro.id, "cash": cash.id, "item": item.id, "inv": inv.id, "inv2": inv2.id,
            "alloc": alloc.id, "inv_gross": inv.gross_total, "inv2_gross": inv2.gross_total}


def expected_rows(ids: dict, target: Target = XERO) -> list[tuple]:
    p, t = target
    return sorted([
        (p, t, "company", ids["euro"], "create", "pending", "EURO", "Euro Kunde GmbH", None, None, "EUR",
         "", 0, False, False, "", "", ""),
        (p, t, "company", ids["cash"], "create", "pending", "CASH", "Cash Customer", None, None, "GBP",
         "", 0, False, False, "", "", ""),
        (p, t, "stock_item", ids["item"], "create", "pending", "BOLT", "Item BOLT", None, Decimal("1.25"), "",
         "", 0, False, False, "", "", ""),
        (p, t, "sales_invoice", ids["inv"], "create", "pending", "SI-1", "Euro Kunde GmbH", date(2026, 3, 4),
         ids["inv_gross"], "EUR", "", 0, False, False, "", "", ""),
        (p, t, "sales_invoice", ids["inv2"], "create", "pending", "SI-2", "Cash Customer", date(2026, 3, 5),
         ids["inv2_gross"], "GBP", "", 0, False, False, "", "", ""),
        (p, t, "prepayment_allocation", ids["alloc"], "create", "pending", "SI-2", "Cash Customer",
         date(2026, 3, 6), Decimal("20.00"), "GBP", "", 0, False, False, "", "", ""),
    ], key=lambda r: (r[2], r[3]))


def test_each_column_the_listener_writes_is_the_objects_own(store):
    before = datetime.now(UTC)
    with store.transaction() as s:
        ids = small_books(s)
    after = datetime.now(UTC)
    assert ids["inv_gross"] == Decimal("6.00")   # 4 x 1.25 + 20 % VAT: the amount column is the gross
    assert all_columns(store) == expected_rows(ids)
    with store.session() as s:
        rows = list(s.scalars(select(ExportItem)))
        assert rows and all(before <= e.queued_at <= after for e in rows)


def test_enqueue_all_writes_the_same_columns_as_the_listener(store):
    connect(store, "quickbooks", "realm-9")
    with store.transaction() as s:
        s.info[SKIP_QUEUE] = True
        ids = small_books(s)
    assert grid(store) == []
    with store.transaction() as s:
        assert enqueue_all(s) == 6
    assert all_columns(store) == expected_rows(ids, Target("quickbooks", "realm-9"))


def test_ensure_queued_returns_the_pending_row_or_queues_one(store):
    with store.transaction() as s:
        ids = small_books(s)
        other = add_company(s, "OTHER", "Other Ltd")
        cn = service.create_document(s, "sales_credit", s.get(Company, ids["euro"]), "SC-1", date(2026, 3, 7),
                                     [service.LineInput(Decimal(1), Decimal("1.25"), stock_item_id=ids["item"])],
                                     currency="EUR")
        credit_alloc = service.allocate_credit_note(s, cn, s.get(Document, ids["inv"]), Decimal("1.00"))
    with store.session() as s:
        pending = {(e.item_type, e.object_id): e.id for e in s.scalars(select(ExportItem))}
    mark_exported(store)
    with store.transaction() as s:   # one object of each kind waits again, the rest stay exported
        for kind, oid in (("stock_item", ids["item"]), ("sales_invoice", ids["inv2"]),
                          ("prepayment_allocation", ids["alloc"]), ("sales_credit", cn.id)):
            s.execute(ExportItem.__table__.delete().where(ExportItem.item_type == kind, ExportItem.object_id == oid))
        s.get(Company, other.id).email = "new@other.example"  # exported before: pending again as an update
    with store.transaction() as s:   # neither pending nor exported: ensuring one object must not queue these
        s.info[SKIP_QUEUE] = True
        add_item(s, "SPARE", "1.00", "0.50")
        cash = s.get(Company, ids["cash"])
        quiet = service.create_document(s, "sales_invoice", cash, "SI-Q", date(2026, 3, 8),
                                        [service.LineInput(Decimal(1), Decimal("30"), stock_item_id=ids["item"])])
        pre = service.record_payment(s, "prepayment", cash, bank(s), Decimal("5"), date(2026, 3, 8))
        service.allocate_prepayment(s, pre, quiet, Decimal("5.00"), date(2026, 3, 8))
    with store.transaction() as s:
        update_id = s.scalar(select(ExportItem.id).where(ExportItem.status == "pending"))
        assert ensure_queued(s, XERO, "company", other.id) == update_id   # the pending one, none added
        queued = {kind: ensure_queued(s, XERO, kind, oid) for kind, oid in (
            ("company", ids["euro"]), ("stock_item", ids["item"]), ("sales_invoice", ids["inv2"]),
            ("sales_credit", cn.id), ("prepayment_allocation", ids["alloc"]))}
        never = [ensure_queued(s, XERO, "sales_invoice", ids["inv"]),     # exported: never sent again
                 ensure_queued(s, XERO, "credit_note_allocation", credit_alloc.id),   # not a queued kind
                 ensure_queued(s, XERO, "prepayment_allocation", credit_alloc.id)]   # a credit note's: local
    assert never == [None, None, None]
    with store.session() as s:
        rows = {e.id: (e.item_type, e.object_id, e.action, e.reference) for e in s.scalars(
            select(ExportItem).where(ExportItem.status == "pending"))}
    assert {queued[k]: rows[queued[k]] for k in queued} == {
        queued["company"]: ("company", ids["euro"], "update", "EURO"),
        queued["stock_item"]: ("stock_item", ids["item"], "create", "BOLT"),
        queued["sales_invoice"]: ("sales_invoice", ids["inv2"], "create", "SI-2"),
        queued["sales_credit"]: ("sales_credit", cn.id, "create", "SC-1"),
        queued["prepayment_allocation"]: ("prepayment_allocation", ids["alloc"], "create", "SI-2")}
    assert len(rows) == 6 and update_id in rows and update_id != pending[("company", other.id)]
    # Another package's pending row is not this package's: QuickBooks gets its own.
    qbo = Target("quickbooks", "realm-1")
    with store.transaction() as s:
        qbo_id = ensure_queued(s, qbo, "stock_item", ids["item"])
    assert qbo_id not in rows
    assert grid(store)[-1] == ("quickbooks", "realm-1", "stock_item", "BOLT", "create")
    # Same organisation id in another package, another organisation of the same package: not the same row.
    with store.transaction() as s:
        elsewhere = [ensure_queued(s, Target("quickbooks", ""), "stock_item", ids["item"]),
                     ensure_queued(s, Target("xero", "org-9"), "stock_item", ids["item"])]
    assert grid(store)[-2:] == [("quickbooks", "", "stock_item", "BOLT", "create"),
                                ("xero", "org-9", "stock_item", "BOLT", "create")]
    assert len({qbo_id, *elsewhere, queued["stock_item"]}) == 4
    assert not {"SPARE", "SI-Q"} & {r[3] for r in grid(store)}
    assert [r for r in grid(store) if r[2] == "prepayment_allocation"] == [
        ("xero", "", "prepayment_allocation", "SI-2", "create")]


def test_pending_count_counts_the_connected_targets_pending_rows_only(store):
    connect(store, "xero", "org-1")
    with store.transaction() as s:
        small_books(s)
    mark_exported(store)
    with store.transaction() as s:
        add_company(s, "NEW", "New Ltd")
        add_company(s, "NEWER", "Newer Ltd")
    connect(store, "quickbooks", "realm-1")
    with store.transaction() as s:
        add_company(s, "QB", "Only In QuickBooks Ltd")
    with store.session() as s:
        assert pending_count(s) == 1
        assert pending_count(s, Target("xero", "org-1")) == 2
        assert pending_count(s, Target("xero", "org-2")) == 0
        assert pending_count(s, Target("quickbooks", "")) == 0


def test_uninstalled_listeners_queue_nothing_and_installing_twice_queues_once(store):
    try:
        uninstall_queue_listeners()
        uninstall_queue_listeners()   # a second call is harmless
        with store.transaction() as s:
            add_company(s, "OFF", "Queued By Nobody Ltd")
        assert grid(store) == []
        install_queue_listeners()
        install_queue_listeners()
        with store.transaction() as s:
            add_company(s, "ON", "Queued Once Ltd")
        assert [r[3] for r in grid(store)] == ["ON"]
        uninstall_queue_listeners()   # one call undoes both installs
        with store.transaction() as s:
            add_company(s, "OFF2", "Queued By Nobody Either Ltd")
            s.scalar(select(Company).where(Company.code == "ON")).name = "Renamed Unseen Ltd"
        with store.session() as s:
            assert [(e.reference, e.company_name) for e in s.scalars(select(ExportItem))] == [("ON", "Queued Once Ltd")]
    finally:
        install_queue_listeners()
    with store.transaction() as s:
        add_company(s, "BACK", "Queued Again Ltd")
    assert [r[3] for r in grid(store)] == ["ON", "BACK"]


COMPANY_CHANGES = {"code": "ACME2", "name": "Acme Two", "email": "x@acme.example", "currency": "USD",
                   "kind": "supplier", "is_account": False}


def test_each_field_the_package_holds_queues_an_update_and_others_do_not(store):
    build_ledger(store, invoices=0)
    mark_exported(store)
    for field, value in COMPANY_CHANGES.items():
        with store.transaction() as s:
            setattr(s.scalar(select(Company).where(Company.id == 1)), field, value)
        assert [(r[2], r[4]) for r in grid(store)] == [("company", "update")], field
        mark_exported(store)
    with store.transaction() as s:
        n, t = codes(s)
        item_changes = {"code": "W-200", "description": "Widget 200", "price": Decimal("1.11"),
                        "cost": Decimal("0.99"), "sales_nominal_id": n["4010"].id,
                        "purchase_nominal_id": n["5010"].id,
                        "tax_code_id": t["T0"].id}
    for field, value in item_changes.items():
        with store.transaction() as s:
            setattr(s.scalar(select(StockItem).where(StockItem.code.in_(["W-100", "W-200"]))), field, value)
        assert [(r[2], r[4]) for r in grid(store)] == [("stock_item", "update")], field
        mark_exported(store)
    with store.transaction() as s:   # not held by the package: no update
        s.scalar(select(StockItem).where(StockItem.code == "W-200")).cost_of_sale_nominal_id = n["5000"].id
        s.scalar(select(Company).where(Company.id == 2)).trades_both_ways = True
    assert grid(store) == []


def test_a_pending_row_shows_the_renamed_object_an_exported_row_keeps_what_was_sent(store):
    with store.transaction() as s:
        ids = small_books(s)
    mark_exported(store)
    with store.transaction() as s:
        add_company(s, "LATER", "Later Ltd")
        s.get(Company, ids["euro"]).name = "Euro Kunde AG"   # an update, pending
    with store.transaction() as s:
        later = s.scalar(select(Company).where(Company.code == "LATER"))
        later.code, later.name, later.currency = "LATE", "Late Ltd", "USD"
        euro = s.get(Company, ids["euro"])
        euro.code, euro.currency = "EUROK", "CHF"
        item = s.get(StockItem, ids["item"])
        item.code, item.description, item.price = "BOLT-2", "Bigger bolt", Decimal("2.50")
    with store.session() as s:
        rows = [(e.status, e.item_type, e.reference, e.company_name, e.currency, e.amount, e.action)
                for e in s.scalars(select(ExportItem).where(ExportItem.item_type.in_(["company", "stock_item"]))
                                   .order_by(ExportItem.id))]
    assert rows == [
        ("exported", "company", "EURO", "Euro Kunde GmbH", "EUR", None, "create"),
        ("exported", "company", "CASH", "Cash Customer", "GBP", None, "create"),
        ("exported", "stock_item", "BOLT", "Item BOLT", "", Decimal("1.25"), "create"),
        ("pending", "company", "LATE", "Late Ltd", "USD", None, "create"),
        ("pending", "company", "EUROK", "Euro Kunde AG", "CHF", None, "update"),
        ("pending", "stock_item", "BOLT-2", "Bigger bolt", "", Decimal("2.50"), "update")]


def test_a_change_is_an_update_for_every_other_package_that_has_the_object(store):
    connect(store, "xero", "org-1")
    build_ledger(store, invoices=1)
    mark_exported(store)
    connect(store, "quickbooks", "realm-1")
    with store.transaction() as s:
        assert prepare_target(s) == Target("quickbooks", "realm-1")
    with store.transaction() as s:   # two objects only QuickBooks gets
        add_company(s, "QBONLY", "QuickBooks Only Ltd")
        add_item(s, "QBITEM", "2.00", "1.00")
    mark_exported(store, Target("quickbooks", "realm-1"))   # QuickBooks now has everything too
    connect(store, "xero", "org-2")   # a second Xero organisation that has nothing yet
    with store.transaction() as s:
        prepare_target(s)
    with store.transaction() as s:   # one flush: objects QuickBooks alone has change with the others
        acme, qbonly = (s.scalar(select(Company).where(Company.code == c)) for c in ("ACME", "QBONLY"))
        w100, qbitem = (s.scalar(select(StockItem).where(StockItem.code == c)) for c in ("W-100", "QBITEM"))
        acme.name, qbonly.name = "Acme Tools (UK) Ltd", "QuickBooks Only plc"
        w100.price, qbitem.price = Decimal("20.50"), Decimal("2.20")
        s.add(Company(code="FRESH", name="Fresh Ltd", kind="customer"))
    rows = [r for r in grid(store) if r[3] in ("ACME", "W-100", "FRESH") or r[1] != "org-2"]
    assert sorted(rows) == sorted([
        ("xero", "org-2", "company", "ACME", "create"), ("xero", "org-2", "stock_item", "W-100", "create"),
        ("xero", "org-2", "company", "FRESH", "create"),
        ("xero", "org-1", "company", "ACME", "update"), ("xero", "org-1", "stock_item", "W-100", "update"),
        ("quickbooks", "realm-1", "company", "ACME", "update"),
        ("quickbooks", "realm-1", "stock_item", "W-100", "update"),
        ("quickbooks", "realm-1", "company", "QBONLY", "update"),
        ("quickbooks", "realm-1", "stock_item", "QBITEM", "update")])
    with store.session() as s:
        names = {(e.tenant_id, e.item_type): (e.company_name, e.amount) for e in s.scalars(
            select(ExportItem).where(ExportItem.status == "pending", ExportItem.reference.in_(["ACME", "W-100"])))}
    assert names[("org-1", "company")] == ("Acme Tools (UK) Ltd", None)
    assert names[("realm-1", "stock_item")] == ("Widget W-100", Decimal("20.50"))
    # A document is sent once per package: changing it queues nothing for the packages that have it.
    with store.transaction() as s:
        s.scalar(select(Document).where(Document.number == "SI-0001")).reference = "PO 7"
    assert [r for r in grid(store) if r[2] == "sales_invoice" and r[1] != "org-2"] == []


def sent_to_xero_then_connected_to_quickbooks(store, org: str, realm: str) -> None:
    """Small books all confirmed by Xero's ``org``; then QuickBooks' ``realm`` is connected and made ready:
    every object is pending for it, once, with its own columns."""
    connect(store, "xero", org)
    with store.transaction() as s:
        ids = small_books(s)
    mark_exported(store)
    connect(store, "quickbooks", realm)
    with store.transaction() as s:
        assert prepare_target(s) == Target("quickbooks", realm)
        assert pending_count(s) == 6
    assert [r for r in all_columns(store) if r[0] == "quickbooks"] == expected_rows(ids, Target("quickbooks", realm))


def test_a_new_target_gets_everything_it_has_not_had_once(store):
    sent_to_xero_then_connected_to_quickbooks(store, "org-1", "realm-1")
    with store.session() as s:
        assert s.get(AppSetting, QUEUED_TARGET_KEY).value == "quickbooks/realm-1"
    # Nothing changed since: preparing again is two reads, and an object written around the listener stays
    # out until the target changes.
    with store.transaction() as s:
        s.info[SKIP_QUEUE] = True
        add_company(s, "QUIET", "Quiet Ltd")
    with store.transaction() as s:
        prepare_target(s)
        assert pending_count(s) == 6
    connect(store, "quickbooks", "realm-2")
    with store.transaction() as s:
        prepare_target(s)
        assert pending_count(s) == 7
    with store.session() as s:
        assert s.get(AppSetting, QUEUED_TARGET_KEY).value == "quickbooks/realm-2"
    connect(store, "xero", "org-1")   # back: only what org-1 has not had
    with store.transaction() as s:
        prepare_target(s)
    assert grid(store)[-1:] == [("xero", "org-1", "company", "QUIET", "create")]
    with store.session() as s:
        assert pending_count(s) == 1


def test_rows_queued_before_an_organisation_was_chosen_go_to_the_one_connected(store):
    connect(store, "xero", "")
    with store.transaction() as s:
        ids = small_books(s)
    mark_exported(store)   # exported before the organisation was chosen
    with store.transaction() as s:
        s.get(Company, ids["euro"]).email = "a@euro.example"   # update, unassigned
        s.get(Company, ids["cash"]).email = "b@cash.example"   # update, unassigned
        add_company(s, "TWIN", "Twin Ltd")                     # create, unassigned
        add_company(s, "SOLO", "Solo Ltd")                     # create, unassigned
    with store.session() as s:
        unassigned = {e.reference: e.id for e in s.scalars(select(ExportItem).where(ExportItem.status == "pending"))}
        twin = s.scalar(select(Company.id).where(Company.code == "TWIN"))
    with store.transaction() as s:
        # org-1 already has its own rows: TWIN pending, CASH exported; QuickBooks has unassigned rows too.
        s.add_all([ExportItem(provider="xero", tenant_id="org-1", item_type="company", object_id=twin,
                              reference="TWIN", company_name="Twin Ltd"),
                   ExportItem(provider="xero", tenant_id="org-1", item_type="company", object_id=ids["cash"],
                              reference="CASH", status="exported"),
                   ExportItem(provider="quickbooks", tenant_id="", item_type="company", object_id=twin,
                              reference="TWIN"),
                   # Not twins of SOLO or EURO: another package's organisation of the same id, another type.
                   ExportItem(provider="quickbooks", tenant_id="org-1", item_type="company",
                              object_id=unassigned_id(s, "SOLO"), reference="SOLO"),
                   ExportItem(provider="xero", tenant_id="org-1", item_type="stock_item", object_id=ids["item"],
                              reference="BOLT", company_name="Item BOLT")])
    assert ids["item"] == ids["euro"]   # the stock item's row shares the company's object id
    with store.session() as s:
        own_twin = s.scalar(select(ExportItem.id).where(ExportItem.tenant_id == "org-1", ExportItem.reference == "TWIN",
                                                        ExportItem.status == "pending"))
    connect(store, "xero", "org-1")
    with store.transaction() as s:
        prepare_target(s)
    with store.session() as s:
        rows = sorted((e.provider, e.tenant_id, e.reference, e.status, e.action, e.id) for e in s.scalars(
            select(ExportItem).where(ExportItem.item_type == "company")))
    exported = [r for r in rows if r[3] == "exported"]
    assert [r[:5] for r in exported] == [("xero", "org-1", "CASH", "exported", "create")] * 2 + [
        ("xero", "org-1", "EURO", "exported", "create")]
    assert [r for r in rows if r[3] == "pending"] == sorted([
        ("xero", "org-1", "EURO", "pending", "update", unassigned["EURO"]),
        ("xero", "org-1", "CASH", "pending", "update", unassigned["CASH"]),
        ("xero", "org-1", "SOLO", "pending", "create", unassigned["SOLO"]),
        ("xero", "org-1", "TWIN", "pending", "create", own_twin),     # the organisation's own row wins
        ("quickbooks", "", "TWIN", "pending", "create", rows[0][5]),   # another package's: left alone
        ("quickbooks", "org-1", "SOLO", "pending", "create", rows[1][5])])
    with store.session() as s:
        bolt = sorted((e.provider, e.tenant_id, e.status) for e in s.scalars(
            select(ExportItem).where(ExportItem.item_type == "stock_item")))
    # The BOLT row exported before the organisation was chosen is org-1's history, beside its pending one.
    assert bolt == [("xero", "org-1", "exported"), ("xero", "org-1", "pending")]
    with store.session() as s:
        assert s.scalar(select(ExportItem.id).where(ExportItem.id == unassigned["TWIN"])) is None
        assert pending_count(s) == 5   # the four companies' rows above and BOLT
        assert pending_count(s, Target("xero", "")) == 0


def unassigned_id(s, code: str) -> int:
    return s.scalar(select(Company.id).where(Company.code == code))


def bulk_invoice(s, writer: BulkRows, number: str, company_id: int, item_id: int | None) -> int:
    n, t = codes(s)
    item = s.get(StockItem, item_id) if item_id else None
    costs = None
    if item is not None:
        costs = ItemCosts(item.id, item.stock_nominal_id, item.cost_of_sale_nominal_id, item.cost)
    line = BulkLine(costs, "Bolts", Decimal(2), Decimal("5.00"), Decimal(0), t["T1"].id, n["4000"].id,
                    Decimal("10.00"), Decimal("2.00"))
    return writer.document(DocumentKind.SALES_INVOICE, number, company_id, date(2026, 4, 1), None, "GBP", "", [line])


def test_documents_written_in_bulk_are_queued_at_commit_and_only_they(store):
    with store.transaction() as s:
        c = add_company(s, "BULK", "Bulk Buyer Ltd")
        item = add_item(s, "NUT", "5.00", "1.00")
    mark_exported(store)
    with store.transaction() as s:
        s.info[SKIP_QUEUE] = True   # written around the queue, just before and just after the bulk ids
        before = service.create_document(s, "sales_invoice", s.get(Company, c.id), "AROUND-1", date(2026, 4, 1),
                                         [service.LineInput(Decimal(1), Decimal(1), stock_item_id=item.id)])
        s.flush()
        del s.info[SKIP_QUEUE]
        writer = BulkRows(s, service.controls(s))
        first = bulk_invoice(s, writer, "B-1", c.id, item.id)
        bulk_invoice(s, writer, "B-2", c.id, None)
        writer.flush()
        last = bulk_invoice(s, writer, "B-3", c.id, None)   # a second batch: a second range
        writer.flush()
        assert grid(store) == []   # nothing before the commit
        s.info[SKIP_QUEUE] = True
        after = service.create_document(s, "sales_invoice", s.get(Company, c.id), "AROUND-2", date(2026, 4, 1),
                                        [service.LineInput(Decimal(1), Decimal(1), stock_item_id=item.id)])
        s.flush()
        del s.info[SKIP_QUEUE]
    assert (before.id, after.id) == (first - 1, last + 1)
    assert grid(store) == [("xero", "", "sales_invoice", f"B-{k}", "create") for k in (1, 2, 3)]
    with store.session() as s:
        row = s.scalar(select(ExportItem).where(ExportItem.reference == "B-1"))
        assert (row.company_name, row.doc_date, row.amount, row.currency) == (
            "Bulk Buyer Ltd", date(2026, 4, 1), Decimal("12.00"), "GBP")


def test_bulk_documents_bring_their_stock_items_with_only_stock_on_invoices(store):
    OptionsService(store).set("only_export_stock_on_invoices", True)
    with store.transaction() as s:
        c = add_company(s, "BULK", "Bulk Buyer Ltd")
        used = add_item(s, "USED", "5.00", "1.00")
        add_item(s, "IDLE", "5.00", "1.00")
        around = add_item(s, "AROUND", "5.00", "1.00")
    with store.transaction() as s:   # an invoice of AROUND written around the queue (as a bulk builder does)
        s.info[SKIP_QUEUE] = True
        service.create_document(s, "sales_invoice", s.get(Company, c.id), "AROUND-1", date(2026, 4, 1),
                                [service.LineInput(Decimal(1), Decimal(1), stock_item_id=around.id)])
    assert [r[3] for r in grid(store)] == ["BULK"]
    with store.transaction() as s:
        writer = BulkRows(s, service.controls(s))
        bulk_invoice(s, writer, "B-1", c.id, used.id)
        writer.flush()
    # the items of the documents this commit wrote, not of every document in the file
    assert [r[3] for r in grid(store)] == ["BULK", "B-1", "USED"]


def test_what_one_package_has_is_not_taken_as_had_by_another_with_the_same_organisation_id(store):
    """Organisation ids are the packages' own strings: a Xero tenant and a QuickBooks realm may be spelt alike,
    and what the one has confirmed is still to be sent to the other."""
    sent_to_xero_then_connected_to_quickbooks(store, "123145", "123145")


def test_bulk_documents_of_a_session_kept_out_of_the_queue_are_not_queued(store):
    with store.transaction() as s:
        c = add_company(s, "BULK", "Bulk Buyer Ltd")
    mark_exported(store)
    with store.transaction() as s:
        s.info[SKIP_QUEUE] = True
        writer = BulkRows(s, service.controls(s))
        bulk_invoice(s, writer, "B-1", c.id, None)
        writer.flush()
    assert grid(store) == []


def test_only_stock_on_invoices_an_item_change_follows_only_items_the_package_knows(store):
    OptionsService(store).set("only_export_stock_on_invoices", True)
    with store.transaction() as s:
        c = add_company(s, "C", "C Ltd")
        sent = add_item(s, "SENT", "5.00", "1.00")
        add_item(s, "IDLE", "5.00", "1.00")
        service.create_document(s, "sales_invoice", c, "SI-1", date(2026, 1, 1),
                                [service.LineInput(Decimal(1), Decimal(5), stock_item_id=sent.id)])
    mark_exported(store)
    with store.transaction() as s:
        for code in ("SENT", "IDLE"):
            s.scalar(select(StockItem).where(StockItem.code == code)).price = Decimal("6.00")
    assert grid(store) == [("xero", "", "stock_item", "SENT", "update")]


def test_an_amended_document_still_pending_shows_its_new_date_amount_and_company(store):
    with store.transaction() as s:
        ids = small_books(s)
        cash2 = add_company(s, "CASH2", "Second Cash Customer", is_account=False)
    with store.transaction() as s:
        s.info[SKIP_QUEUE] = True    # QuickBooks has it pending too (queued by prepare_target, say)
        enqueue_all(s, Target("quickbooks", "realm-1"))
    mark_exported(store, XERO)
    with store.transaction() as s:   # SI-1 exported to Xero: Xero's row keeps what was sent
        service.amend_document(s, s.get(Document, ids["inv"]), when=date(2026, 3, 9),
                               lines=[service.LineInput(Decimal(8), Decimal("1.25"), stock_item_id=ids["item"])])
    with store.transaction() as s:
        s.info[SKIP_QUEUE] = True
        s.execute(ExportItem.__table__.update().where(ExportItem.provider == "xero", ExportItem.item_type ==
                                                      "sales_invoice", ExportItem.object_id == ids["inv2"])
                  .values(status=ExportStatus.PENDING))
    with store.transaction() as s:   # SI-2 still pending everywhere: every pending row follows the change
        service.amend_document(s, s.get(Document, ids["inv2"]), when=date(2026, 3, 10),
                               company=s.get(Company, cash2.id),
                               lines=[service.LineInput(Decimal(2), Decimal("30"), stock_item_id=ids["item"])])
    with store.session() as s:
        rows = sorted((e.provider, e.status, e.reference, e.company_name, e.doc_date, e.amount, e.currency)
                      for e in s.scalars(select(ExportItem).where(ExportItem.item_type == "sales_invoice")))
    with store.session() as s:   # QuickBooks' company and item rows of the same ids keep their own values
        others = sorted((e.reference, e.doc_date) for e in s.scalars(select(ExportItem).where(
            ExportItem.provider == "quickbooks", ExportItem.item_type.in_(["company", "stock_item"]))))
    assert others == [("BOLT", None), ("CASH", None), ("CASH2", None), ("EURO", None)]
    assert rows == [
        ("quickbooks", "pending", "SI-1", "Euro Kunde GmbH", date(2026, 3, 9), Decimal("12.00"), "EUR"),
        ("quickbooks", "pending", "SI-2", "Second Cash Customer", date(2026, 3, 10), Decimal("72.00"), "GBP"),
        ("xero", "exported", "SI-1", "Euro Kunde GmbH", date(2026, 3, 4), Decimal("6.00"), "EUR"),
        ("xero", "pending", "SI-2", "Second Cash Customer", date(2026, 3, 10), Decimal("72.00"), "GBP")]


def test_only_new_live_prepayment_allocations_are_queued(store):
    with store.transaction() as s:
        ids = small_books(s)
        cash = s.get(Company, ids["cash"])
        si3 = service.create_document(s, "sales_invoice", cash, "SI-3", date(2026, 3, 9),
                                      [service.LineInput(Decimal(2), Decimal("30"), stock_item_id=ids["item"])])
        early = service.record_payment(s, "prepayment", cash, bank(s), Decimal("10"), date(2026, 3, 9))
        later = service.record_payment(s, "prepayment", cash, bank(s), Decimal("10"), date(2026, 3, 9))
    mark_exported(store)
    with store.transaction() as s:
        s.info[SKIP_QUEUE] = True   # written around the queue: stays out of it
        service.allocate_prepayment(s, s.get(type(early), early.id), s.get(Document, si3.id), Decimal("10.00"))
    with store.transaction() as s:
        euro = s.get(Company, ids["euro"])   # an account customer's receipt: the package's own business
        service.record_payment(s, "receipt", euro, bank(s), Decimal("6.00"), date(2026, 3, 10),
                               [(s.get(Document, ids["inv"]), Decimal("6.00"))])
        service.allocate_prepayment(s, s.get(type(later), later.id), s.get(Document, si3.id), Decimal("7.00"),
                                    date(2026, 3, 10))
    with store.session() as s:
        rows = [(e.item_type, e.reference, e.company_name, e.amount, e.doc_date) for e in s.scalars(
            select(ExportItem).where(ExportItem.status == "pending"))]
    assert rows == [("prepayment_allocation", "SI-3", "Cash Customer", Decimal("7.00"), date(2026, 3, 10))]
    with store.transaction() as s:
        service.reverse_payment(s, s.get(type(later), later.id))
    connect(store, "quickbooks", "realm-1")   # a new package: the live prepayment allocations only
    with store.transaction() as s:
        prepare_target(s)
    with store.session() as s:
        sent = sorted((e.reference, e.amount) for e in s.scalars(select(ExportItem).where(
            ExportItem.provider == "quickbooks", ExportItem.item_type == "prepayment_allocation")))
    assert sent == [("SI-2", Decimal("20.00")), ("SI-3", Decimal("10.00"))]


def test_only_stock_on_invoices_queues_the_new_documents_items_the_package_lacks(store):
    OptionsService(store).set("only_export_stock_on_invoices", True)
    with store.transaction() as s:
        c = add_company(s, "C", "C Ltd")
        sent = add_item(s, "SENT", "5.00", "1.00")
        service.create_document(s, "sales_invoice", c, "SI-1", date(2026, 1, 1),
                                [service.LineInput(Decimal(1), Decimal(5), stock_item_id=sent.id)])
    assert [r[3] for r in grid(store)] == ["C", "SI-1", "SENT"]
    mark_exported(store)
    with store.transaction() as s:
        s.info[SKIP_QUEUE] = True
        old = add_item(s, "OLD", "3.00", "1.00")
        service.create_document(s, "sales_invoice", s.get(Company, c.id), "SI-Q", date(2026, 1, 2),
                                [service.LineInput(Decimal(1), Decimal(3), stock_item_id=old.id)])
    with store.transaction() as s:
        new = add_item(s, "NEW", "7.25", "1.00")
        n, t = codes(s)
        service.create_document(s, "sales_invoice", s.get(Company, c.id), "SI-2", date(2026, 1, 3),
                                [service.LineInput(Decimal(1), Decimal(5), stock_item_id=sent.id),
                                 service.LineInput(Decimal(1), Decimal(7), stock_item_id=new.id),
                                 service.LineInput(Decimal(1), Decimal(2), description="Carriage",
                                                   tax_code_id=t["T1"].id, nominal_id=n["4905"].id)])
    with store.session() as s:
        rows = [columns(e) for e in s.scalars(select(ExportItem).where(ExportItem.status == "pending")
                                              .order_by(ExportItem.id))]
    assert [r[6] for r in rows] == ["SI-2", "NEW"]   # not SENT (the package has it), not OLD (another invoice)
    assert rows[1] == ("xero", "", "stock_item", new.id, "create", "pending", "NEW", "Item NEW", None,
                       Decimal("7.25"), "", "", 0, False, False, "", "", "")
    with store.transaction() as s:   # a new package: the companies, the invoices and the items on them
        assert enqueue_all(s, Target("quickbooks", "realm-1")) == 1 + 3 + 3
    assert sorted(r[3] for r in grid(store) if r[0] == "quickbooks") == [
        "C", "NEW", "OLD", "SENT", "SI-1", "SI-2", "SI-Q"]


def test_a_renamed_company_or_item_shows_its_new_name_in_every_package_where_it_waits(store):
    connect(store, "quickbooks", "realm-1")
    with store.transaction() as s:
        c = add_company(s, "WAIT", "Waiting Ltd")
        item = add_item(s, "WAITING", "4.00", "1.00")
    connect(store, "xero", "org-1")
    with store.transaction() as s:
        prepare_target(s)
    with store.transaction() as s:
        company = s.get(Company, c.id)
        company.code, company.name, company.currency = "WAIT2", "Still Waiting Ltd", "EUR"
        stock = s.get(StockItem, item.id)
        stock.code, stock.description, stock.price = "WAITING2", "Still waiting", Decimal("4.40")
    with store.session() as s:
        rows = sorted((e.provider, e.tenant_id, e.item_type, e.reference, e.company_name, e.amount, e.currency)
                      for e in s.scalars(select(ExportItem)))
    assert rows == [
        ("quickbooks", "realm-1", "company", "WAIT2", "Still Waiting Ltd", None, "EUR"),
        ("quickbooks", "realm-1", "stock_item", "WAITING2", "Still waiting", Decimal("4.40"), ""),
        ("xero", "org-1", "company", "WAIT2", "Still Waiting Ltd", None, "EUR"),
        ("xero", "org-1", "stock_item", "WAITING2", "Still waiting", Decimal("4.40"), "")]


def test_a_document_amended_that_neither_waits_nor_was_sent_is_queued(store):
    with store.transaction() as s:
        c = add_company(s, "C", "C Ltd")
        item = add_item(s, "NUT", "5.00", "1.00")
    with store.transaction() as s:
        s.info[SKIP_QUEUE] = True   # written around the queue
        doc = service.create_document(s, "sales_invoice", s.get(Company, c.id), "SI-Q", date(2026, 1, 2),
                                      [service.LineInput(Decimal(1), Decimal(5), stock_item_id=item.id)])
    mark_exported(store)
    with store.transaction() as s:
        service.amend_document(s, s.get(Document, doc.id), when=date(2026, 1, 3))
    assert grid(store) == [("xero", "", "sales_invoice", "SI-Q", "create")]
