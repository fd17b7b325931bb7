"""One sync at a time per company file, across processes; a crashed holder leaves no stale lock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kcc_desktop.schedule import BUSY_EXIT_CODE, SyncBusy, SyncLock, last_run, sync_running
from kcc_desktop.schedule.lock import lock_path

ROOT = Path(__file__).resolve().parents[2]
HOLD = ("import sys; from kcc_desktop.schedule import SyncLock; "
        "lock = SyncLock(sys.argv[1], sys.argv[2]); lock.acquire(); print('held', flush=True); sys.stdin.read()")


def hold_in_another_process(url: str, what: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, url, what], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_the_lock_file_sits_beside_the_company_file(store, tmp_db_path):
    assert lock_path(store) == tmp_db_path.with_name("company.sqlite.sync-lock")
    assert lock_path("postgresql://kcc@db.example/books").parent == Path(os.environ["KCC_DATA_DIR"])


def test_a_second_holder_is_refused_and_told_who_holds_it(store):
    with SyncLock(store, "Upload Data in the window"):
        with pytest.raises(SyncBusy) as refused:
            SyncLock(store, "a scheduled sync").acquire()
        assert refused.value.holder is not None and refused.value.holder.pid == os.getpid()
        message = str(refused.value)
        assert message.startswith("Another sync is running on this company file: Upload Data in the window, "
                                  "started at ")
        assert "Nothing was done" in message
        assert sync_running(store).what == "Upload Data in the window"
    assert sync_running(store) is None
    with SyncLock(store, "a scheduled sync") as again:       # free once released
        assert again.held


def test_another_process_holding_it_is_named_and_its_crash_frees_it(store):
    proc = hold_in_another_process(store.url, "a scheduled sync")
    try:
        with pytest.raises(SyncBusy) as refused:
            SyncLock(store, "Upload Data in the window").acquire()
        assert refused.value.holder.pid == proc.pid and refused.value.holder.what == "a scheduled sync"
    finally:
        proc.kill()            # no clean release: the OS must drop the lock with the process
        proc.wait(10)
    assert sync_running(store) is None
    with SyncLock(store, "Upload Data in the window"):
        pass


def test_scheduled_run_refuses_while_the_window_uploads(store, tmp_db_path, capsys):
    from kcc_desktop.cli import main

    with SyncLock(store, "Upload Data in the window"):
        code = main(["--db", str(tmp_db_path), "scheduled-run", "--export"])
    assert code == BUSY_EXIT_CODE == 3
    err = capsys.readouterr().err
    assert "Another sync is running on this company file: Upload Data in the window" in err
    assert last_run(store) is None                           # nothing ran, so nothing is recorded


def test_scheduled_run_never_creates_a_company_file_nor_takes_a_wrong_interval(store, tmp_db_path, tmp_path,
                                                                              capsys):
    from kcc_desktop.cli import main

    missing = tmp_path / "gone.sqlite"
    assert main(["--db", str(missing), "scheduled-run"]) == 2
    assert "There is no company file at" in capsys.readouterr().err and not missing.exists()
    assert main(["--db", str(tmp_db_path), "scheduled-run", "--every", "often"]) == 2
    assert "for example 30m, 2h or 1d" in capsys.readouterr().err and last_run(store) is None
