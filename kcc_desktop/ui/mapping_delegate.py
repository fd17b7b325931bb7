"""The mapped-account editor: a combobox of the package accounts that fit, with type-ahead."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QComboBox, QCompleter, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from .mapping_models import CHOICES_ROLE

NOT_MAPPED = "(not mapped)"
Index = QModelIndex | QPersistentModelIndex


class AccountComboDelegate(QStyledItemDelegate):
    """Lists "code — name (type)" for the row (the model filters to types that fit its kind).

    Typing narrows the list (any part of the text, any case); choosing an entry, by mouse or Enter,
    commits at once, so a mapping is one gesture.
    """

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        combo = QComboBox(parent)
        combo.setObjectName("account_combo")
        combo.setAccessibleName("Package account")
        combo.setEditable(True)
        combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        combo.addItem(NOT_MAPPED, "")
        for code, label in index.data(CHOICES_ROLE) or []:
            combo.addItem(label, code)
        completer = QCompleter(combo.model(), combo)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        combo.setCompleter(completer)
        combo.activated.connect(lambda _i, c=combo: self._commit(c))
        return combo

    def _commit(self, combo: QComboBox) -> None:
        self.commitData.emit(combo)
        self.closeEditor.emit(combo, QStyledItemDelegate.EndEditHint.NoHint)

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        if not isinstance(editor, QComboBox):
            return super().setEditorData(editor, index)
        found = editor.findData(index.data(Qt.ItemDataRole.EditRole) or "")
        editor.setCurrentIndex(max(found, 0))
        line = editor.lineEdit()
        if line is not None:
            line.selectAll()   # typing replaces the current entry and starts the search

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: Index) -> None:
        if not isinstance(editor, QComboBox):
            return super().setModelData(editor, model, index)
        # Typed text must name one of the entries; anything else leaves the mapping as it was.
        i = editor.findText(editor.currentText(), Qt.MatchFlag.MatchFixedString)
        if i < 0:
            return None
        model.setData(index, editor.itemData(i), Qt.ItemDataRole.EditRole)
        return None

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem, index: Index) -> None:
        editor.setGeometry(option.rect)
