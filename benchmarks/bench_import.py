"""Import benchmarks: fetching and allocating N payments recorded in the sandbox, and the Import tab on
100,000 rows.

    .venv/bin/python benchmarks/bench_import.py [--xero 10000] [--qbo 10000] [--gui 100000] [--minute 1]
                                                [--skip xero qbo gui]

Xero and QuickBooks each run in their own process (as the real package is elsewhere). The ledger gets N
sales invoices (written with the ledger service), the exporter uploads them, and a bookkeeper records one
payment per invoice through the official SDK (xero-python ``PUT /Payments`` 50 a request; python-quickbooks
``BatchManager`` 30 a request). Then the timed part: ``PaymentsImport.fetch`` (requests read from
``/_sandbox/stats``) and ``create_and_allocate`` (payments a second, wall and CPU). Rate-limit windows are
time-scaled (``--minute``) so setting up does not take hours; the import itself is never throttled.
Figures go to stdout as JSON lines; copy them into README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_TMP = Path(tempfile.mkdtemp(prefix="kcc-bench-import-"))
os.environ["KCC_DATA_DIR"] = str(_TMP / "data")
os.environ["KCC_LOG_DIR"] = str(_TMP / "logs")
os.environ["KCC_SETTINGS_DIR"] = str(_TMP / "ui")


def _keyring() -> None:
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    ring = PlaintextKeyring()
    ring.file_path = str(_TMP / "keyring.cfg")   # a benchmark's throwaway tokens, never a user's
    keyring.set_keyring(ring)


class Server:
    """A sandbox in its own process; ``stats()`` reads /_sandbox/stats."""

    def __init__(self, provider: str, time_scale: float) -> None:
        import subprocess

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kcc_desktop.sandbox.runner", "--provider", provider, "--port", "0",
             "--time-scale", str(time_scale)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        self.info = json.loads(self.proc.stdout.readline())
        self.root = self.info["root"]

    def urls(self) -> dict:
        return dict(self.info["urls"], root=self.root)

    def stats(self) -> dict:
        import requests

        return requests.get(f"{self.root}/_sandbox/stats", timeout=30).json()

    def count(self, method: str, tail: str) -> int:
        return sum(n for k, n in self.stats()["by_endpoint"].items()
                   if k.startswith(method + " ") and k.lower().endswith(tail.lower()))

    def api_calls(self) -> int:
        return sum(n for k, n in self.stats()["by_endpoint"].items() if "/api.xro/" in k or " /v3/" in k)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def ledger(store, n: int, customers: int = 50) -> None:
    """``customers`` account customers and ``n`` one-line sales invoices, through the ledger service."""
    from sqlalchemy import select

    from kcc_desktop.ledger import service
    from kcc_desktop.ledger.chart import seed_standard_chart
    from kcc_desktop.models import Company, NominalCode, StockItem, TaxCode

    with store.transaction() as s:
        seed_standard_chart(s)
        n_ = {c.code: c.id for c in s.scalars(select(NominalCode))}
        item = StockItem(code="W-1", description="Widgets", price=Decimal("10.99"), cost=Decimal("4.00"),
                         sales_nominal_id=n_["4000"], purchase_nominal_id=n_["5000"], stock_nominal_id=n_["1001"],
                         cost_of_sale_nominal_id=n_["5100"],
                         tax_code_id=s.scalar(select(TaxCode.id).where(TaxCode.code == "T1")))
        firms = [Company(code=f"C{i:03d}", name=f"Customer {i:03d} Ltd", kind="customer", is_account=True)
                 for i in range(customers)]
        s.add_all([*firms, item])
        s.flush()
        for k in range(n):
            price = Decimal(10 + k % 500) + Decimal("0.99")
            service.create_document(s, "sales_invoice", firms[k % customers], f"SI-{k + 1:06d}", date(2026, 1, 5),
                                    [service.LineInput(quantity=Decimal(1), unit_price=price, stock_item_id=item.id)])


def setup(provider: str, n: int, minute: float):
    """(server, store, package, set-up times): N invoices exported, one payment each recorded."""
    scale = minute / 60.0
    os.environ["KCC_PACING_TIME_SCALE"] = str(scale)
    server = Server(provider, scale)
    try:
        return server, *_prepare(provider, n, server)
    except BaseException:
        server.stop()
        raise


def _prepare(provider: str, n: int, server: Server):
    from kcc_desktop.connectors.pacing import reset_pacers
    from kcc_desktop.store import open_store
    from kcc_desktop.sync.export import ExportService
    from kcc_desktop.sync.mapping import MappingService
    from kcc_desktop.sync.options import OptionsService
    from kcc_desktop.sync.queue import install_queue_listeners

    store = open_store(_TMP / f"{provider}.sqlite")
    install_queue_listeners()
    t0 = time.perf_counter()
    ledger(store, n)
    built = time.perf_counter() - t0
    reset_pacers()
    package = connect(provider, server, store)
    OptionsService(store).update(enabled=True)
    mapping = MappingService(store, provider)
    mapping.fetch(package)
    mapping.apply_default_setup()
    t0 = time.perf_counter()
    svc = ExportService(store)
    exported = svc.upload(svc.pending_ids(), package)
    assert exported.failed == 0, exported.text
    uploaded = time.perf_counter() - t0
    t0 = time.perf_counter()
    (pay_xero if provider == "xero" else pay_qbo)(server, store)
    paid = time.perf_counter() - t0
    return store, package, {"ledger_build_s": round(built, 1), "export_s": round(uploaded, 1),
                            "bookkeeper_pay_s": round(paid, 1)}


def connect(provider: str, server: Server, store):
    from kcc_desktop.connectors.settings import QUICKBOOKS, ConnectionSettings, save_connection
    from kcc_desktop.connectors.tokens import TokenSet, TokenStore, bind
    from kcc_desktop.settings_db import DbSettingsStore
    from tests.helpers.connect import connect_store, open_package

    if provider == "xero":
        os.environ["KCC_XERO_URL"] = server.root
        connect_store(store)
        return open_package(store)
    from kcc_desktop.connectors.quickbooks import QuickBooksPackage
    from kcc_desktop.sandbox.qbo_testing import qbo_login

    data = qbo_login(server.urls())
    settings = ConnectionSettings(provider=QUICKBOOKS, api_root=server.root, client_id="test",
                                  tenant_id=data["realm_id"])
    TokenStore().save(QUICKBOOKS, data["realm_id"],
                      bind(TokenSet.from_response(data), settings.endpoints().audience, data["realm_id"]))
    save_connection(DbSettingsStore(store), settings)
    return QuickBooksPackage(settings, TokenStore(), client_secret="test",
                             time_scale=float(os.environ["KCC_PACING_TIME_SCALE"]))


def _invoices(store, provider: str) -> list[tuple[str, Decimal, str]]:
    """(the package's invoice id, gross, the package's customer id) for every exported invoice."""
    from sqlalchemy import select

    from kcc_desktop.models import Document, RemoteLink

    with store.session() as s:
        links = {(link.object_type, link.object_id): link.remote_id for link in s.scalars(
            select(RemoteLink).where(RemoteLink.provider == provider))}
        return [(links[("sales_invoice", d.id)], d.gross_total, links.get(("company", d.company_id), ""))
                for d in s.scalars(select(Document).order_by(Document.id))]


def pay_xero(server: Server, store) -> None:
    from kcc_desktop.sandbox.testing import XeroBookkeeper, xero_login, xero_sdk_client

    keeper = XeroBookkeeper(xero_sdk_client(server.urls(), xero_login(server.urls()), retries=None))
    todo = _invoices(store, "xero")
    for start in range(0, len(todo), 50):
        keeper.pay_many([(i, g) for i, g, _ in todo[start:start + 50]], date(2026, 2, 1), "BACS")


def pay_qbo(server: Server, store) -> None:
    from quickbooks.batch import batch_create
    from quickbooks.objects.base import LinkedTxn, Ref
    from quickbooks.objects.payment import Payment, PaymentLine

    from kcc_desktop.sandbox.qbo_testing import qbo_login, qbo_sdk_client
    from kcc_desktop.sync.mapping import MappingService

    qb = qbo_sdk_client(server.urls(), qbo_login(server.urls()))
    bank = MappingService(store, "quickbooks").bank_remote_id(1)
    objs = []
    for inv, gross, customer in _invoices(store, "quickbooks"):
        p = Payment()
        p.TotalAmt = gross
        p.TxnDate = "2026-02-01"
        p.CustomerRef = Ref()
        p.CustomerRef.value = customer
        p.DepositToAccountRef = Ref()
        p.DepositToAccountRef.value = bank
        line = PaymentLine()
        line.Amount = gross
        txn = LinkedTxn()
        txn.TxnId, txn.TxnType = inv, "Invoice"
        line.LinkedTxn = [txn]
        p.Line = [line]
        objs.append(p)
    from quickbooks.exceptions import QuickbooksException

    minute = float(os.environ["KCC_PACING_TIME_SCALE"]) * 60
    for start in range(0, len(objs), 30):
        while True:
            try:
                result = batch_create(objs[start:start + 30], qb=qb)
                break
            except QuickbooksException as exc:   # a person's client is not paced: wait out a 429 (3001)
                if "3001" not in str(exc.error_code):
                    raise
                time.sleep(minute)
        assert not result.faults, [f.Error for f in result.faults[:3]]


def bench_import(provider: str, n: int, minute: float) -> dict:
    from kcc_desktop.sync.payments_import import PaymentsImport

    server, store, package, setup_times = setup(provider, n, minute)
    try:
        svc = PaymentsImport(store, provider)
        before = server.api_calls()
        t0 = time.perf_counter()
        fetched = svc.fetch(package)
        fetch_s = time.perf_counter() - t0
        fetch_requests = server.api_calls() - before
        by = server.stats()["by_endpoint"]
        ids = svc.ready_ids()
        t0, c0 = time.perf_counter(), time.process_time()
        made = svc.create_and_allocate(ids)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        again = svc.fetch(package)
        page = 100 if provider == "xero" else 1000
        return {"bench": f"import_{provider}", "payments": n, "fetched": fetched.fetched,
                "fetch_requests": fetch_requests, f"pages_of_{page}": -(-n // page),
                "payments_per_request": round(n / max(fetch_requests, 1), 1), "fetch_s": round(fetch_s, 2),
                "payment_reads": {k: v for k, v in by.items() if k.startswith(("GET", "POST"))
                                  and ("Payment" in k or "Overpayment" in k or "/query" in k or "/cdc" in k)},
                "created": made.created, "failed": made.failed,
                "allocate_wall_s": round(wall, 2), "allocate_cpu_s": round(cpu, 2),
                "allocations_per_s_wall": round(made.created / wall),
                "allocations_per_s_cpu": round(made.created / cpu),
                "refetch_new": again.fetched, **setup_times}
    finally:
        server.stop()


def bench_gui(n: int) -> dict:
    """The Import tab on ``n`` fetched payments: open, Select All, sort by amount, filter."""
    from PySide6.QtWidgets import QApplication
    from sqlalchemy import insert

    from kcc_desktop.context import AppContext
    from kcc_desktop.ledger.chart import seed_standard_chart
    from kcc_desktop.models import ImportedPayment
    from kcc_desktop.settings_db import DbSettingsStore
    from kcc_desktop.store import open_store
    from kcc_desktop.ui.import_tab import ImportTab

    app = QApplication.instance() or QApplication([])
    store = open_store(_TMP / "gui.sqlite")
    with store.transaction() as s:
        seed_standard_chart(s)
        now = datetime.now(UTC)
        s.execute(insert(ImportedPayment), [{
            "provider": "xero", "remote_id": f"P{i}", "kind": "receipt" if i % 4 else "supplier_payment",
            "date": date(2026, 1, 1 + i % 28), "amount": Decimal(i % 9000) + Decimal("0.5"), "currency": "GBP",
            "company_name": f"Customer {i % 50:03d} Ltd", "bank_account_code": "090", "reference": f"BACS {i}",
            "invoices": f"SI-{i:06d}", "allocations_json": "[]", "remote_status": "AUTHORISED",
            "remote_updated_at": now, "status": "Ready to create"} for i in range(n)])
    DbSettingsStore(store).set("connection.provider", "xero")   # as a saved connection would
    tab = ImportTab(AppContext(store))
    tab.fetch_on_show = False       # no package here: the grid alone
    t0 = time.perf_counter()
    tab.refresh()
    tab.resize(1280, 800)
    tab.show()
    app.processEvents()
    opened = time.perf_counter() - t0
    t0 = time.perf_counter()
    tab.grid.selectAll()
    app.processEvents()
    selected = time.perf_counter() - t0
    enabled = tab.create_allocate_action.isEnabled()
    t0 = time.perf_counter()
    tab.grid.sortByColumn(4, tab.grid.horizontalHeader().sortIndicatorOrder())
    app.processEvents()
    sorted_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    tab.grid.filter_edit.setText("customer 007")
    tab.grid.apply_filter()
    app.processEvents()
    filtered = time.perf_counter() - t0
    shown = tab.grid.proxy.rowCount()
    tab.grid.filter_edit.clear()
    tab.grid.apply_filter()
    # Create & Allocate on all of them (no bank is mapped here, so each gets a "Not created" status):
    # a 10 ms heartbeat timer; the longest gap between ticks is the worst GUI stall while the worker runs.
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    tab.grid.selectAll()
    app.processEvents()
    clock, gaps, last = QElapsedTimer(), [], [0]
    clock.start()

    def tick():
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now
    beat = QTimer(interval=10)
    beat.timeout.connect(tick)
    loop = QEventLoop()
    tab.busy_changed.connect(lambda busy: busy or loop.quit())
    t0 = time.perf_counter()
    tab.create_allocate_action.trigger()
    started = time.perf_counter() - t0
    last[0] = clock.elapsed()
    beat.start()
    loop.exec()
    beat.stop()
    worked = time.perf_counter() - t0
    tab.close()
    return {"bench": "import_tab_gui", "rows": n, "open_s": round(opened, 3), "select_all_s": round(selected, 3),
            "create_enabled_after_select_all": enabled, "sort_by_amount_s": round(sorted_s, 3),
            "filter_s": round(filtered, 3), "filter_rows": shown, "start_create_s": round(started, 3),
            "create_all_s": round(worked, 2), "statuses": tab.last_summary.text if tab.last_summary else "",
            "max_gui_stall_ms_while_creating": max(gaps) if gaps else None}


def main() -> int:
    import faulthandler
    import signal
    faulthandler.register(signal.SIGUSR1)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--xero", type=int, default=10000, help="payments for the Xero run")
    p.add_argument("--qbo", type=int, default=10000, help="payments for the QuickBooks run")
    p.add_argument("--gui", type=int, default=100000, help="rows for the Import tab timings")
    p.add_argument("--minute", type=float, default=1.0, help="seconds a rate-limit 'minute' lasts (setup only)")
    p.add_argument("--skip", nargs="*", default=[], choices=["xero", "qbo", "gui"])
    args = p.parse_args()
    _keyring()
    print(json.dumps({"machine": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
                      "load": os.getloadavg(), "at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}),
          flush=True)
    if "xero" not in args.skip:
        print(json.dumps(bench_import("xero", args.xero, args.minute)), flush=True)
    if "qbo" not in args.skip:
        print(json.dumps(bench_import("quickbooks", args.qbo, args.minute)), flush=True)
    if "gui" not in args.skip:
        print(json.dumps(bench_gui(args.gui)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
