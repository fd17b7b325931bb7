"""SQLAlchemy 2 typed ORM: the ledger tables and the integration tables."""

from .base import Base
from .integration import (
    AppSetting, AuditEntry, ExportFeedback, ExportItem, ExportStatus, ImportedPayment, ItemType, Mapping,
    MappingCategory, PackageAccount, RemoteLink,
)
from .ledger import (
    NEVER_EXPORTED_KINDS, Allocation, BankAccount, Company, CompanyKind, Document, DocumentKind, DocumentLine,
    JournalEntry, JournalLine, NominalCode, NominalKind, Payment, PaymentKind, StockItem, TaxCode,
)
from .types import Money, UTCDateTime, from_stored, utcnow

__all__ = [
    "Base", "AppSetting", "AuditEntry", "ExportFeedback", "ExportItem", "ExportStatus", "ImportedPayment",
    "ItemType", "Mapping", "MappingCategory", "PackageAccount", "RemoteLink", "NEVER_EXPORTED_KINDS",
    "Allocation", "BankAccount", "Company", "CompanyKind", "Document", "DocumentKind", "DocumentLine",
    "JournalEntry", "JournalLine", "NominalCode", "NominalKind", "Payment", "PaymentKind", "StockItem",
    "TaxCode", "Money", "UTCDateTime", "from_stored", "utcnow",
]
