"""A run stopped on time by a thread of its own: the signals it sends to
the run's process group, the operation it stops, and why it stopped."""

from __future__ import annotations

import signal
import threading
import time

from console.core.running import runner_platform
from console.core.running.run_stopper import RunStopper
from console.core.store.cancel import Cancel


class Group:
    """What the stopper sends to the run's process group, and when it stopped
    the run's operation under way."""

    def __init__(self) -> None:
        self.sent: list[int | str] = []
        self.killed = threading.Event()

    def send(self, sig: int) -> None:
        self.sent.append(sig)
        if sig == runner_platform.KILL:
            self.killed.set()

    def stop(self) -> None:
        self.sent.append("stop")


def test_a_run_past_its_timeout_is_asked_to_end_then_killed() -> None:
    group = Group()
    stopper = RunStopper(group.send, 0.1, 0.1, Cancel(), group.stop)
    assert group.killed.wait(10)
    stopper.end()
    assert group.sent == [signal.SIGTERM, "stop", runner_platform.KILL]
    assert stopper.stopped_for == "timed out"


def test_a_run_that_ends_in_its_grace_is_not_killed() -> None:
    group = Group()
    stopper = RunStopper(group.send, 0.1, 30, Cancel(), group.stop)
    deadline = time.monotonic() + 10
    while "stop" not in group.sent and time.monotonic() < deadline:
        time.sleep(0.01)
    stopper.end()  # it ended on the SIGTERM
    assert group.sent == [signal.SIGTERM, "stop"]


def test_a_run_that_ends_in_time_is_sent_nothing() -> None:
    group = Group()
    stopper = RunStopper(group.send, 30, 0.1, Cancel(), group.stop)
    stopper.end()
    assert group.sent == [] and stopper.stopped_for is None


def test_the_users_cancel_and_an_interrupt_stop_the_run_at_once() -> None:
    for cancel, why in ((Cancel(), "cancelled"), (Cancel(), "interrupted: the worker stopped")):
        group = Group()
        stopper = RunStopper(group.send, 600, 600, cancel, group.stop)
        if why == "cancelled":
            cancel.set()
        else:
            cancel.interrupt("the worker stopped")
        deadline = time.monotonic() + 10
        while "stop" not in group.sent and time.monotonic() < deadline:
            time.sleep(0.01)
        stopper.end()
        assert (group.sent, stopper.stopped_for) == ([signal.SIGTERM, "stop"], why)


def test_a_plain_event_is_heard_too() -> None:
    group = Group()
    cancel = threading.Event()
    stopper = RunStopper(group.send, 600, 600, cancel, group.stop)
    cancel.set()
    deadline = time.monotonic() + 10
    while "stop" not in group.sent and time.monotonic() < deadline:
        time.sleep(0.01)
    stopper.end()
    assert stopper.stopped_for == "cancelled"


def test_the_timeout_holds_while_the_run_is_paused() -> None:
    group = Group()
    stopper = RunStopper(group.send, 0.3, 0.1, Cancel(), group.stop)
    stopper.pause(True)  # in the debugger, past its deadline
    time.sleep(0.6)
    assert group.sent == [] and stopper.stopped_for is None
    stopper.pause(False)  # on again: the 0.3 s it had left
    assert group.killed.wait(10)
    stopper.end()
    assert stopper.stopped_for == "timed out"
