"""Opening the console window from the command line."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from console.core.errors import ConsoleError

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication


def apply_theme(choice: str = "system") -> None:
    """Paint the application light or dark (`gui.theme`); the window applies
    the `theme` setting once the console is open."""
    from PySide6.QtWidgets import QApplication

    from console.gui import theme

    app = QApplication.instance()
    if isinstance(app, QApplication):
        theme.apply(app, choice)


def check_display() -> None:
    """Qt aborts the process without a display; say so plainly instead."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
    ):
        raise ConsoleError(
            "no display to open the window on: run it in a desktop session, or set "
            "QT_QPA_PLATFORM=offscreen (the CLI commands need no display)"
        )


def launch(
    home: str | None, db_url: str | None, *, demo: bool = False, minimized: bool = False
) -> int:
    check_display()
    from PySide6.QtWidgets import QApplication

    from console.gui.main_window import MainWindow, Opened
    from console.gui.shell import icon

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Mobile Console")
    app.setDesktopFileName("mobile-console")
    app.setWindowIcon(icon("app"))
    apply_theme()
    restore_signals = close_on_signals(app)

    def open_console() -> Opened:
        if demo:
            from console.demo import start_demo

            started = start_demo(home, db_url, history=True)
            return Opened(
                started.services,
                started.close,
                started.keyring_note,
                message=f"demo home: {started.services.home}"
                f" · Twitter stand-in at {started.standin.search_url}",
            )
        from console.app import open_services

        services = open_services(home, db_url)
        return Opened(services, services.close)

    # The frame paints at once; the database, SQLAlchemy and the pages load
    # behind it (docs/benchmarks.md, "window start to first paint").
    window = MainWindow()

    def cannot_open(message: str) -> None:
        # As for every bad input on the command line: one line, exit status 2.
        print(f"mobile-console: {message}", file=sys.stderr, flush=True)
        app.exit(2)

    window.opening_failed.connect(cannot_open)
    window.open_in_background(open_console)
    if minimized:
        window.open_minimized()  # into the tray (the window where there is none)
    else:
        window.show()
    try:
        return int(app.exec())
    finally:
        restore_signals()


#: Seconds a window ended by SIGTERM or SIGHUP has to close before it is ended
#: outright (a session manager sends SIGKILL not long after).
TERMINATE_WITHIN_S = 8.0


def _exit_after(seconds: float) -> None:
    """End the process after `seconds`, whatever holds the GUI thread; the
    script hosts' guardians end the runs' process trees (process_tree)."""
    import threading

    timer = threading.Timer(seconds, lambda: os._exit(0))
    timer.daemon = True
    timer.start()


def close_on_signals(app: QApplication) -> Callable[[], None]:
    """SIGINT (Ctrl+C in its terminal) and SIGTERM (logging out, `kill`) close
    the windows as their close button does, even when the signal came while
    the window was still being built: settings saved, the scheduler
    stopped, running jobs ended cleanly, exit status 0. Returns the function
    that puts the default handling back.

    Python runs its signal handlers only between bytecodes, and Qt's event
    loop may run none for a long time: the handler's wake-up byte on a socket
    wakes the loop instead (no polling timer).
    """
    import signal

    from PySide6.QtCore import QSocketNotifier

    from console.core.running.runner_platform import STOP_SIGNALS

    reader, writer, read_byte, close_pair = _wakeup_pair()
    previous_fd = signal.set_wakeup_fd(writer)
    requested: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda signum, _frame: requested.append(signum))
        for sig in STOP_SIGNALS  # Windows has no SIGHUP
    }
    notifier = QSocketNotifier(reader, QSocketNotifier.Type.Read, app)

    def on_wakeup() -> None:
        read_byte()
        if not requested:
            return
        ended_by_system = any(sig != signal.SIGINT for sig in requested)
        by = signal.Signals(next((s for s in requested if s != signal.SIGINT), requested[0])).name
        requested.clear()
        from PySide6.QtWidgets import QMainWindow

        from console.gui.main_window import MainWindow

        if ended_by_system:
            # A logout or a shutdown: unsaved text kept as a draft, no question
            # asked, and out within 10 s whatever the window is doing.
            _exit_after(TERMINATE_WITHIN_S)
            for widget in app.topLevelWidgets():
                if isinstance(widget, MainWindow):
                    widget.terminate(by)
            return
        for widget in app.topLevelWidgets():
            if isinstance(widget, MainWindow):
                widget.stopped_by = by  # its runs say what stopped them
        app.closeAllWindows()  # Ctrl+C: as the close button, questions included
        # closeAllWindows skips hidden windows: one hidden in the tray closes too.
        for widget in app.topLevelWidgets():
            if isinstance(widget, QMainWindow) and not widget.isVisible():
                widget.close()

    notifier.activated.connect(on_wakeup)

    def restore() -> None:
        notifier.setEnabled(False)
        signal.set_wakeup_fd(previous_fd)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        close_pair()

    return restore


def _wakeup_pair() -> tuple[int, int, Callable[[], None], Callable[[], None]]:
    """The signal handler's wake-up channel, non-blocking: a pipe on POSIX
    (no `socket` import before the first paint), a socket pair on Windows,
    whose wake-up fd must be a socket. Returns its read and write ends, a
    function that drains the read end, and one that closes both."""
    if sys.platform == "win32":
        import socket

        read_end, write_end = socket.socketpair()
        read_end.setblocking(False)
        write_end.setblocking(False)

        def drain_socket() -> None:
            try:
                read_end.recv(64)
            except BlockingIOError:
                pass

        def close_sockets() -> None:
            read_end.close()
            write_end.close()

        return read_end.fileno(), write_end.fileno(), drain_socket, close_sockets
    reader, writer = os.pipe()
    os.set_blocking(reader, False)
    os.set_blocking(writer, False)

    def drain() -> None:
        try:
            os.read(reader, 64)
        except BlockingIOError:
            pass

    def close() -> None:
        os.close(reader)
        os.close(writer)

    return reader, writer, drain, close
