"""Order-system CSV files for ``import-documents``, made up deterministically from a company file's own
customers, suppliers, stock items, tax codes and nominals (the tests and benchmarks/bench_csv_import.py).

Documents mix stock and free-text lines, discounts, due dates, credit notes and bills; some name a new
company; with ``interleave`` the rows of neighbouring documents alternate, as an order system exporting
by line may write them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from kcc_desktop.models import Company, NominalCode, StockItem, TaxCode

HEADER = ("type,number,date,due_date,company_code,company_name,currency,reference,stock_code,description,"
          "quantity,unit_price,discount_percent,tax_code,nominal_code")
KINDS = (("sales_invoice", 70), ("sales_credit", 10), ("purchase_invoice", 15), ("purchase_credit", 5))


@dataclass
class Codes:
    customers: list[str]
    suppliers: list[str]
    items: list[str]
    taxes: list[str]
    sales_nominals: list[str]
    purchase_nominals: list[str]


def codes_of(store) -> Codes:
    with store.session() as s:
        companies = s.execute(select(Company.code, Company.kind).where(Company.currency == "GBP")
                              .order_by(Company.id)).all()
        nominals = s.execute(select(NominalCode.code, NominalCode.kind).order_by(NominalCode.code)).all()
        return Codes(customers=[c for c, k in companies if k == "customer"],
                     suppliers=[c for c, k in companies if k == "supplier"],
                     items=list(s.scalars(select(StockItem.code).order_by(StockItem.id))),
                     taxes=[t for t in s.scalars(select(TaxCode.code).order_by(TaxCode.id)) if t != "T9"],
                     sales_nominals=[c for c, k in nominals if k in ("sales", "delivery")],
                     purchase_nominals=[c for c, k in nominals if k in ("purchase", "other")])


def order_rows(codes: Codes, documents: int, seed: int = 1, prefix: str = "WEB") -> list[list[list[str]]]:
    """Per document, its rows (lists of the HEADER's 15 cells)."""
    rng = random.Random(seed)
    kinds = [k for k, weight in KINDS for _ in range(weight)]
    start = date(2026, 4, 1)
    out = []
    for n in range(documents):
        kind = rng.choice(kinds)
        sales = kind.startswith("sales")
        when = start + timedelta(days=rng.randrange(180))
        due = (when + timedelta(days=30)).isoformat() if kind.endswith("invoice") and rng.random() < 0.7 else ""
        if n % 50 == 7:   # a company new to the ledger, named on every row
            code, name = f"NEW{n:06d}", f"New {'Customer' if sales else 'Supplier'} {n} Ltd"
        else:
            code, name = rng.choice(codes.customers if sales else codes.suppliers), ""
        number = f"{prefix}-{kind[0].upper()}{kind.split('_')[1][0].upper()}-{n:07d}"
        reference = f"PO {rng.randrange(10_000, 99_999)}" if rng.random() < 0.6 else ""
        rows = []
        for i in range(rng.choice((1, 1, 2, 2, 3, 4))):
            first = i == 0
            head = [kind, number, when.isoformat(), due if first else "", code, name if first or name else "",
                    "GBP" if first and rng.random() < 0.2 else "", reference if first else ""]
            discount = str(rng.choice((0, 0, 0, 2.5, 5, 10))) if rng.random() < 0.3 else ""
            quantity = str(rng.choice((1, 2, 3, 5, 10, 12, 24, 0.5, 1.25)))
            if rng.random() < 0.7 and codes.items:
                line = [rng.choice(codes.items), "", quantity, f"{rng.randrange(50, 50_000) / 100:.2f}", discount,
                        "", ""]
            else:
                nominal = rng.choice(codes.sales_nominals if sales else codes.purchase_nominals)
                line = ["", f"Service {rng.randrange(1000)}", quantity, f"{rng.randrange(1, 99_999) / 1000:.3f}",
                        discount, rng.choice(codes.taxes), nominal]
            rows.append(head + line)
        out.append(rows)
    return out


def write_orders(path: Path, codes: Codes, documents: int, seed: int = 1, *, interleave: bool = False,
                 prefix: str = "WEB") -> Path:
    docs = order_rows(codes, documents, seed, prefix)
    lines = [HEADER]
    for i in range(0, len(docs), 2 if interleave else 1):
        group = docs[i:i + 2] if interleave else docs[i:i + 1]
        longest = max(len(rows) for rows in group)
        for j in range(longest):
            lines.extend(",".join(rows[j]) for rows in group if j < len(rows))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write(tmp_path: Path, text: str, name: str = "docs.csv", encoding: str = "utf-8") -> str:
    """``text`` saved as a file in ``tmp_path`` (bytes exactly: no newline translation); returns its path."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)
