"""Everything Qt: the main window, one file per tab or screen, and the shared grid (grid.py)."""
