"""Finding what the package already holds, and remembering where it is (``RemoteLink``).

Used by the run's recovery (an attempt whose answer was never saved) and by Verify.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...connectors.base import AccountingPackage, DocKind
from ...models import (
    Company,
    Document,
    DocumentLine,
    ExportItem,
    ItemType,
    RemoteLink,
    StockItem,
    get_required,
    utcnow,
)
from .. import payloads as pl
from ..target import Target
from .rules import DOC_TYPES


def save_link(s: Session, target: Target, object_type: str, object_id: int, remote_id: str, number: str) -> None:
    link = pl.remote_link(s, target.provider, object_type, object_id, target.tenant_id)
    if link is None:
        s.add(RemoteLink(provider=target.provider, tenant_id=target.tenant_id, object_type=object_type,
                         object_id=object_id, remote_id=remote_id, remote_number=number or ""))
    else:
        link.remote_id, link.remote_number, link.linked_at = remote_id, number or "", utcnow()


def lookup(s: Session, package: AccountingPackage, item: ExportItem) -> tuple[str, str] | None:
    """(remote id, number) of the object in the package, found by number, name or code; None if absent."""
    if item.item_type in DOC_TYPES:
        doc = get_required(s, Document, item.object_id)
        contact = pl.remote_link(s, package.provider, ItemType.COMPANY, doc.company_id, item.tenant_id)
        # Bill and supplier credit numbers are per supplier: another supplier's document is not ours.
        per_supplier = item.item_type in (ItemType.PURCHASE_INVOICE, ItemType.PURCHASE_CREDIT)
        wanted = contact.remote_id if contact is not None and per_supplier else ""
        found = package.find_document(DocKind(item.item_type), doc.number, contact_remote_id=wanted)
        if found is None:
            return None
        if wanted and found.contact_remote_id and found.contact_remote_id != wanted:
            return None
        return found.remote_id, found.number
    if item.item_type == ItemType.COMPANY:
        company = get_required(s, Company, item.object_id)
        rid = package.find_contact(company.name, supplier=company.kind == "supplier")
        return (rid, company.code) if rid else None
    if item.item_type == ItemType.STOCK_ITEM:
        stock = get_required(s, StockItem, item.object_id)
        rid = package.find_item(stock.code)
        return (rid, stock.code) if rid else None
    return None   # a payment cannot be looked up by number


def sent_against(s: Session, target: Target, item_type: str, object_id: int) -> str:
    """What the package holds that points at this company or stock item ("3 documents"), or ""."""
    docs = select(RemoteLink.object_id).where(RemoteLink.provider == target.provider,
                                              RemoteLink.tenant_id == target.tenant_id,
                                              RemoteLink.object_type.in_([t.value for t in DOC_TYPES]))
    if item_type == ItemType.COMPANY:
        n = s.scalar(select(func.count()).select_from(Document).where(Document.company_id == object_id,
                                                                      Document.id.in_(docs))) or 0
    elif item_type == ItemType.STOCK_ITEM:
        n = s.scalar(select(func.count(func.distinct(DocumentLine.document_id))).where(
            DocumentLine.stock_item_id == object_id, DocumentLine.document_id.in_(docs))) or 0
    else:
        n = 0
    return f"{n} document{'s' if n != 1 else ''}" if n else ""
