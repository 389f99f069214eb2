"""The seam between a run's host and the operating system: starting the
host, containing its process tree, limiting its memory, ending it with its
supervisor and on timeout or Cancel, and pre-starting hosts.

Two implementations: `platform_linux` (prctl, a subreaper guardian,
RLIMIT_AS, the fork server: today's code) and `platform_portable` (psutil,
a watchdog thread in the host, spawn with a warm spare), for macOS and
Windows. Linux uses the first unless `MOBILE_CONSOLE_RUNNER=portable` forces
the second; a host inherits the choice through its environment.

Standard library only at import: the host imports it before anything else.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # not at import: the window reads STOP_SIGNALS before its first paint
    import subprocess

RUNNER_ENV = "MOBILE_CONSOLE_RUNNER"
RUNNERS = ("linux", "portable")

#: The signals that ask a console process to stop (Windows has no SIGHUP).
STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
#: Ends a run's tree now (`HostPlatform.signal_tree`); Windows has no SIGKILL.
KILL: int = getattr(signal, "SIGKILL", 9)

#: A JSON message to the supervisor, on the host's channel.
Report = Callable[[dict[str, Any]], None]


class HostPlatform(Protocol):
    """What a run's host needs from the operating system."""

    #: "linux" or "portable"
    name: str
    #: Whether pre-started hosts can be forked (`fork_server`); else a warm spare.
    can_fork_server: bool

    def popen_options(self) -> dict[str, Any]:
        """Extra `subprocess.Popen` arguments that start a host in a group of its own."""

    # -- in the host ------------------------------------------------------------

    def wait_for_payload(self) -> None:
        """Before the payload: end this host if its supervisor goes."""

    def contain(self, report: Report) -> None:
        """The payload has come: from here the run's whole tree ends with it."""

    def limit_memory(self, limit: int, *, engine_started: bool) -> None:
        """Bound the run's memory at `limit` bytes."""

    def finish(self) -> None:
        """The script is done: end whatever it started (before the host exits)."""

    # -- in the supervisor ------------------------------------------------------

    def started(self, proc: subprocess.Popen[bytes]) -> None:
        """A host has just been started (with `popen_options`)."""

    def given(self, proc: subprocess.Popen[bytes], memory_bytes: int) -> None:
        """A host has been given its run, with this memory limit."""

    def signal_tree(self, proc: subprocess.Popen[bytes], sig: int) -> None:
        """SIGTERM: ask the run to stop (its tree ends); SIGKILL: end it all now."""

    def end(self, proc: subprocess.Popen[bytes], grace_s: float, *, ending: bool) -> None:
        """End the run's whole tree: politely, then after `grace_s` for good."""


def _native(platform: str | None) -> str:
    return (
        "linux"
        if (sys.platform if platform is None else platform).startswith("linux")
        else "portable"
    )


def chosen_name(environ: Mapping[str, str] | None = None, platform: str | None = None) -> str:
    """Which implementation: the environment's word if it names one that can
    run here, else the platform's own (`refusal` says why a word is not used)."""
    env = os.environ if environ is None else environ
    native = _native(platform)
    wanted = env.get(RUNNER_ENV, "").strip().lower()
    if wanted == "portable" or (wanted == "linux" and native == "linux"):
        return wanted
    return native


def refusal(environ: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """The one line that refuses the environment's runner word when it names
    no runner that can run here (a typo would otherwise pass unseen), else None."""
    env = os.environ if environ is None else environ
    given = env.get(RUNNER_ENV, "")
    wanted = given.strip().lower()
    if wanted in ("", "portable") or (wanted == "linux" and _native(platform) == "linux"):
        return None
    if wanted == "linux":
        return f"{RUNNER_ENV}=linux: the Linux runner runs on Linux only; set portable or unset it"
    return f"{RUNNER_ENV}={given!r} names no runner: set linux or portable, or unset it"


@cache
def current() -> HostPlatform:
    """This process's implementation (chosen once)."""
    if chosen_name() == "linux":
        from console.core.running.platform_linux import LinuxPlatform

        return LinuxPlatform()
    from console.core.running.platform_portable import PortablePlatform

    return PortablePlatform()
