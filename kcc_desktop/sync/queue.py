"""The export queue: every ledger change the accounting package must learn becomes one pending ExportItem.

Queued: new or changed companies, stock items (all of them, or with "Only Export Stock on Invoices"
only those on queued documents), sales and purchase invoices and credit notes, and allocations of
prepayments to invoices. A company or item that was already exported is queued as an *update*.
Never queued: stock and cost-of-sale postings (they are journal lines, not objects, and stay in KCC)
and credit-note allocations (local only).

How: an ``after_flush`` listener on every ``Session`` collects the ids of what the flush touched and
queues them with the same ``INSERT ... SELECT`` statements ``enqueue_all`` runs over whole tables, so the
grid's columns (reference, company, date, amount, currency) are filled one way only. The partial unique
index on ``export_item`` keeps at most one pending entry per object: ``INSERT OR IGNORE`` (PostgreSQL:
``ON CONFLICT DO NOTHING``) drops repeats,
and the pending row's display columns are refreshed instead.

Per package: every row belongs to a ``Target`` (the connection's package and organisation, read in the
same transaction). A change is queued for the connection's target, and a changed company or stock item
also for every other target it was exported to (as an update). When the connection moves to another
target, ``prepare_target`` queues there everything that target has not had yet.

Documents written in bulk (``ledger.bulk_rows``: the CSV import) pass no ORM flush, so the listener never
pays for them row by row: a ``before_commit`` listener queues the id ranges the bulk writer noted, with
the same statements, once per transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Exists,
    Select,
    Table,
    case,
    event,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased
from sqlalchemy.orm.attributes import instance_state

from ..ledger.bulk_rows import WRITTEN_DOCUMENTS
from ..models import (
    Allocation,
    AppSetting,
    Company,
    Document,
    DocumentKind,
    DocumentLine,
    ExportItem,
    ExportStatus,
    ItemType,
    Payment,
    PaymentKind,
    StockItem,
    UTCDateTime,
    utcnow,
)
from ..settings_db import upsert
from .options import KEYS
from .target import Target, read_target

# Set ``session.info[SKIP_QUEUE] = True`` to keep a session's flushes out of the queue (bulk builders
# that call ``enqueue_all`` themselves afterwards).
SKIP_QUEUE = "kcc_skip_export_queue"

# Company/item attributes whose change the package must hear about (a timestamp alone is not a change).
_COMPANY_FIELDS = ("code", "name", "email", "currency", "kind", "is_account")
_ITEM_FIELDS = ("code", "description", "price", "cost", "sales_nominal_id", "purchase_nominal_id", "tax_code_id")

ONLY_STOCK_ON_INVOICES_KEY = KEYS["only_export_stock_on_invoices"]
_FILL_LOCK = 0x4B434351   # PostgreSQL advisory lock: one desk fills the queue for a new target at a time
QUEUED_TARGET_KEY = "export.queued_target"   # the target enqueue_all last filled, "provider/tenant"

_installed = False
_install_lock = threading.Lock()
_table = cast(Table, ExportItem.__table__)   # a mapped class's __table__ is its Table
_DOC_TYPES = {k.value: k.value for k in DocumentKind}  # document kinds are item types one for one


def install_queue_listeners() -> None:
    """Start queuing ledger changes (idempotent). ``open_store`` should call this once."""
    global _installed
    with _install_lock:
        if not _installed:
            event.listen(Session, "after_flush", _after_flush)
            event.listen(Session, "before_commit", _before_commit)
            _installed = True


def uninstall_queue_listeners() -> None:
    global _installed
    with _install_lock:
        if _installed:
            event.remove(Session, "after_flush", _after_flush)
            event.remove(Session, "before_commit", _before_commit)
            _installed = False


def only_stock_on_invoices(conn: Connection) -> bool:
    """The "Only Export Stock on Invoices" option, read in the caller's transaction."""
    value = conn.execute(select(AppSetting.value).where(AppSetting.key == ONLY_STOCK_ON_INVOICES_KEY)).scalar()
    return value == "1"


# --- the listener ----------------------------------------------------------------------------------

def _changed(session: Session, obj: Company | StockItem, fields: Iterable[str]) -> bool:
    state = instance_state(obj)
    return any(state.attrs[f].history.has_changes() for f in fields)


def _after_flush(session: Session, _flush_context: object) -> None:
    if session.info.get(SKIP_QUEUE):
        return
    companies: set[int] = set()
    items: set[int] = set()
    changed: dict[str, set[int]] = {ItemType.COMPANY: set(), ItemType.STOCK_ITEM: set()}
    documents: set[int] = set()
    amended: set[int] = set()
    allocations: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Company):
            companies.add(obj.id)
        elif isinstance(obj, StockItem):
            items.add(obj.id)
        elif isinstance(obj, Document):
            documents.add(obj.id)
        elif isinstance(obj, Allocation) and obj.payment_id is not None:
            allocations.add(obj.id)  # only prepayments' allocations are queued (checked in SQL)
    for obj in session.dirty:
        if isinstance(obj, Company) and _changed(session, obj, _COMPANY_FIELDS):
            companies.add(obj.id)
            changed[ItemType.COMPANY].add(obj.id)
        elif isinstance(obj, StockItem) and _changed(session, obj, _ITEM_FIELDS):
            items.add(obj.id)
            changed[ItemType.STOCK_ITEM].add(obj.id)
        elif isinstance(obj, Document) and obj.id is not None:
            documents.add(obj.id)  # queued again only if its pending row went (documents are not re-sent)
            amended.add(obj.id)
    if not (companies or items or documents or allocations):
        return
    conn = session.connection()
    now = utcnow()
    target = read_target(conn)
    stock_on_invoices = only_stock_on_invoices(conn) if (items or documents) else False
    if companies:
        queue_companies(conn, now, target, companies)
    if items and not stock_on_invoices:
        queue_stock_items(conn, now, target, items)
    elif items:
        # Only items already exported (or already queued) follow their changes into the package.
        queue_stock_items(conn, now, target, items, only_known=True)
    # A changed company or item is an update for every other package that has it, too.
    for other in _other_targets(conn, target, changed):
        queue_companies(conn, now, other, changed[ItemType.COMPANY], only_known=True)
        queue_stock_items(conn, now, other, changed[ItemType.STOCK_ITEM], only_known=True)
    if documents:
        queue_documents(conn, now, target, documents)
        if stock_on_invoices:
            queue_items_of_documents(conn, now, target, documents)
    if amended:
        _refresh_documents(conn, amended)
    if allocations:
        queue_prepayment_allocations(conn, now, target, allocations)


def _other_targets(conn: Connection, target: Target, changed: dict[str, set[int]]) -> list[Target]:
    """The other packages (and organisations) any of these companies or items was exported to."""
    found: set[Target] = set()
    for item_type, ids in changed.items():
        if ids:
            found.update(Target(p, t) for p, t in conn.execute(
                select(_table.c.provider, _table.c.tenant_id).distinct().where(
                    _table.c.item_type == item_type, _table.c.object_id.in_(sorted(ids)),
                    _table.c.status == ExportStatus.EXPORTED)).tuples())
    found.discard(target)
    return sorted(found)


def _before_commit(session: Session) -> None:
    """Queues the documents ``ledger.bulk_rows`` wrote in this transaction (ranges of ids)."""
    written: list[range] | None = session.info.pop(WRITTEN_DOCUMENTS, None)
    if not written or session.info.get(SKIP_QUEUE):
        return
    conn = session.connection()
    now = utcnow()
    target = read_target(conn)
    stock_on_invoices = only_stock_on_invoices(conn)
    for ids in written:
        queue_documents(conn, now, target, ids)
        if stock_on_invoices:
            queue_items_of_documents(conn, now, target, ids)


# --- INSERT ... SELECT, shared by the listener and enqueue_all ---------------------------------------

def _ids_filter(column: InstrumentedAttribute[int], ids: Iterable[int] | None) -> ColumnElement[bool]:
    if ids is None:
        return literal(True)
    if isinstance(ids, range) and ids.step == 1:   # bulk-written ids: one BETWEEN, not 200,000 parameters
        return column.between(ids.start, ids.stop - 1)
    return column.in_(sorted(ids))


def _was_exported(target: Target, item_type: Any, object_id_col: Any) -> Exists:
    done = aliased(ExportItem)
    return exists().where(done.provider == target.provider, done.tenant_id == target.tenant_id,
                          done.item_type == item_type, done.object_id == object_id_col,
                          done.status == ExportStatus.EXPORTED)


_COLS = ["provider", "tenant_id", "item_type", "object_id", "action", "status", "reference", "company_name",
         "doc_date", "amount", "currency", "precheck", "queued_at", "attempts", "marked_manually", "confirmed",
         "remote_id", "remote_number"]


def _insert(conn: Connection, sel: Select[Any]) -> int:
    """INSERT ... SELECT that skips an object already pending (the partial unique index), on either engine."""
    if conn.dialect.name == "postgresql":
        # psycopg reports no row count for this statement: the ids it returns are the count.
        stmt: Any = pg_insert(_table).from_select(_COLS, sel).on_conflict_do_nothing().returning(_table.c.id)
        return len(conn.execute(stmt).fetchall())
    else:
        stmt = insert(_table).prefix_with("OR IGNORE").from_select(_COLS, sel)
    return conn.execute(stmt).rowcount or 0


def _row(target: Target, item_type: Any, object_id: Any, action: Any, reference: Any, company_name: Any,
         doc_date: Any, amount: Any, currency: Any, now: datetime) -> list[Any]:
    """The SELECT list for one queued row: each argument a column expression or a literal."""
    none_money = literal(None, ExportItem.amount.type)
    return [literal(target.provider), literal(target.tenant_id),
            literal(item_type) if isinstance(item_type, str) else item_type, object_id, action,
            literal(ExportStatus.PENDING.value), reference, company_name,
            doc_date if doc_date is not None else literal(None, ExportItem.doc_date.type),
            amount if amount is not None else none_money, currency, literal(""),
            literal(now, UTCDateTime()), literal(0), literal(False), literal(False), literal(""), literal("")]


def _refresh_pending(conn: Connection, item_type: str, ids: Iterable[int] | None, values: dict[str, Any]) -> None:
    """A pending row shows the object as it is now (a rename before upload, say), in every package where it
    waits: the one connected and any other the company was connected to before."""
    if ids is None:
        return
    conn.execute(update(_table).where(
        _table.c.item_type == item_type, _table.c.status == ExportStatus.PENDING,
        _table.c.object_id.in_(sorted(ids))).values(**values))


def _refresh_documents(conn: Connection, ids: Iterable[int]) -> None:
    """An amended document's pending rows, in every package, show its company, date and total as they are
    now (``amend_document``: an exported one is not sent again, so its exported rows keep what was sent)."""
    for d in conn.execute(select(Document.id, Document.kind, Document.number, Document.date, Document.gross_total,
                                 Document.currency, Company.name).join(Company, Company.id == Document.company_id)
                          .where(Document.id.in_(sorted(ids)))):
        conn.execute(update(_table).where(
            _table.c.item_type == d.kind, _table.c.object_id == d.id, _table.c.status == ExportStatus.PENDING)
            .values(reference=d.number, company_name=d.name, doc_date=d.date, amount=d.gross_total,
                    currency=d.currency))


def queue_companies(conn: Connection, now: datetime, target: Target, ids: Iterable[int] | None = None,
                    only_known: bool = False) -> int:
    action = case((_was_exported(target, ItemType.COMPANY, Company.id), literal("update")),
                  else_=literal("create"))
    sel = select(*_row(target, ItemType.COMPANY.value, Company.id, action, Company.code, Company.name, None, None,
                       Company.currency, now)).where(_ids_filter(Company.id, ids))
    if only_known:
        sel = sel.where(_was_exported(target, ItemType.COMPANY, Company.id))
    n = _insert(conn, sel)
    if ids is not None:
        for c in conn.execute(select(Company.id, Company.code, Company.name, Company.currency)
                              .where(Company.id.in_(sorted(ids)))):
            _refresh_pending(conn, ItemType.COMPANY, [c.id],
                             {"reference": c.code, "company_name": c.name, "currency": c.currency})
    return n


def queue_stock_items(conn: Connection, now: datetime, target: Target, ids: Iterable[int] | None = None,
                      only_known: bool = False) -> int:
    action = case((_was_exported(target, ItemType.STOCK_ITEM, StockItem.id), literal("update")),
                  else_=literal("create"))
    sel = select(*_row(target, ItemType.STOCK_ITEM.value, StockItem.id, action, StockItem.code,
                       StockItem.description, None, StockItem.price, literal(""), now)
                 ).where(_ids_filter(StockItem.id, ids))
    if only_known:
        sel = sel.where(_was_exported(target, ItemType.STOCK_ITEM, StockItem.id))
    n = _insert(conn, sel)
    if ids is not None:
        for i in conn.execute(select(StockItem.id, StockItem.code, StockItem.description, StockItem.price)
                              .where(StockItem.id.in_(sorted(ids)))):
            _refresh_pending(conn, ItemType.STOCK_ITEM, [i.id],
                             {"reference": i.code, "company_name": i.description, "amount": i.price})
    return n


def queue_documents(conn: Connection, now: datetime, target: Target, ids: Iterable[int] | None = None) -> int:
    """Invoices and credit notes; a document already exported to this target is never queued again."""
    sel = (select(*_row(target, Document.kind, Document.id, literal("create"), Document.number, Company.name,
                        Document.date, Document.gross_total, Document.currency, now))
           .join(Company, Company.id == Document.company_id)
           .where(_ids_filter(Document.id, ids), ~_was_exported(target, Document.kind, Document.id)))
    return _insert(conn, sel)


def queue_items_of_documents(conn: Connection, now: datetime, target: Target,
                             doc_ids: Iterable[int] | None = None) -> int:
    """With "Only Export Stock on Invoices": the stock items on these documents that the package lacks."""
    used = select(DocumentLine.stock_item_id).where(DocumentLine.stock_item_id.is_not(None),
                                                   _ids_filter(DocumentLine.document_id, doc_ids))
    sel = (select(*_row(target, ItemType.STOCK_ITEM.value, StockItem.id, literal("create"), StockItem.code,
                        StockItem.description, None, StockItem.price, literal(""), now))
           .where(StockItem.id.in_(used), ~_was_exported(target, ItemType.STOCK_ITEM, StockItem.id)))
    return _insert(conn, sel)


def queue_prepayment_allocations(conn: Connection, now: datetime, target: Target,
                                 ids: Iterable[int] | None = None) -> int:
    """Allocations of prepayments to invoices; credit-note allocations and receipts never sync."""
    inv = aliased(Document)
    sel = (select(*_row(target, ItemType.PREPAYMENT_ALLOCATION.value, Allocation.id, literal("create"), inv.number,
                        Company.name, Allocation.date, Allocation.amount, Payment.currency, now))
           .join(Payment, Payment.id == Allocation.payment_id)
           .join(inv, inv.id == Allocation.document_id)
           .join(Company, Company.id == Payment.company_id)
           .where(_ids_filter(Allocation.id, ids), Payment.kind == PaymentKind.PREPAYMENT,
                  Allocation.credit_note_id.is_(None), Allocation.reversed_at.is_(None),
                  ~_was_exported(target, ItemType.PREPAYMENT_ALLOCATION, Allocation.id)))
    return _insert(conn, sel)


def enqueue_all(session: Session, target: Target | None = None) -> int:
    """Queue for ``target`` (default: the connection's) everything it has not had or queued yet, table by
    table (for data built in bulk, and for a package the company has just been connected to).

    Set-based, so 100,000 documents take a second or two. Returns how many entries were added.
    Companies and stock items already exported there are not queued again (nothing changed that we know of).
    """
    conn = session.connection()
    target = target or read_target(conn)
    now = utcnow()
    n = 0
    n += _insert(conn, select(*_row(target, ItemType.COMPANY.value, Company.id, literal("create"), Company.code,
                                    Company.name, None, None, Company.currency, now))
                 .where(~_was_exported(target, ItemType.COMPANY, Company.id)))
    if only_stock_on_invoices(conn):
        n += queue_items_of_documents(conn, now, target, None)
    else:
        n += _insert(conn, select(*_row(target, ItemType.STOCK_ITEM.value, StockItem.id, literal("create"),
                                        StockItem.code, StockItem.description, None, StockItem.price,
                                        literal(""), now))
                     .where(~_was_exported(target, ItemType.STOCK_ITEM, StockItem.id)))
    n += queue_documents(conn, now, target, None)
    n += queue_prepayment_allocations(conn, now, target, None)
    return n


def prepare_target(session: Session) -> Target:
    """Makes the export queue ready for the connection's target (in the caller's transaction).

    Rows queued before an organisation was chosen go to the organisation now connected (where it has no
    row of its own for the same object); a target the queue was not last filled for gets everything it
    has not had yet (``enqueue_all``). Cheap when nothing changed: two reads of the settings.

    Run it through ``Store.retrying``: two desks starting together take turns here (the second may wait on
    the first's lock, a wait that is bounded like every other)."""
    conn = session.connection()
    target = read_target(conn)
    key = f"{target.provider}/{target.tenant_id}"
    if _queued_for(conn) == key:
        return target
    # Desks starting at once both found the queue unfilled, both filled it and both inserted the setting; one
    # died on its unique key (bench_desks, three desks on PostgreSQL). One desk fills it; the next finds it done.
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _FILL_LOCK})
    else:   # SQLite's write lock, taken now (pysqlite begins lazily, so the read above held no snapshot)
        conn.execute(text("UPDATE app_setting SET key = key WHERE 1 = 0"))
    if _queued_for(conn) == key:
        return target
    if target.tenant_id:
        _adopt_unassigned(conn, target)
    enqueue_all(session, target)
    upsert(session, conn.dialect.name == "postgresql", QUEUED_TARGET_KEY, key)
    return target


def _queued_for(conn: Connection) -> str | None:
    return conn.execute(select(AppSetting.value).where(AppSetting.key == QUEUED_TARGET_KEY)).scalar()


def _adopt_unassigned(conn: Connection, target: Target) -> None:
    """Rows of ``target``'s package queued while no organisation was chosen now belong to ``target``."""
    mine = aliased(ExportItem)
    unassigned = (_table.c.provider == target.provider) & (_table.c.tenant_id == "")
    # A pending row the organisation already has for the same object wins; the unassigned twin goes.
    conn.execute(_table.delete().where(unassigned, _table.c.status == ExportStatus.PENDING, exists().where(
        mine.provider == target.provider, mine.tenant_id == target.tenant_id, mine.item_type == _table.c.item_type,
        mine.object_id == _table.c.object_id, mine.status == ExportStatus.PENDING)))
    conn.execute(update(_table).where(unassigned).values(tenant_id=target.tenant_id))


def pending_count(session: Session, target: Target | None = None) -> int:
    target = target or read_target(session)
    return session.scalar(select(func.count()).select_from(ExportItem).where(
        ExportItem.provider == target.provider, ExportItem.tenant_id == target.tenant_id,
        ExportItem.status == ExportStatus.PENDING)) or 0


def ensure_queued(session: Session, target: Target, item_type: str, object_id: int) -> int | None:
    """The pending entry for one object, queued now if there is none (for dependencies); returns its id,
    or None for an object that is never queued (a credit note's allocation, an exported document)."""
    def pending() -> int | None:
        return session.scalar(select(ExportItem.id).where(
            ExportItem.provider == target.provider, ExportItem.tenant_id == target.tenant_id,
            ExportItem.item_type == item_type, ExportItem.object_id == object_id,
            ExportItem.status == ExportStatus.PENDING))

    found = pending()
    if found is not None:
        return found
    conn = session.connection()
    now = utcnow()
    if item_type == ItemType.COMPANY:
        queue_companies(conn, now, target, [object_id])
    elif item_type == ItemType.STOCK_ITEM:
        queue_stock_items(conn, now, target, [object_id])
    elif item_type in _DOC_TYPES:
        queue_documents(conn, now, target, [object_id])
    elif item_type == ItemType.PREPAYMENT_ALLOCATION:
        queue_prepayment_allocations(conn, now, target, [object_id])
    return pending()


__all__ = [
    "SKIP_QUEUE",
    "Target",
    "enqueue_all",
    "ensure_queued",
    "install_queue_listeners",
    "only_stock_on_invoices",
    "pending_count",
    "prepare_target",
    "uninstall_queue_listeners",
]
