import sys

from kcc_desktop.cli import main  # absolute: PyInstaller runs this file as a script

sys.exit(main())
