"""Posting and balance rules: the trial balance always balances; outstanding = total − allocations."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kcc_desktop.ledger import service as L
from kcc_desktop.ledger.errors import LedgerError, PaymentGuardError
from kcc_desktop.ledger.trial_balance import trial_balance
from kcc_desktop.models import Allocation, AppSetting, JournalLine
from tests.helpers.ledger import add_company, add_item, bank, codes

DAY = date(2026, 3, 1)


def test_sales_invoice_posts_sales_vat_debtors_and_stock_movement(store):
    with store.transaction() as s:
        n, t = codes(s)
        cust = add_company(s, "C1", "Acme Ltd")
        item = add_item(s, "W1", "9.99", "4.1234")
        inv = L.create_document(s, "sales_invoice", cust, "INV-1", DAY, [
            L.LineInput(D("3"), D("9.99"), item.id),
            L.LineInput(D("1"), D("4.95"), description="Delivery", nominal_id=n["4905"].id, tax_code_id=t["T1"].id),
        ])
        assert (inv.net_total, inv.tax_total, inv.gross_total) == (D("34.92"), D("6.98"), D("41.90"))
        tb = {r.code: r for r in trial_balance(s).rows}
        assert tb["1100"].debit == D("41.90")
        assert tb["4000"].credit == D("29.97") and tb["4905"].credit == D("4.95")
        assert tb["2200"].credit == D("6.98")
        # Cost of sale at 3 × 4.1234 = 12.3702 -> 12.37, out of stock.
        assert tb["5100"].debit == D("12.37") and tb["1001"].credit == D("12.37")
        assert tb["5100"].journal_by_hand and tb["1001"].journal_by_hand and not tb["4000"].journal_by_hand


def test_receipt_part_pays_and_leaves_the_rest_on_account(store):
    with store.transaction() as s:
        cust = add_company(s, "C1", "Acme Ltd")
        item = add_item(s, "W1", "10.00", "5.00")
        inv = L.create_document(s, "sales_invoice", cust, "INV-1", DAY, [L.LineInput(D("1"), D("100"), item.id)])
        cur = bank(s)
        L.record_payment(s, "receipt", cust, cur, D("150"), DAY, [(inv, D("100"))])
        assert L.outstanding(s, inv.id) == D("20.00")
        assert L.company_balance(s, cust.id) == D("-30.00")   # 50 on account, 20 still owed
        assert L.bank_balance(s, cur.id) == D("150.00")


def test_allocation_above_outstanding_is_refused_and_writes_nothing(store):
    with store.transaction() as s:
        cust = add_company(s, "C1", "Acme Ltd")
        item = add_item(s, "W1", "10.00", "5.00")
        inv = L.create_document(s, "sales_invoice", cust, "INV-1", DAY, [L.LineInput(D("1"), D("10"), item.id)])
        inv_id, cust_id = inv.id, cust.id
    with pytest.raises(LedgerError, match="more than"), store.transaction() as s:
        L.record_payment(s, "receipt", s.get(type(cust), cust_id), bank(s), D("50"), DAY,
                         [(s.get(type(inv), inv_id), D("50"))])
    with store.session() as s:
        assert L.outstanding(s, inv_id) == D("12.00")
        assert s.query(Allocation).count() == 0


def test_credit_note_allocation_and_payment_reversal(store):
    with store.transaction() as s:
        cust = add_company(s, "C1", "Acme Ltd")
        item = add_item(s, "W1", "10.00", "5.00")
        inv = L.create_document(s, "sales_invoice", cust, "INV-1", DAY, [L.LineInput(D("2"), D("10"), item.id)])
        cn = L.create_document(s, "sales_credit", cust, "CN-1", DAY, [L.LineInput(D("1"), D("10"), item.id)])
        L.allocate_credit_note(s, cn, inv, D("12"))
        assert L.outstanding(s, inv.id) == D("12.00") and L.outstanding(s, cn.id) == D("0.00")
        pay = L.record_payment(s, "receipt", cust, bank(s), D("12"), DAY, [(inv, D("12"))])
        assert L.outstanding(s, inv.id) == D("0.00")
        L.reverse_payment(s, pay)
        assert L.outstanding(s, inv.id) == D("12.00")
        assert L.bank_balance(s, bank(s).id) == D("0.00")


def test_prepayment_then_allocation_to_invoice(store):
    with store.transaction() as s:
        cust = add_company(s, "C2", "Walk-in Ltd", is_account=False)
        item = add_item(s, "W1", "10.00", "5.00")
        pre = L.record_payment(s, "prepayment", cust, bank(s), D("24"), DAY)
        inv = L.create_document(s, "sales_invoice", cust, "INV-2", DAY, [L.LineInput(D("2"), D("10"), item.id)])
        L.allocate_prepayment(s, pre, inv, D("24"))
        assert L.outstanding(s, inv.id) == D("0.00")
        assert L.company_balance(s, cust.id) == D("0.00")


def test_payment_guard_blocks_account_customers_only_while_integration_is_on(store):
    with store.transaction() as s:
        acct = add_company(s, "C1", "Acme Ltd")
        cash = add_company(s, "C2", "Walk-in Ltd", is_account=False)
        s.add(AppSetting(key=L.INTEGRATION_ENABLED_KEY, value="1"))
    with pytest.raises(PaymentGuardError, match="account customer"), store.transaction() as s:
        L.record_payment(s, "receipt", s.merge(acct), bank(s), D("10"), DAY)
    with store.transaction() as s:
        L.record_payment(s, "prepayment", s.merge(cash), bank(s), D("10"), DAY)
        # Payments coming from the package are not blocked: that is how they reach the ledger.
        L.record_payment(s, "receipt", s.merge(acct), bank(s), D("10"), DAY, source="xero", remote_id="P-1")
        s.get(AppSetting, L.INTEGRATION_ENABLED_KEY).value = "0"
    with store.transaction() as s:
        L.record_payment(s, "receipt", s.merge(acct), bank(s), D("10"), DAY)


amounts = st.decimals(min_value=D("0.01"), max_value=D("999.99"), places=2)
quantities = st.integers(min_value=1, max_value=20).map(D)
line_st = st.tuples(quantities, st.decimals(min_value=D("0.0001"), max_value=D("250"), places=4),
                    st.sampled_from(["0", "5", "12.5"]), st.sampled_from(["T1", "T5", "T0"]))
doc_st = st.tuples(st.sampled_from(["sales_invoice", "sales_credit", "purchase_invoice", "purchase_credit"]),
                   st.lists(line_st, min_size=1, max_size=4))
ops_st = st.lists(st.tuples(doc_st, st.floats(min_value=0, max_value=1.2)), min_size=1, max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=ops_st)
def test_random_books_always_balance_and_outstanding_is_total_less_allocations(store, ops):
    with store.session() as s:  # rolled back at the end: each example starts from the same books
        n, t = codes(s)
        cust = add_company(s, f"C{id(ops)}", f"Cust {id(ops)}")
        sup = add_company(s, f"S{id(ops)}", f"Supp {id(ops)}", kind="supplier")
        item = add_item(s, f"I{id(ops)}", "10", "3.3333")
        cur = bank(s)
        docs = []
        for i, ((kind, lines), pay_share) in enumerate(ops):
            company = cust if kind.startswith("sales") else sup
            specs = [L.LineInput(q, p, item.id if j % 2 == 0 else None, description="x",
                                 discount_rate=D(d), tax_code_id=t[tc].id,
                                 nominal_id=None if j % 2 == 0
                                 else n["4010" if kind.startswith("sales") else "5010"].id)
                     for j, (q, p, d, tc) in enumerate(lines)]
            doc = L.create_document(s, kind, company, f"D{id(ops)}-{i}", DAY + timedelta(days=i), specs)
            docs.append(doc)
            if kind.endswith("invoice") and doc.gross_total > 0:
                due = L.outstanding(s, doc.id)
                part = min(due, (due * D(str(round(pay_share, 2)))).quantize(D("0.01")))
                if part > 0:
                    pkind = "receipt" if kind == "sales_invoice" else "supplier_payment"
                    L.record_payment(s, pkind, company, cur, part + D("1.00"), doc.date, [(doc, part)])
        tb = trial_balance(s)
        assert tb.total_debit == tb.total_credit
        assert sum(line.amount for line in s.query(JournalLine)) == 0
        for doc in docs:
            allocated = sum((a.amount for a in s.query(Allocation).filter_by(document_id=doc.id)), D(0))
            sign = -1 if doc.kind.endswith("credit") else 1
            assert L.outstanding(s, doc.id) == sign * doc.gross_total - allocated
        s.rollback()
