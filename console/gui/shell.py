"""The portal's frame: navigation bar, page header, command bar, status words."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QFont, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.core.resources import resource
from console.gui import theme

PAGES = ("Dashboard", "Data", "Scheduler", "Configure", "Logs")
COMMANDS = ("Create", "Run Once", "Dry Run", "Cancel", "Enable", "Disable", "Delete", "Save")
SHORTCUTS = {
    "Create": "Ctrl+N",
    "Run Once": "Ctrl+R",
    "Dry Run": "Ctrl+Shift+R",
    "Save": "Ctrl+S",
    "Delete": "Ctrl+Shift+Del",
    "Cancel": "Ctrl+.",
}


def icon(name: str) -> QIcon:
    return QIcon(str(resource("icons", f"{name}.svg")))


def status_html(word: str) -> str:
    palette = theme.current()
    colour = palette.status(word) or palette.muted
    return f'<span style="color:{colour}">● {word}</span>'


class NavBar(QWidget):
    """The charcoal bar on the left: one button a page."""

    page_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("navbar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setFixedWidth(170)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 16, 0, 0)
        layout.setSpacing(2)
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QToolButton] = {}
        for i, name in enumerate(PAGES, start=1):
            button = QToolButton(self)
            button.setObjectName("navbutton")
            button.setText(name)
            button.setIcon(icon(name.lower()))
            button.setIconSize(QSize(18, 18))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setCheckable(True)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.setShortcut(QKeySequence(f"Alt+{i}"))
            button.setToolTip(f"{name} (Alt+{i})")
            font = button.font()
            font.setCapitalization(QFont.Capitalization.AllUppercase)
            button.setFont(font)
            button.clicked.connect(lambda _=False, n=name: self.page_chosen.emit(n))
            self.group.addButton(button)
            self.buttons[name] = button
            layout.addWidget(button)
        layout.addStretch(1)

    def select(self, name: str) -> None:
        self.buttons[name].setChecked(True)


class CommandBar(QWidget):
    """The dark bar along the bottom: round icon buttons labelled beneath,
    Create at its left, the actions for what is selected in the middle."""

    triggered = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("commandbar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 4, 12, 4)
        self.actions_by_name: dict[str, QAction] = {}
        self.buttons: dict[str, QToolButton] = {}
        for name in COMMANDS:
            action = QAction(icon(name.lower().replace(" ", "_")), name, self)
            if name in SHORTCUTS:
                action.setShortcut(QKeySequence(SHORTCUTS[name]))
                action.setToolTip(f"{name} ({SHORTCUTS[name]})")
            action.triggered.connect(lambda _=False, n=name: self.triggered.emit(n))
            button = QToolButton(self)
            button.setObjectName("command")
            button.setDefaultAction(action)
            button.setIconSize(QSize(28, 28))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            font = button.font()
            font.setCapitalization(QFont.Capitalization.AllUppercase)
            button.setFont(font)
            self.actions_by_name[name] = action
            self.buttons[name] = button
            self.addAction(action)  # shortcuts work wherever the focus is
            layout.addWidget(button)
            if name == "Create":
                layout.addStretch(1)
        layout.addStretch(1)

    def show_commands(self, available: dict[str, bool]) -> None:
        """Show the commands a page offers now; grey the ones it cannot do."""
        for name, action in self.actions_by_name.items():
            action.setVisible(name in available)
            action.setEnabled(bool(available.get(name)))
            self.buttons[name].setVisible(name in available)

    def tab_after(self, area: QWidget) -> None:
        """Tab reads the window as it is laid out: `area` (the page), then
        these commands, after its last control that takes the focus
        (including those made since, such as a dry run's grids)."""
        previous = area
        widget = area.window().nextInFocusChain()
        while widget is not None and widget is not area.window():
            if area.isAncestorOf(widget) and widget.focusPolicy() != Qt.FocusPolicy.NoFocus:
                previous = widget
            widget = widget.nextInFocusChain()
        for button in self.buttons.values():
            if previous is not button:
                QWidget.setTabOrder(previous, button)
            previous = button


class PageHeader(QWidget):
    """Breadcrumb, the page's name in large light type, and a status line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.breadcrumb = QLabel(self)
        self.breadcrumb.setObjectName("breadcrumb")
        self.title = QLabel(self)
        self.title.setObjectName("pagetitle")
        layout.addWidget(self.breadcrumb)
        layout.addWidget(self.title)

    def set(self, crumbs: Iterable[str], title: str) -> None:
        self.breadcrumb.setText("  ›  ".join(c.upper() for c in crumbs))
        self.title.setText(title)


def small_caps_tabs(tabs: QTabWidget) -> None:
    """The portal's tab labels: small capitals."""
    bar = tabs.tabBar()
    font = bar.font()
    font.setCapitalization(QFont.Capitalization.AllUppercase)
    font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
    bar.setFont(font)
    # The application's style sheet polishes the bar again; keep the capitals.
    bar.setStyleSheet(f"QTabBar {{ font-size: {font.pointSizeF():g}pt; }}")
    bar.setFont(font)
