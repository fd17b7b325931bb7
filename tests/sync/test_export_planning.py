"""The upload's planner (``sync/export/planning.py``): a big selection is read in one pass over the pending
rows, a slice at a time, and comes out exactly as the IN-list reading of a small one; rounds go in phase
order (contacts before the documents that name them), then oldest first."""

from __future__ import annotations

from itertools import pairwise

from sqlalchemy import select

from kcc_desktop.models import Company, ExportItem, ExportStatus
from kcc_desktop.sync.export import planning
from kcc_desktop.sync.export.planning import Planner
from kcc_desktop.sync.queue import install_queue_listeners
from kcc_desktop.sync.target import read_target
from tests.ui.conftest import build_small_company


def test_a_big_selection_reads_as_a_small_one_and_goes_contacts_first(store, monkeypatch):
    install_queue_listeners()
    build_small_company(store)
    with store.transaction() as s:   # a contact queued after the documents: its id is the highest
        s.add(Company(code="LATE", name="Late Customer Ltd", kind="customer"))
    with store.session() as s:
        target = read_target(s)
        rows = s.execute(select(ExportItem.id, ExportItem.item_type).where(
            ExportItem.status == ExportStatus.PENDING)).tuples().all()
        ids = [i for i, t in rows if t != "company" or i != min(rows)[0]]   # all but the oldest contact
        by_in_lists = Planner(s, target, ids).selection
        monkeypatch.setattr(planning, "_SCAN_OVER", 0)     # read as a 100,000-row selection is
        monkeypatch.setattr(planning, "_SCAN_SLICE", 3)    # in slices of 3 rows
        planner = Planner(s, target, [*ids, 10**9])        # an id not pending is left out
    assert planner.selection == by_in_lists and sorted(planner.selection) == sorted(ids) and len(ids) > 6
    assert len(ids) == len(rows) - 1
    kinds = dict(rows)
    order = [i for r in planner.rounds() for i in r]
    phase = [planning._PHASE_OF.get(kinds[i], 9) for i in order]
    assert sorted(order) == sorted(ids) and phase == sorted(phase)
    # oldest first within a phase
    assert list(pairwise(order)) and all(a < b for a, b in pairwise(order) if kinds[a] == kinds[b])
    late = max(i for i in ids if kinds[i] == "company")
    assert late == max(ids) and order.index(late) < min(order.index(i) for i in ids if kinds[i] != "company")
