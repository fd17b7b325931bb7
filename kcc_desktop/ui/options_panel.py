"""The Mapping tab's options panel: integration options and default nominals, saved (and audited) the
moment they change. ``sync.options.OptionsService`` decides; the nominal pickers' choices come from
``views.options``."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from ..store import Store
from ..sync.options import CHECKS, DEFAULT_NOMINAL_KINDS, HELP, LABELS, OptionError, OptionsService
from ..views.options import default_nominal_choices


class OptionsPanel(QWidget):
    """Check boxes for the options and the four default nominal pickers."""

    option_changed = Signal(str)   # option name
    option_failed = Signal(str)    # plain-words refusal

    def __init__(self, store: Store, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self.service = OptionsService(store)
        self.checks: dict[str, QCheckBox] = {}
        self.pickers: dict[str, QComboBox] = {}
        self._loading = False

        box = QGroupBox("Options")
        form = QVBoxLayout(box)
        for name in CHECKS:
            check = QCheckBox(LABELS[name])
            check.setObjectName(f"option_{name}")
            check.setToolTip(HELP[name])
            check.setAccessibleName(LABELS[name])
            check.toggled.connect(lambda on, n=name: self._save(n, bool(on)))
            self.checks[name] = check
            form.addWidget(check)

        defaults = QGroupBox("Default nominals")
        grid = QFormLayout(defaults)
        for name in DEFAULT_NOMINAL_KINDS:
            combo = QComboBox()
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)
            combo.setObjectName(f"option_{name}")
            combo.setAccessibleName(LABELS[name])
            combo.currentIndexChanged.connect(lambda _i, n=name, c=combo: self._save(n, c.currentData() or ""))
            self.pickers[name] = combo
            grid.addRow(LABELS[name].removeprefix("Default ").replace(" nominal", "") + ":", combo)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b23c17;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(box)
        layout.addWidget(defaults)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.reload()

    def reload(self) -> None:
        """Show what the company file holds (also after another window or the CLI changed it)."""
        self._loading = True
        try:
            opts = self.service.load()
            for name, check in self.checks.items():
                check.setChecked(getattr(opts, name))
            choices = default_nominal_choices(self.store)
            for name, combo in self.pickers.items():
                combo.clear()
                kind_choices = choices[DEFAULT_NOMINAL_KINDS[name]]
                kind_words = DEFAULT_NOMINAL_KINDS[name].value.replace("_", " ")
                first = (f"{kind_choices[0][0]} (first {kind_words} nominal)" if kind_choices
                         else f"The first {kind_words} nominal")
                combo.addItem(first, "")
                combo.setItemData(0, f"Not chosen: the ledger's first {kind_words} nominal is used",
                                  Qt.ItemDataRole.ToolTipRole)
                for code, label in kind_choices:
                    combo.addItem(label, code)
                combo.setCurrentIndex(max(combo.findData(getattr(opts, name)), 0))
        finally:
            self._loading = False

    def _save(self, name: str, value: bool | str) -> None:
        if self._loading:
            return
        try:
            changed = self.service.set(name, value)
        except OptionError as exc:
            self.message.setText(str(exc))
            self.option_failed.emit(str(exc))
            self.reload()
            return
        self.message.clear()
        if changed:
            self.option_changed.emit(name)
