"""Create dialogs that validate as the user types, with the core's own rules."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from console.core.errors import ConsoleError
from console.core.jobs.job_store import MAX_INTERVAL, UNITS, template_language, template_names
from console.core.names import check_identifier
from console.core.store.schema import CONSOLE_TABLES
from console.gui.widgets import error_label


class _NameDialog(QDialog):
    def __init__(self, title: str, what: str, taken: set[str], parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._what, self._taken = what, {t.lower() for t in taken}
        self.form = QFormLayout()
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("a letter, then letters, digits or _")
        self.form.addRow(f"{what.title()} name", self.name)
        self.error = error_label(self)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.name.textChanged.connect(self.validate)

    def problem(self) -> str | None:
        name = self.name.text()
        try:
            check_identifier(name, self._what)
        except ConsoleError as e:
            return str(e) if name else f"a {self._what} name is required"
        if name.lower() in self._taken:
            return f"a {self._what} named {name!r} already exists"
        return None

    def validate(self) -> bool:
        problem = self.problem()
        self.error.setText(problem or "")
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(problem is None)
        return problem is None

    def show_error(self, message: str) -> None:
        self.error.setText(message)


class CreateTableDialog(_NameDialog):
    def __init__(self, taken: set[str], parent: QWidget | None = None) -> None:
        super().__init__("Create a new table", "table", taken | set(CONSOLE_TABLES), parent)
        self.validate()

    def problem(self) -> str | None:
        problem = super().problem()
        if problem and self.name.text().lower() in CONSOLE_TABLES:
            return f"{self.name.text()!r} is the name of one of the console's own tables"
        return problem


class CreateJobDialog(_NameDialog):
    """Name, interval, unit, start time, language, template: as the portal's
    dialog. A template says its own language."""

    def __init__(self, taken: set[str], parent: QWidget | None = None) -> None:
        super().__init__("Create a new job", "job", taken, parent)
        self.interval = QSpinBox(self)
        self.interval.setRange(1, MAX_INTERVAL)
        self.unit = QComboBox(self)
        self.unit.addItems(list(UNITS))
        self.unit.setCurrentText("hour")
        self.start = QDateTimeEdit(QDateTime.currentDateTime(), self)
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
        self.language = QComboBox(self)
        self.language.addItem("Python", "python")
        self.language.addItem("JavaScript", "javascript")
        self.template = QComboBox(self)
        self.template.addItem("(empty job)", None)
        for name in template_names():
            label = "JavaScript" if template_language(name) == "javascript" else "Python"
            self.template.addItem(f"{name} ({label})", name)
        self.form.addRow("Interval", self.interval)
        self.form.addRow("Unit", self.unit)
        self.form.addRow("Start", self.start)
        self.form.addRow("Language", self.language)
        self.form.addRow("Template", self.template)
        self.template.currentIndexChanged.connect(self._on_template_changed)
        self.validate()

    def _on_template_changed(self, _index: int) -> None:
        template = self.template.currentData()
        if template is not None:
            language = template_language(template)
            self.language.setCurrentIndex(self.language.findData(language))
        self.language.setEnabled(template is None)

    def start_at(self) -> datetime:
        return to_utc(self.start)


def to_utc(edit: QDateTimeEdit) -> datetime:
    """The edit's local date and time as an aware UTC datetime."""
    return datetime.fromtimestamp(edit.dateTime().toSecsSinceEpoch(), UTC)
