"""The window's colours, declared once: a light and a dark `Palette`.

Every colour the window paints comes from here: the stylesheet
(`resources/theme.qss`, whose `$names` are this palette's fields), the
status words, the grid's system and pending cells, the dry run's rows, the
editor's highlighting and margin, and the charts. The `theme` setting picks
light, dark, or `system`, which follows the platform's colour scheme
(`QStyleHints.colorScheme`); a switch repaints the open window at once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from string import Template

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette, QSyntaxHighlighter
from PySide6.QtWidgets import QApplication, QWidget

from console.core.resources import resource

#: The QApplication property naming the palette in use ("light" or "dark").
_PROPERTY = "mobile_console_theme"
CHOICES = ("system", "light", "dark")


@dataclass(frozen=True)
class Palette:
    name: str
    # the frame
    window: str
    text: str
    title: str
    muted: str
    faint: str
    border: str
    gridline: str
    accent: str
    accent_border: str
    on_accent: str
    navbar: str
    #: the text on the dark bars (navigation, commands)
    bar_text: str
    navbar_hover: str
    commandbar: str
    command_hover: str
    command_disabled: str
    statusbar: str
    status_text: str
    banner: str
    banner_text: str
    banner_border: str
    field: str
    #: the frame around the control that has the keyboard focus, on the page
    #: and on the dark bars (navigation, commands)
    focus: str
    focus_bar: str
    #: the editor's completion list, signature line and hover docs
    popup: str
    error: str
    warning: str
    # status words (runs, jobs, workers)
    succeeded: str
    failed: str
    cancelled: str
    running: str
    disabled: str
    # the grid and the dry run
    system_cell: str
    pending_cell: str
    inserted_row: str
    updated_row: str
    deleted_row: str
    # the script editor
    comment: str
    keyword: str
    string: str
    number: str
    function: str
    decorator: str
    current_line: str
    stopped_line: str
    bracket: str
    gutter: str
    gutter_text: str

    def status(self, word: str) -> str | None:
        """The colour of a status word ("succeeded", "Enabled"…), if it has one."""
        field = _STATUS_FIELDS.get(word.lower())
        return getattr(self, field) if field else None

    def colour(self, field: str) -> QColor:
        return QColor(getattr(self, field))


_STATUS_FIELDS = {
    "enabled": "succeeded",
    "live": "succeeded",
    "succeeded": "succeeded",
    "disabled": "disabled",
    "lost": "failed",
    "failed": "failed",
    "timed out": "failed",
    "cancelled": "cancelled",
    "interrupted": "cancelled",
    "running": "running",
    "error": "failed",  # log levels
    "warning": "cancelled",
}

LIGHT = Palette(
    name="light",
    window="#ffffff",
    text="#222222",
    title="#333333",
    muted="#666666",
    faint="#999999",
    border="#e0e0e0",
    gridline="#eeeeee",
    accent="#0072C6",
    accent_border="#005a9e",
    on_accent="#ffffff",
    navbar="#2b2b2b",
    bar_text="#ffffff",
    navbar_hover="#3a3a3a",
    commandbar="#1e1e1e",
    command_hover="#333333",
    command_disabled="#6f6f6f",
    statusbar="#f0f0f0",
    status_text="#444444",
    banner="#fff4ce",
    banner_text="#5c4400",
    banner_border="#e6d28a",
    field="#ffffff",
    focus="#005fb8",
    focus_bar="#ffffff",
    popup="#fbfbfd",
    error="#c42b1c",
    warning="#d18f00",
    succeeded="#2e8b2e",
    failed="#c42b1c",
    cancelled="#b36b00",
    running="#0072C6",
    disabled="#777777",
    system_cell="#888888",
    pending_cell="#999999",
    inserted_row="#dff3df",
    updated_row="#fff1cc",
    deleted_row="#f9dcdc",
    comment="#6a737d",
    keyword="#0033b3",
    string="#067d17",
    number="#1750eb",
    function="#00627a",
    decorator="#9e880d",
    current_line="#f3f7fc",
    stopped_line="#fff4c2",
    bracket="#c8e1ff",
    gutter="#f5f5f5",
    gutter_text="#999999",
)

DARK = Palette(
    name="dark",
    window="#1e1f22",
    text="#dfe1e5",
    title="#f0f0f0",
    muted="#a8abb0",
    faint="#7d8086",
    border="#3c3f44",
    gridline="#2b2d30",
    accent="#3592e0",
    accent_border="#2a78bd",
    on_accent="#ffffff",
    navbar="#141517",
    bar_text="#f0f0f0",
    navbar_hover="#26282b",
    commandbar="#0f1011",
    command_hover="#26282b",
    command_disabled="#5a5d62",
    statusbar="#17181a",
    status_text="#b4b7bc",
    banner="#3d3518",
    banner_text="#f1dfa0",
    banner_border="#64561f",
    field="#2b2d30",
    focus="#8cc4ff",
    focus_bar="#ffffff",
    popup="#2b2d30",
    error="#f2766b",
    warning="#e5a93a",
    succeeded="#5dbb63",
    failed="#f2766b",
    cancelled="#e5a93a",
    running="#4aa3ec",
    disabled="#8c8f94",
    system_cell="#8c8f94",
    pending_cell="#6f7277",
    inserted_row="#1f3a24",
    updated_row="#3d3518",
    deleted_row="#46201f",
    comment="#8c939c",
    keyword="#ff8f7e",
    string="#9bd39b",
    number="#79c0ff",
    function="#d2a8ff",
    decorator="#e3b341",
    current_line="#26282c",
    stopped_line="#4a3f14",
    bracket="#264f78",
    gutter="#1a1b1e",
    gutter_text="#6e7681",
)


def current() -> Palette:
    """The palette the window paints with now (light before any is applied)."""
    app = QApplication.instance()
    return DARK if app is not None and app.property(_PROPERTY) == "dark" else LIGHT


def resolve(choice: str) -> Palette:
    """The palette for the `theme` setting: light, dark, or the system's."""
    if choice == "system":
        scheme = QGuiApplication.styleHints().colorScheme()
        return DARK if scheme == Qt.ColorScheme.Dark else LIGHT
    return DARK if choice == "dark" else LIGHT


def stylesheet(palette: Palette) -> str:
    """`resources/theme.qss` with this palette's colours."""
    return Template(resource("theme.qss").read_text("utf-8")).substitute(asdict(palette))


def qt_palette(palette: Palette) -> QPalette:
    """Qt's own palette for what the stylesheet leaves alone (menus, scroll bars)."""
    qp = QPalette()
    roles = QPalette.ColorRole
    for role, field in (
        (roles.Window, "window"),
        (roles.Base, "field"),
        (roles.AlternateBase, "gridline"),
        (roles.Button, "statusbar"),
        (roles.WindowText, "text"),
        (roles.Text, "text"),
        (roles.ButtonText, "text"),
        (roles.ToolTipBase, "field"),
        (roles.ToolTipText, "text"),
        (roles.PlaceholderText, "faint"),
        (roles.Highlight, "accent"),
        (roles.HighlightedText, "on_accent"),
        (roles.Link, "accent"),
        (roles.Mid, "border"),
    ):
        qp.setColor(role, palette.colour(field))
    qp.setColor(QPalette.ColorGroup.Disabled, roles.Text, palette.colour("faint"))
    qp.setColor(QPalette.ColorGroup.Disabled, roles.ButtonText, palette.colour("faint"))
    return qp


def apply(app: QApplication, choice: str) -> Palette:
    """Paint the whole application with the palette `choice` names, now."""
    palette = resolve(choice)
    if app.property(_PROPERTY) == palette.name and app.styleSheet():
        return palette
    app.setProperty(_PROPERTY, palette.name)
    app.setPalette(qt_palette(palette))
    app.setStyleSheet(stylesheet(palette))
    for top in app.topLevelWidgets():
        # Highlighters and painted widgets hold colours Qt's repolish misses.
        for highlighter in top.findChildren(QSyntaxHighlighter):
            restyle = getattr(highlighter, "restyle", None)
            if restyle is not None:
                restyle()
        top.update()
        for child in top.findChildren(QWidget):
            child.update()
    return palette
