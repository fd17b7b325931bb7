"""KCC Desktop: keeps a stock-and-order ledger in step with Xero or QuickBooks Online.

The package root is Qt-free; everything Qt lives in ``kcc_desktop.ui`` and ``kcc_desktop.app``.
"""

__version__ = "0.1.0"
APP_NAME = "KCC Desktop"
APP_ID = "uk.co.kcc.desktop"
