"""The Configure page: Twitter identity, app settings (plain or secret), and
the console's own settings, its form derived from their declarations."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from console.core.config.app_settings import SettingView
from console.core.config.redirects import Redirect
from console.core.config.settings import SETTINGS, SPECS, SettingSpec
from console.gui.pages import Context, Page
from console.gui.record_model import Column, RecordModel
from console.gui.widgets import error_label, name_form_fields, table_view


class ConfigurePage(Page):
    name = "Configure"
    topics = frozenset({"settings"})

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.banner = QLabel(self)
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        layout.addWidget(self.banner)

        identity = QGroupBox("Identity: Twitter", self)
        form = QFormLayout(identity)
        self.consumer_key = QLineEdit(identity)
        self.consumer_secret = QLineEdit(identity)
        for field in (self.consumer_key, self.consumer_secret):
            field.setEchoMode(QLineEdit.EchoMode.Password)
        self.identity_state = QLabel(identity)
        self.identity_error = error_label(identity)
        form.addRow("Consumer key", self.consumer_key)
        form.addRow("Consumer secret", self.consumer_secret)
        form.addRow("", self.identity_state)
        form.addRow("", self.identity_error)
        layout.addWidget(identity)

        app = QGroupBox("App settings", self)
        box = QVBoxLayout(app)
        self.settings = RecordModel[SettingView](
            [
                Column("Name", lambda s: s.name),
                Column("Value", lambda s: s.shown, fill=True),
                Column("Secret", lambda s: "secret (keyring)" if s.is_secret else ""),
            ],
            key=lambda s: s.name,
        )
        self.settings_view = table_view(app, self.settings)
        self.settings_view.selectionModel().currentRowChanged.connect(self._on_setting_selected)
        row = QHBoxLayout()
        self.setting_name = QLineEdit(app)
        self.setting_name.setPlaceholderText("NAME")
        self.setting_value = QLineEdit(app)
        self.setting_value.setPlaceholderText("value")
        self.setting_name.setAccessibleName("Setting name")
        self.setting_value.setAccessibleName("Setting value")
        self.setting_secret = QCheckBox("Secret", app)
        self.setting_secret.toggled.connect(
            lambda on: self.setting_value.setEchoMode(
                QLineEdit.EchoMode.Password if on else QLineEdit.EchoMode.Normal
            )
        )
        put = QPushButton("Set", app)
        remove = QPushButton("Remove", app)
        for widget in (self.setting_name, self.setting_value, self.setting_secret, put, remove):
            row.addWidget(widget)
        self.setting_error = error_label(app)
        box.addWidget(self.settings_view, 1)
        box.addLayout(row)
        box.addWidget(self.setting_error)
        layout.addWidget(app, 1)

        redirects = QGroupBox("Redirects for jobs' HTTP requests", self)
        redirect_box = QVBoxLayout(redirects)
        self.redirects = RecordModel[Redirect](
            [
                Column("From", lambda r: r.from_prefix),
                Column("To", lambda r: r.to_prefix, fill=True),
            ],
            key=lambda r: r.from_prefix,
        )
        self.redirects_view = table_view(redirects, self.redirects)
        self.redirects_view.selectionModel().currentRowChanged.connect(self._on_redirect_selected)
        redirect_row = QHBoxLayout()
        self.redirect_from = QLineEdit(redirects)
        self.redirect_from.setPlaceholderText("from (URL prefix), e.g. https://api.twitter.com/")
        self.redirect_to = QLineEdit(redirects)
        self.redirect_to.setPlaceholderText("to, e.g. http://127.0.0.1:8080/")
        self.redirect_from.setAccessibleName("Redirect from")
        self.redirect_to.setAccessibleName("Redirect to")
        add_redirect = QPushButton("Add", redirects)
        delete_redirect = QPushButton("Remove", redirects)
        for widget in (self.redirect_from, self.redirect_to, add_redirect, delete_redirect):
            redirect_row.addWidget(widget)
        self.redirect_error = error_label(redirects)
        redirect_box.addWidget(self.redirects_view, 1)
        redirect_box.addLayout(redirect_row)
        redirect_box.addWidget(self.redirect_error)
        layout.addWidget(redirects, 1)
        add_redirect.clicked.connect(self.add_redirect)
        delete_redirect.clicked.connect(self.delete_redirect)

        console = QGroupBox("Console", self)
        console_box = QVBoxLayout(console)
        halves = QHBoxLayout()
        console_box.addLayout(halves)
        # Two columns: the page fits a 900-pixel-high screen with the banner.
        forms = [QFormLayout(), QFormLayout()]
        self.editors: dict[str, QWidget] = {}
        #: What each editor held when last shown or saved: one the user has
        #: changed since keeps the change when a read lands (a Save's re-read).
        self._shown: dict[str, Any] = {}
        self._saves = 0  # Saves of the console settings started; the last one speaks
        for i, spec in enumerate(SETTINGS):
            editor = _editor_for(spec, console)
            editor.setToolTip(spec.help)
            label = spec.key.replace("_", " ").capitalize()
            editor.setAccessibleDescription(spec.help)
            self.editors[spec.key] = editor
            forms[i * 2 // len(SETTINGS)].addRow(label, editor)
        for form_half in forms:
            halves.addLayout(form_half, 1)
            name_form_fields(form_half)
        self.console_error = error_label(console)
        console_box.addWidget(self.console_error)
        layout.addWidget(console)

        put.clicked.connect(self.set_setting)
        remove.clicked.connect(self.remove_setting)

    def title(self) -> str:
        return "configure"

    def available(self) -> dict[str, bool]:
        return {"Save": True}

    def trigger(self, command: str) -> None:
        if command == "Save":
            self.save()

    def refresh(self) -> None:
        services = self.ctx.services

        def read() -> tuple[list[SettingView], bool, str | None, dict[str, Any]]:
            problem = services.keyring.problem() if self.ctx.keyring_note is None else None
            return (
                services.app_settings.list(),
                services.app_settings.identity_is_set(),
                problem,
                services.settings.all(),  # a secret: masked when set, else ""
            )

        self.ctx.tasks.latest("configure", read, self._on_read)
        self.ctx.tasks.latest("redirects", services.redirects.all, self.redirects.set_records)

    def _on_read(self, result: tuple[list[SettingView], bool, str | None, dict[str, Any]]) -> None:
        views, identity_set, problem, values = result
        self.settings.set_records(views)
        self.identity_state.setText(
            "stored in the keyring" if identity_set else "not set: jobs that use Twitter will fail"
        )
        note = self.ctx.keyring_note or problem
        self.banner.setVisible(bool(note))
        self.banner.setText(f"Secrets cannot be kept: {note}" if note else "")
        for key, value in values.items():
            editor = self.editors[key]
            if key in self._shown and _editor_value(editor) != self._shown[key]:
                continue  # typed since: the user's, not overwritten
            self._show_value(key, editor, value)
            self._shown[key] = _editor_value(editor)

    @staticmethod
    def _show_value(key: str, editor: QWidget, value: Any) -> None:
        if isinstance(editor, QComboBox):
            editor.setCurrentText(str(value))
        elif isinstance(editor, QSpinBox):
            editor.setValue(int(value))
        elif isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QLineEdit) and SPECS[key].secret:
            editor.clear()  # a secret is never read back into the window
            editor.setPlaceholderText(
                "stored in the keyring; type to replace" if value else "not set"
            )
        elif isinstance(editor, QLineEdit):
            editor.setText(str(value))

    def _on_setting_selected(self, current: Any, _previous: Any) -> None:
        if current.isValid():
            view = self.settings.record(current.row())
            self.setting_name.setText(view.name)
            self.setting_secret.setChecked(view.is_secret)
            self.setting_value.setText("" if view.is_secret else (view.value or ""))

    def _on_redirect_selected(self, current: Any, _previous: Any) -> None:
        if current.isValid():
            redirect = self.redirects.record(current.row())
            self.redirect_from.setText(redirect.from_prefix)
            self.redirect_to.setText(redirect.to_prefix)

    def add_redirect(self) -> None:
        source, target = self.redirect_from.text().strip(), self.redirect_to.text().strip()
        redirects = self.ctx.services.redirects

        def done(_r: Any) -> None:
            self.redirect_error.clear()
            self.ctx.notify(f"redirecting {source} to {target}")
            self.refresh()

        self.ctx.tasks.submit(
            lambda: redirects.add(source, target),
            done,
            lambda e: self.redirect_error.setText(str(e)),
        )

    def delete_redirect(self) -> None:
        source = self.redirect_from.text().strip()
        if not source or not self.confirm("Remove redirect", f"Remove the redirect from {source}?"):
            return
        redirects = self.ctx.services.redirects
        self.ctx.tasks.submit(
            lambda: redirects.delete(source),
            lambda _r: self.refresh(),
            lambda e: self.redirect_error.setText(str(e)),
        )

    def set_setting(self) -> None:
        name, value = self.setting_name.text().strip(), self.setting_value.text()
        secret = self.setting_secret.isChecked()
        settings = self.ctx.services.app_settings

        def done(_r: Any) -> None:
            self.setting_error.clear()
            self.setting_value.clear()
            self.ctx.notify(f"set {name}" + (" (secret, in the keyring)" if secret else ""))
            self.refresh()

        self.ctx.tasks.submit(
            lambda: settings.set(name, value, secret=secret),
            done,
            lambda e: self.setting_error.setText(str(e)),
        )

    def remove_setting(self) -> None:
        name = self.setting_name.text().strip()
        if not name or not self.confirm("Remove setting", f"Remove the app setting {name}?"):
            return
        settings = self.ctx.services.app_settings
        self.ctx.tasks.submit(
            lambda: settings.delete(name),
            lambda _r: self.refresh(),
            lambda e: self.setting_error.setText(str(e)),
        )

    def save(self) -> None:
        """Save the identity (when typed) and the console settings."""
        services = self.ctx.services
        key, secret = self.consumer_key.text(), self.consumer_secret.text()
        if key or secret:

            def stored(_r: Any) -> None:
                self.consumer_key.clear()
                self.consumer_secret.clear()
                self.identity_error.clear()
                self.ctx.notify("stored the Twitter consumer key and secret in the keyring")
                self.refresh()

            self.ctx.tasks.submit(
                lambda: services.app_settings.set_identity(key, secret),
                stored,
                lambda e: self.identity_error.setText(str(e)),
            )
        sent = {key: _editor_value(e) for key, e in self.editors.items()}
        # An empty secret field leaves the stored secret as it is.
        values = {k: v for k, v in sent.items() if v != "" or not SPECS[k].secret}

        def save_console() -> None:
            for name, value in values.items():  # every value checked before any is stored
                SPECS[name].check(value)
            for name, value in values.items():
                services.set_setting(name, value)

        self._saves += 1
        this_save = self._saves

        def saved(_r: Any) -> None:
            self._shown.update(sent)  # stored: the read that follows may show it anew
            if this_save == self._saves:  # an earlier Save's answer never hides a later one's
                self.console_error.clear()
                self.ctx.notify("saved the console settings")
            self.refresh()

        def refused(error: Exception) -> None:
            if this_save == self._saves:
                self.console_error.setText(str(error))

        self.ctx.tasks.submit(save_console, saved, refused)


def _editor_for(spec: SettingSpec, parent: QWidget) -> QWidget:
    """The editor a setting's declaration calls for."""
    if spec.type is bool:
        return QCheckBox(parent)
    if spec.choices:
        combo = QComboBox(parent)
        combo.addItems(list(spec.choices))
        return combo
    if spec.type is int:
        spin = QSpinBox(parent)
        spin.setRange(spec.minimum or 0, spec.maximum or 2**31 - 1)
        return spin
    line = QLineEdit(parent)
    line.setPlaceholderText(spec.kind_text)
    if spec.secret:
        line.setEchoMode(QLineEdit.EchoMode.Password)
    return line


def _editor_value(editor: QWidget) -> Any:
    if isinstance(editor, QComboBox):
        return editor.currentText()
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    if isinstance(editor, QSpinBox):
        return editor.value()
    assert isinstance(editor, QLineEdit)
    return editor.text()
