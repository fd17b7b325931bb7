"""Upload Data to a Xero organisation that already has data and settings of its own: contacts and items
already there are linked, never created twice; what its settings would refuse is held back with Xero's words
and what to do; and everything sent agrees with the ledger. Over HTTP to the sandbox, through the SDK."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from kcc_desktop.ledger import service
from kcc_desktop.models import Company, ExportFeedback, ExportItem, ExportStatus, MatchState, RemoteLink, TaxCode
from kcc_desktop.sync.check import check_connection
from kcc_desktop.sync.export import ExportService
from kcc_desktop.sync.mapping import NOMINAL, MappingService
from kcc_desktop.sync.options import OptionsService
from kcc_desktop.sync.precheck import run_precheck
from kcc_desktop.views.export import ExportedItems
from tests.helpers.ledger import build_ledger


def _rows(store, item_type=None):
    with store.session() as s:
        q = select(ExportItem)
        if item_type:
            q = q.where(ExportItem.item_type == item_type)
        return {i.reference: i for i in s.scalars(q)}


def _feedback(store) -> dict[str, tuple[str, str]]:
    with store.session() as s:
        return {f.item_label: (f.message, f.advice) for f in s.scalars(select(ExportFeedback))}


def _contacts(bookkeeper) -> list:
    api, tid = bookkeeper.client.accounting, bookkeeper.client.tenant_id
    return api.get_contacts(tid, include_archived=True).contacts


def test_existing_contacts_and_items_are_linked_not_created_twice_and_marked_matched(
        xero_exporting, xero_bookkeeper, xero_sync_sandbox):
    store, package = xero_exporting
    build_ledger(store, invoices=3)
    acme = xero_bookkeeper.add_contact("Acme Tools (Xero's own name)", account_number="ACME")
    bloggs = xero_bookkeeper.add_contact("bloggs hardware")
    w100 = xero_bookkeeper.add_item("W-100", "Widget as Xero calls it", "19.99")

    summary = ExportService(store).upload(ExportService(store).pending_ids(), package)

    assert summary.ok, summary.text
    names = sorted(c.name for c in _contacts(xero_bookkeeper))
    assert names == sorted(["Acme Tools (Xero's own name)", "bloggs hardware", "Widget Supplies plc"])
    items = xero_bookkeeper.client.accounting.get_items(xero_bookkeeper.client.tenant_id).items
    assert sorted(i.code for i in items) == ["CHILD-1", "W-100"]
    companies = _rows(store, "company")
    assert (companies["ACME"].remote_id, companies["BLOGGS"].remote_id) == (acme, bloggs)
    assert companies["ACME"].match_state == MatchState.MATCHED and companies["SUPP"].match_state == ""
    stock = _rows(store, "stock_item")
    assert stock["W-100"].remote_id == w100 and stock["W-100"].match_state == MatchState.MATCHED
    # The documents went to the matched contacts, and Exported Successfully says "matched existing".
    invoices = xero_bookkeeper.client.accounting.get_invoices(xero_bookkeeper.client.tenant_id).invoices
    assert {str(i.contact.contact_id) for i in invoices if i.type == "ACCREC"} == {acme, bloggs}
    view = ExportedItems(store)
    rows = view.rows(view.ids())
    assert {r.reference for r in rows.values() if r.matched} == {"ACME", "BLOGGS", "W-100"}
    assert _feedback(store) == {}


def test_unlinking_a_match_puts_it_back_to_be_created_and_never_matched_again(xero_exporting, xero_bookkeeper):
    store, package = xero_exporting
    build_ledger(store, invoices=1)
    xero_bookkeeper.add_item("CHILD-1", "Someone else's child seat")
    xero_bookkeeper.add_contact("Widget Supplies plc")
    service = ExportService(store)
    only_masters = [i.id for i in _rows(store).values() if i.item_type in ("company", "stock_item")]
    service.upload(only_masters, package)
    child, supp = _rows(store, "stock_item")["CHILD-1"], _rows(store, "company")["SUPP"]
    assert child.match_state == MatchState.MATCHED and supp.match_state == MatchState.MATCHED
    service.upload([i.id for i in _rows(store).values() if i.reference == "PI-0001"], package)   # on SUPP

    undone = service.unlink_matched([child.id, supp.id], "xero")

    assert undone.unlinked == [child.id] and "1 document sent against it" in undone.kept[supp.id]
    again = _rows(store, "stock_item")["CHILD-1"]
    assert (again.status, again.match_state, again.remote_id) == (ExportStatus.PENDING, MatchState.CREATE, "")
    with store.session() as s:
        assert s.scalar(select(RemoteLink).where(RemoteLink.object_type == "stock_item",
                                                 RemoteLink.object_id == again.object_id)) is None
    # Created, not matched, on the next upload: Xero refuses the duplicate code, and says what to do.
    summary = service.upload([again.id], package)
    assert summary.failed == 1
    message, advice = _feedback(store)["Stock Item CHILD-1"]
    assert "already exists" in message and "new code" in advice


def test_an_archived_contact_is_not_linked_or_duplicated_and_its_documents_wait(
        xero_exporting, xero_bookkeeper, xero_sync_sandbox):
    store, package = xero_exporting
    build_ledger(store, invoices=2)
    closed = xero_bookkeeper.add_contact("Bloggs Hardware")
    xero_bookkeeper.archive_contact(closed)

    summary = ExportService(store).upload(ExportService(store).pending_ids(), package)

    bloggs = _rows(store, "company")["BLOGGS"]
    assert bloggs.status == ExportStatus.PENDING and summary.failed == 1 and summary.held == 1   # SI-0002 waits
    message, advice = _feedback(store)["Company BLOGGS"]
    assert message.startswith("The contact with the specified contact details has been archived")
    assert "Restore it there" in advice
    assert [c.name for c in _contacts(xero_bookkeeper)].count("Bloggs Hardware") == 1
    assert xero_sync_sandbox.stats()["by_status"].get("400", 0) == 0


def test_a_contact_merged_in_xero_takes_the_next_documents(xero_exporting, xero_bookkeeper, xero_sync_sandbox):
    store, package = xero_exporting
    build_ledger(store, invoices=3)
    service = ExportService(store)
    first = [i.id for i in _rows(store).values() if i.reference in ("ACME", "SI-0001")]
    service.upload(first, package)
    acme = _rows(store, "company")["ACME"].remote_id
    group = xero_bookkeeper.add_contact("Acme Group Ltd")
    xero_sync_sandbox.merge_contacts(acme, into=group)

    summary = service.upload([_rows(store)["SI-0003"].id], package)

    assert summary.ok, summary.text
    inv = xero_bookkeeper.client.accounting.get_invoice(xero_bookkeeper.client.tenant_id,
                                                        _rows(store)["SI-0003"].remote_id).invoices[0]
    assert str(inv.contact.contact_id) == group
    with store.session() as s:
        link = s.scalar(select(RemoteLink).where(RemoteLink.object_type == "company",
                                                 RemoteLink.remote_id == group))
        assert link is not None


def test_what_the_organisation_would_refuse_is_held_back_in_xeros_words_and_the_rest_goes(
        xero_exporting, xero_sync_sandbox):
    store, package = xero_exporting
    build_ledger(store, invoices=4)     # SI-0001..4 dated 10-13 Jan 2026, the bill 5 Jan, the credit 20 Jan
    xero_sync_sandbox.organisation(PeriodLockDate="2026-01-11", Plan="STARTER")

    summary = ExportService(store).upload(ExportService(store).pending_ids(), package)

    feedback = _feedback(store)
    assert feedback["Invoice SI-0001"][0] == ("The document date cannot be before the period lock date, currently "
                                              "set at 11-Jan-2026")
    assert "lock date" in feedback["Purchase Invoice PI-0001"][0]
    assert "move the period lock date back" in feedback["Invoice SI-0002"][1]
    assert {"Invoice SI-0003", "Invoice SI-0004", "Credit Note SC-0001"}.isdisjoint(feedback)
    assert summary.failed == 3 and xero_sync_sandbox.stats()["by_status"].get("400", 0) == 0
    exported = _rows(store)
    assert exported["SI-0003"].status == ExportStatus.EXPORTED and exported["SC-0001"].status == ExportStatus.EXPORTED


def test_the_plan_allowance_is_shared_out_in_order_and_the_rest_wait(xero_exporting, xero_sync_sandbox):
    store, package = xero_exporting
    build_ledger(store, invoices=1)
    xero_sync_sandbox.organisation(Plan="STARTER")
    _invoices_entered_in_xero(package, 20)    # the month already holds its 20 approved invoices

    ExportService(store).upload(ExportService(store).pending_ids(), package)

    message, advice = _feedback(store)["Invoice SI-0001"]
    assert message == "You have reached the limit of invoices you can approve."
    assert "Starter plan approves 20 invoices a month" in advice
    assert _rows(store)["PI-0001"].status == ExportStatus.EXPORTED        # bills have their own allowance
    OptionsService(store).update(create_authorised=False)
    summary = ExportService(store).upload([_rows(store)["SI-0001"].id], package)
    assert summary.ok and _rows(store)["SI-0001"].status == ExportStatus.EXPORTED   # as a draft


def test_the_precheck_and_the_check_name_the_same_refusals(xero_exporting, xero_bookkeeper, xero_sync_sandbox):
    store, package = xero_exporting
    build_ledger(store, invoices=2)
    closed = xero_bookkeeper.add_contact("Bloggs Hardware")
    xero_bookkeeper.archive_contact(closed)
    xero_sync_sandbox.organisation(EndOfYearLockDate="2026-01-05", Currencies=["USD"])
    mapping = MappingService(store, "xero")
    mapping.set_mapping(NOMINAL, mapping.find_local(NOMINAL, "7500"), "429")   # an overhead, as it should be
    with store.transaction() as s:   # ... but a sales line coded to it takes a sales rate: Xero refuses the pair
        acme = s.scalar(select(Company).where(Company.code == "ACME"))
        t1 = s.scalar(select(TaxCode).where(TaxCode.code == "T1"))
        recharge = service.LineInput(quantity=Decimal(1), unit_price=Decimal("40"), description="Recharge",
                                     tax_code_id=t1.id, nominal_id=mapping.find_local(NOMINAL, "7500"))
        service.create_document(s, "sales_invoice", acme, "SI-7500", date(2026, 2, 1), [recharge])

    report = check_connection(store, package)
    results = run_precheck(store, ExportService(store).pending_ids())

    codes = {p.code for p in report.problems}
    assert {"lock_date", "tax_account_mismatch", "contact_archived"} <= codes
    mismatch = next(p for p in report.problems if p.code == "tax_account_mismatch")
    assert "SI-7500" in mismatch.message and "SI-0001" not in mismatch.message
    assert "The TaxType code 'OUTPUT2' cannot be used with account code '429'." in mismatch.message
    assert "Mapping tab" in mismatch.advice
    rows = {i.reference: results[i.id] for i in _rows(store).values()}
    assert "Xero refuses tax OUTPUT2 on account 429 (nominal 7500)" in rows["SI-7500"]
    assert rows["SI-0001"] == "OK"
    assert "archived in Xero" in rows["BLOGGS"]
    assert "end of year lock date" in rows["PI-0001"]


def _invoices_entered_in_xero(package, n: int) -> None:
    from kcc_desktop.connectors.base import ContactIn, DocKind, DocumentIn, LineIn
    [c] = package.upsert_contacts([ContactIn(key="k", name="Counter Sales")], "counter")
    results = package.create_documents([DocumentIn(f"x{i}", DocKind.SALES_INVOICE, f"HAND-{i}", c.remote_id, "",
                                                   date(2026, 1, 2), date(2026, 1, 2), "GBP",
                                                   [LineIn("Counter sale", Decimal(1), Decimal(10), "200", "OUTPUT2")])
                                        for i in range(n)], "hand")
    assert len(results) == n and all(r.ok for r in results)


def test_a_customer_and_a_supplier_of_one_name_become_one_xero_contact(xero_exporting, xero_bookkeeper):
    from tests.helpers.ledger import build_qbo_ledger

    store, package = xero_exporting
    build_qbo_ledger(store, invoices=2)     # ACME (customer) and ACME-S (supplier): both "Acme Tools Ltd"
    companies = [i.id for i in _rows(store, "company").values()]

    summary = ExportService(store).upload(companies, package)

    assert summary.ok, summary.text
    rows = _rows(store, "company")
    assert rows["ACME-S"].remote_id == rows["ACME"].remote_id and rows["ACME-S"].match_state == MatchState.MATCHED
    assert [c.name for c in _contacts(xero_bookkeeper)].count("Acme Tools Ltd") == 1


def test_the_precheck_puts_each_finding_in_error_feedback_in_xeros_words_once(
        xero_exporting, xero_bookkeeper, xero_sync_sandbox):
    store, package = xero_exporting
    build_ledger(store, invoices=2)
    xero_bookkeeper.archive_contact(xero_bookkeeper.add_contact("Bloggs Hardware"))
    xero_sync_sandbox.organisation(PeriodLockDate="2026-01-05")
    mapping = MappingService(store, "xero")
    mapping.fetch(package)
    mapping.set_mapping(NOMINAL, mapping.find_local(NOMINAL, "5000"), None)   # the bill's purchases: unmapped
    ids = ExportService(store).pending_ids()

    run_precheck(store, ids)
    run_precheck(store, ids)    # checking again brings the entries up to date; it adds no second one

    with store.session() as s:
        found = [(f.item_label, f.message, f.advice, f.nominal_code) for f in s.scalars(select(ExportFeedback))]
    assert len(found) == len(set(found))
    by_label: dict[str, list[tuple[str, str, str]]] = {}
    for item, message, advice, nominal in found:
        by_label.setdefault(item, []).append((message, advice, nominal))
    [(message, advice, _n)] = [f for f in by_label["Company BLOGGS"] if "archived" in f[0]]
    assert message.startswith("The contact with the specified contact details has been archived.")
    assert "Restore it there" in advice
    locked = [f for f in by_label["Purchase Invoice PI-0001"] if "lock date" in f[0]]
    assert [m for m, _a, _n in locked] == ["The document date cannot be before the period lock date, currently set "
                                           "at 05-Jan-2026"]
    assert "move the period lock date back" in locked[0][1]
    unmapped = [f for f in by_label["Purchase Invoice PI-0001"] if f[2] == "5000"]
    assert unmapped and all(a for _m, a, _n in unmapped)
    assert "Invoice SI-0001" not in by_label
