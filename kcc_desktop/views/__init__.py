"""What the screens read: one Qt-free module per grid or screen, over the Store, returning plain rows.

The window's table models hold ids and ask these modules for rows, sort keys and filter matches, each
one SQL query however many rows the grid has. Nothing here imports Qt, and no ORM object leaves: rows
are NamedTuples or dataclasses of plain values (money as Decimal, dates as dates, times as UTC).

    export.py         the Export tab: Pending Export, Exported Successfully, Error Feedback
    imports.py        the Import tab: payments fetched from the package and what became of them
    documents.py      the Documents tab and the read-only document dialog
    payments.py       Record Payment…: its choices, and the payment it records
    trial_balance.py  Accounts → Trial Balance
    audit.py          View Audit Trail
    options.py        the Mapping tab's default-nominal pickers
    common.py         what they share: id chunks, money as the grid shows it
"""
