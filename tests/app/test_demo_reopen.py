"""A second demo run reopens the same books on both sides: the ledger file and the sandbox's state."""

from __future__ import annotations

from kcc_desktop.connectors.base import DocKind
from kcc_desktop.connectors.pacing import reset_pacers
from kcc_desktop.models import Company, Document, RemoteLink
from kcc_desktop.sync.export import ExportService
from kcc_desktop.sync.queue import install_queue_listeners


def test_second_demo_run_reopens_the_same_books(tmp_path, monkeypatch):
    from kcc_desktop.demo.mode import open_demo

    monkeypatch.setenv("KCC_DATA_DIR", str(tmp_path / "data"))
    install_queue_listeners()
    reset_pacers()
    first = open_demo(documents=20)
    try:
        store = first.ctx.store
        service = ExportService(store)
        summary = service.upload(service.pending_ids(), first.ctx.package())
        assert summary.exported > 0
        with store.session() as s:
            companies = s.query(Company).count()
            number = s.query(Document.number).join(
                RemoteLink, (RemoteLink.object_id == Document.id) & (RemoteLink.object_type == "sales_invoice")
            ).first()[0]
            pending_after = len(service.pending_ids())
    finally:
        first.stop()
        first.ctx.store.close()
    reset_pacers()

    second = open_demo(documents=20)
    try:
        with second.ctx.store.session() as s:
            assert s.query(Company).count() == companies          # the demo was not built again
        assert len(ExportService(second.ctx.store).pending_ids()) == pending_after
        # A new sandbox server on a new port, reading the state kept beside the demo file: the upload is there.
        remote = second.ctx.package().find_document(DocKind.SALES_INVOICE, number)
        assert remote is not None and remote.number == number
    finally:
        second.stop()
        second.ctx.store.close()
        reset_pacers()
