"""A screen reader's walk through the real window, from outside it: AT-SPI
over the accessibility bus, as Orca sees the console on Linux.

Run by tests/desktop/test_accessibility.py as
`xvfb-run -a dbus-run-session -- python -m tests.desktop.accessibility HOME`:
starts `mobile-console --home HOME` in a process of its own (Qt's AT-SPI
bridge on), finds it in the registry, presses each page's button by name
through AT-SPI's Action interface, lists what each page shows, selects the
job in the Jobs table and presses Run Once; prints what it saw as one JSON
line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from jeepney import DBusAddress, DBusErrorResponse, Properties, new_method_call
from jeepney.io.blocking import DBusConnection, open_dbus_connection

from console.app import open_services

T = TypeVar("T")
PAGES = ("Dashboard", "Data", "Scheduler", "Configure", "Logs")
TICK = "def tick():\n    print('tick ran')\n"
ACCESSIBLE = "org.a11y.atspi.Accessible"
# AtspiStateType: bits of the two words GetState answers.
FOCUSABLE, SENSITIVE, SHOWING = 11, 24, 25


def wait_for(what: str, probe: Callable[[], T | None], timeout_s: float = 30) -> T:
    """Ask again every 50 ms until `probe` answers (a window opening, a run ending)."""
    deadline = time.monotonic() + timeout_s
    while (answer := probe()) is None:
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)
    return answer


@dataclass(frozen=True)
class Node:
    """One object of an application's accessibility tree."""

    bus: AtSpi
    name: str  # the application's connection on the accessibility bus
    path: str

    def _address(self, interface: str = ACCESSIBLE) -> DBusAddress:
        return DBusAddress(self.path, bus_name=self.name, interface=interface)

    def call(self, method: str, signature: str | None = None, *args: Any, iface: str = "") -> Any:
        message = new_method_call(self._address(iface or ACCESSIBLE), method, signature, args)
        return self.bus.connection.send_and_get_reply(message, timeout=10).body

    def prop(self, name: str, iface: str = ACCESSIBLE) -> Any:
        reply = self.bus.connection.send_and_get_reply(Properties(self._address(iface)).get(name))
        return reply.body[0][1]

    @property
    def label(self) -> str:
        return str(self.prop("Name"))

    @property
    def role(self) -> str:
        return str(self.call("GetRoleName")[0])

    def states(self) -> set[int]:
        try:
            low, high = self.call("GetState")[0]
        except DBusErrorResponse:  # gone since its parent listed it (a model reset)
            return set()
        words = low | high << 32
        return {bit for bit in range(64) if words >> bit & 1}

    def children(self) -> list[Node]:
        return [Node(self.bus, name, path) for name, path in self.call("GetChildren")[0]]

    def shown(self) -> Iterator[tuple[Node, set[int]]]:
        """This node's descendants on screen (a hidden one's are skipped
        whole), each with its states."""
        for child in self.children():
            states = child.states()
            if SHOWING in states:
                yield child, states
                yield from child.shown()

    def press(self) -> None:
        """The node's action named Press, as a screen reader does it."""
        actions = self.call("GetActions", iface="org.a11y.atspi.Action")[0]
        index = [name for name, _, _ in actions].index("Press")
        assert self.call("DoAction", "i", index, iface="org.a11y.atspi.Action")[0]


class AtSpi:
    """The accessibility bus, found through the session bus as every AT-SPI client does."""

    def __init__(self) -> None:
        session = open_dbus_connection("SESSION")
        bus = DBusAddress("/org/a11y/bus", bus_name="org.a11y.Bus", interface="org.a11y.Bus")
        address = session.send_and_get_reply(new_method_call(bus, "GetAddress")).body[0]
        session.close()
        self.connection: DBusConnection = open_dbus_connection(address)
        self.desktop = Node(self, "org.a11y.atspi.Registry", "/org/a11y/atspi/accessible/root")

    def application(self, name: str) -> Node | None:
        return next((a for a in self.desktop.children() if a.label == name), None)


def prepare(home: Path) -> None:
    services = open_services(home)
    services.jobs.create("tick", interval=1, unit="hour", script=TICK)
    services.close()


def main() -> None:
    home = Path(sys.argv[1])
    prepare(home)
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1")
    window = subprocess.Popen(
        [sys.executable, "-m", "console", "--home", str(home)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    seen: dict[str, Any] = {}
    try:
        atspi = AtSpi()
        app = wait_for("the console in the registry", lambda: atspi.application("Mobile Console"))
        [frame] = app.children()
        # The frame paints first; its title names the home once the console is open.
        wait_for("the console open", lambda: str(home) in frame.label or None)
        seen["frame"] = (frame.role, frame.label)

        def named(label: str, role: str) -> Node | None:
            return next((n for n, _ in frame.shown() if n.label == label and n.role == role), None)

        seen["pages"] = {}
        for page in PAGES:
            wait_for(f"the {page} button", lambda p=page: named(p, "check box")).press()
            wait_for(f"{page} shown", lambda p=page: named(p.upper(), "label"))
            if page == "Scheduler":  # its list is read off the GUI thread
                wait_for("the job listed", lambda: named("tick", "cell"))
            nodes = list(frame.shown())
            seen["pages"][page] = {
                "buttons": sorted({n.label for n, _ in nodes if n.role == "push button"}),
                "names": sorted({n.label for n, _ in nodes if n.label}),
                "unnamed": sorted(
                    n.role for n, s in nodes if FOCUSABLE in s and SENSITIVE in s and not n.label
                ),
            }
        # Scheduler: select the job's row in the Jobs table, then press Run Once.
        wait_for("Scheduler", lambda: named("Scheduler", "check box")).press()
        jobs = wait_for("the Jobs table", lambda: named("Jobs", "table"))
        table = "org.a11y.atspi.Table"
        wait_for("tick listed", lambda: jobs.prop("NRows", table) == 1 or None)
        seen["row_selected"] = jobs.call("AddRowSelection", "i", 0, iface=table)[0]
        run_once = wait_for("Run Once", lambda: named("Run Once", "push button"))
        wait_for("Run Once enabled", lambda: SENSITIVE in run_once.states() or None)
        run_once.press()
        status = wait_for(
            "the run's end in the status bar",
            lambda: next((n.label for n, _ in frame.shown() if n.label.startswith("tick: ")), None),
        )
        seen["after_run_once"] = status
    finally:
        window.terminate()
        window.wait(30)
    print(json.dumps(seen), flush=True)


if __name__ == "__main__":
    main()
