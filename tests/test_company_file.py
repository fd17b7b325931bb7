"""Every command against every kind of unusable company file: a message naming the file and what to do,
exit code 2, no traceback, and the file exactly as it was. Only demo creates a file where there is none."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from kcc_desktop import company_file
from kcc_desktop.cli import main
from kcc_desktop.store import open_store

# Every command that opens the company file (``schedule status``/``remove`` ask the OS scheduler, not --db).
COMMANDS = {
    "status": ["status"],
    "status --json": ["status", "--json"],
    "export": ["export", "--all", "--json"],
    "import": ["import", "--json"],
    "trial-balance": ["trial-balance"],
    "mapping list": ["mapping", "list"],
    "import-documents": ["import-documents", "orders.csv"],
    "connect": ["connect", "xero", "--no-browser", "--timeout", "1"],
    "scheduled-run": ["scheduled-run", "--json"],
    "schedule install": ["schedule", "install", "--every", "30m", "--dry-run"],
    "check": ["check"],
    "mapping auto": ["mapping", "auto"],
    "demo": ["demo", "--documents", "0"],
}
# What the message must say, for each kind of file: the problem, in words.
WORDS = {
    "not SQLite": "not a KCC Desktop company file",
    "another program's database": "not a KCC Desktop company file",
    "empty": "not a KCC Desktop company file",
    "truncated": "damaged",
    "damaged": "damaged",
    "damaged deep inside": "damaged",   # opening's reads miss it; SQLite's whole-file check finds it
    "folder": "is a folder",
    "read-only": "read-only",
    "locked": "locked by another program",
    "newer": "newer version of KCC Desktop",
    "missing": "There is no company file",
}


def _company(path: Path) -> None:
    open_store(path).close()


def _snapshot(path: Path) -> object:
    if path.is_dir():
        return sorted(p.name for p in path.iterdir())
    return path.read_bytes() if path.exists() else None


def make_bad(kind: str, folder: Path) -> Path:
    path = folder / "company.sqlite"
    if kind == "not SQLite":
        path.write_text("Customer,Balance\nACME,100.00\n", encoding="utf-8")
    elif kind == "another program's database":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
        conn.close()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        _company(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2 + 100])
    elif kind == "damaged":
        _company(path)
        data = bytearray(path.read_bytes())
        page = int.from_bytes(data[16:18], "big")
        for n in range(2, len(data) // page):   # every page but the first: the schema still reads, the rest not
            data[n * page: n * page + 64] = b"\xa5" * 64
        path.write_bytes(bytes(data))
        (folder / "company.sqlite.bak").write_bytes(b"SQLite format 3\x00 an older copy")
    elif kind == "damaged deep inside":
        _company(path)
        damage_a_page_nothing_reads_to_open(path)
    elif kind == "folder":
        path.mkdir()
        (path / "notes.txt").write_text("not a company", encoding="utf-8")
    elif kind == "read-only":
        _company(path)
        path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    elif kind in ("locked", "newer"):
        _company(path)
        if kind == "newer":
            with sqlite3.connect(path) as conn:
                conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
            conn.close()
    return path


def damage_a_page_nothing_reads_to_open(path: Path) -> None:
    """Overwrites the header of the reconcile notes' page: a table neither opening nor the window's first
    screens read, so only SQLite's whole-file check (or using that table) finds the damage."""
    with sqlite3.connect(path) as conn:
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'reconcile_note'").fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    data[(root - 1) * page_size:(root - 1) * page_size + 12] = b"\x00" * 12
    path.write_bytes(bytes(data))


@pytest.fixture
def locker():
    """Another program holding the file in an exclusive lock (a database browser mid-write)."""
    held: list[sqlite3.Connection] = []

    def lock(path: Path) -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("UPDATE app_setting SET value = value")
        held.append(conn)

    yield lock
    for conn in held:
        conn.execute("ROLLBACK")
        conn.close()


@pytest.mark.parametrize("kind", list(WORDS))
def test_every_command_refuses_an_unusable_company_file_in_words(kind, tmp_path, capsys, monkeypatch, locker):
    monkeypatch.setattr(company_file, "OPEN_WAIT", 0.2)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "orders.csv").write_text("type,number\n", encoding="utf-8")
    path = make_bad(kind, tmp_path) if kind != "missing" else tmp_path / "mistyped.sqlite"
    if kind == "locked":
        locker(path)
    before = _snapshot(path)
    copy = tmp_path / "copy.sqlite"
    runs = {name: ["--db", str(path), *argv] for name, argv in COMMANDS.items()}
    runs["migrate-store FROM"] = ["migrate-store", str(path), str(copy)]
    for name, args in runs.items():
        if kind in ("missing", "empty") and name == "demo":
            continue   # demo is the one command that builds a company where there is none (below)
        code = main(args)
        err = capsys.readouterr().err
        assert code == 2, f"{name} on a {kind} file: exit {code}, said {err!r}"
        assert WORDS[kind] in err and str(path) in err, f"{name} on a {kind} file said {err!r}"
        assert "Traceback" not in err
        assert _snapshot(path) == before, f"{name} changed the {kind} file"
    assert not copy.exists()
    if kind == "missing":
        assert not path.exists() and not (tmp_path / "mistyped.sqlite-wal").exists()
    if kind == "damaged":
        assert "company.sqlite.bak" in err   # the backup to restore is named


def test_only_demo_creates_a_company_file(tmp_path, capsys):
    path = tmp_path / "sub" / "new.sqlite"
    assert main(["--db", str(path), "status"]) == 2 and not path.exists() and not path.parent.exists()
    assert main(["--db", str(path), "demo", "--documents", "2"]) == 0 and path.exists()
    capsys.readouterr()
    assert main(["--db", str(path), "trial-balance", "--json"]) == 0


def test_a_file_that_cannot_even_be_read_is_refused(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = make_bad("read-only", tmp_path)
    path.chmod(0)
    assert main(["--db", str(path), "status"]) == 2
    assert str(path) in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["missing", "not SQLite", "damaged", "newer"])
def test_the_window_refuses_a_named_file_it_cannot_use_and_makes_none(kind, tmp_path, monkeypatch):
    """``kcc-desktop --db FILE`` (the window) opens through ``open_context``: a mistyped or unusable file is a
    StoreError in words (the window shows it and exits 2), and nothing is created or changed."""
    import argparse

    from kcc_desktop.app import open_context
    from kcc_desktop.store import StoreError

    monkeypatch.delenv("KCC_DB", raising=False)
    path = make_bad(kind, tmp_path) if kind != "missing" else tmp_path / "mistyped.sqlite"
    before = _snapshot(path)
    with pytest.raises(StoreError) as refused:
        open_context(argparse.Namespace(db=str(path), demo=False))
    assert WORDS[kind] in str(refused.value) and str(path) in str(refused.value)
    assert _snapshot(path) == before
    monkeypatch.setenv("KCC_DB", str(path))
    with pytest.raises(StoreError):
        open_context(argparse.Namespace(db=None, demo=False))
    assert _snapshot(path) == before


def test_the_window_opens_a_file_damaged_deep_inside_and_its_check_later_says_so(tmp_path):
    """The window opens without the whole-file check (``check_later``): the file opens, and the check it
    runs once it is up (``Store.require_sound``, what every upload and fetch waits for) names the damage."""
    from kcc_desktop.store import StoreError

    path = make_bad("damaged deep inside", tmp_path)
    store = open_store(path, create=False, check_later=True)
    try:
        with pytest.raises(StoreError) as found:
            store.require_sound()
    finally:
        store.close()
    assert found.value.kind == "damaged" and str(path) in str(found.value)
    sound = tmp_path / "sound.sqlite"
    _company(sound)
    opened = open_store(sound, create=False, check_later=True)
    try:
        opened.require_sound()   # a sound file passes
    finally:
        opened.close()


def test_a_file_to_migrate_is_checked_before_the_migration_touches_it(tmp_path):
    """Put off for the window, the whole-file check still runs before a migration copies and rewrites the
    file: a damaged one is refused in words, left exactly as it was, with no backup made of it."""
    from alembic.script import ScriptDirectory

    from kcc_desktop.store import MIGRATIONS, StoreError

    script = ScriptDirectory(str(MIGRATIONS))
    older = script.get_revision(script.get_current_head()).down_revision
    assert isinstance(older, str)
    path = make_bad("damaged deep inside", tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (older,))
    conn.close()
    before = _snapshot(path)
    with pytest.raises(StoreError) as refused:
        open_store(path, create=False, check_later=True)
    assert refused.value.kind == "damaged" and str(path) in str(refused.value)
    assert _snapshot(path) == before
    assert not [p.name for p in tmp_path.iterdir() if "pre-migration" in p.name]   # no backup: never migrated
