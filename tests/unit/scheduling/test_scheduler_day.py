"""A simulated day: ten workers' schedulers over one database, a fake clock,
1,000 jobs, workers dying mid-run and their leases lapsing. Every tick of
the schedule, computed here independently of `timing`, runs exactly once.

The scripts are not run: a stand-in at the runner boundary finishes each
run at once (or leaves it running when its worker dies), since what is
tested is claiming and timing. The database is a real SQLite file.
"""

from __future__ import annotations

import calendar
import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from console.app import Services, open_services
from console.core.jobs.runs import LEASE_TTL
from console.core.scheduling.scheduler import ConsoleScheduler
from console.core.store import schema
from console.demo.memory_keyring import MemoryKeyring
from tests.fakes.clock import FakeClock

ZONE = ZoneInfo("America/New_York")
# Saturday 31 October 2026, noon, to Sunday noon: a month ends at midnight and
# daylight saving time ends at 02:00 on 1 November (01:00-02:00 happens twice).
BEGIN = datetime(2026, 10, 31, 12, 0, tzinfo=ZONE).astimezone(UTC)
END = datetime(2026, 11, 1, 12, 0, tzinfo=ZONE).astimezone(UTC)
WORKERS = 10


@dataclass(frozen=True)
class Spec:
    name: str
    interval: int
    unit: str
    start: datetime


def expected_ticks(spec: Spec, after: datetime, until: datetime) -> list[datetime]:
    """The job's run times in (after, until], by plain calendar arithmetic."""
    ticks: list[datetime] = []
    for k in itertools.count():
        if spec.unit in ("minute", "hour"):
            step = timedelta(minutes=spec.interval * (60 if spec.unit == "hour" else 1))
            at = spec.start + k * step
        else:
            wall = spec.start.astimezone(ZONE).replace(tzinfo=None)
            if spec.unit == "day":
                wall += timedelta(days=spec.interval * k)
            else:
                months = wall.month - 1 + spec.interval * k
                year, month = wall.year + months // 12, months % 12 + 1
                last_day = calendar.monthrange(year, month)[1]
                wall = wall.replace(year=year, month=month, day=min(wall.day, last_day))
            # A wall time that happens twice runs at its first occurrence.
            at = wall.replace(tzinfo=ZONE, fold=0).astimezone(UTC)
        if at > until:
            return ticks
        if at > after:
            ticks.append(at)


def job_specs(rng: random.Random) -> list[Spec]:
    specs = []
    grid = [timedelta(minutes=5 * i) for i in range(12 * 24)]
    for i in range(1000):
        if i < 30:
            unit, interval = "minute", rng.choice([45, 60, 90, 120])
            start = BEGIN - timedelta(days=3) + rng.choice(grid)
        elif i < 330:
            unit, interval = "hour", rng.choice([2, 3, 4, 6, 8, 12])
            start = BEGIN - timedelta(days=2) + rng.choice(grid)
        elif i < 900:
            unit, interval = "day", rng.choice([1, 1, 1, 2])
            # many in the hour that happens twice, and around midnight
            at = rng.choice(["01:00", "01:30", "01:55", "00:00", "23:55"] + ["grid"] * 5)
            day = datetime(2026, 10, 20, tzinfo=ZONE)
            if at == "grid":
                start = (day + rng.choice(grid)).astimezone(UTC)
            else:
                h, m = map(int, at.split(":"))
                start = day.replace(hour=h, minute=m).astimezone(UTC)
        else:
            unit, interval = "month", rng.choice([1, 1, 2, 3])
            mday = rng.choice([28, 29, 30, 31, 1])
            months = [1, 3, 5, 7, 8, 10] if mday == 31 else [1, *range(3, 11)]
            wall = datetime(2026, rng.choice(months), mday, tzinfo=ZONE) + rng.choice(grid)
            start = wall.astimezone(UTC)
        specs.append(Spec(f"job{i:04d}", interval, unit, start))
    return specs


@dataclass(order=True)
class Event:
    at: datetime
    seq: int
    action: Callable[[], None] = field(compare=False)


class Day:
    """The world: workers that step when something is due, die and restart."""

    def __init__(self, db_url: str, home: Path, clock: FakeClock, rng: random.Random) -> None:
        self.db_url, self.home, self.clock, self.rng = db_url, home, clock, rng
        self.workers: dict[str, tuple[Services, ConsoleScheduler]] = {}
        self.opened: list[Services] = []
        self.events: list[Event] = []
        self.seq = itertools.count()
        self.deaths = self.lapsed_leases = self.stalls = 0
        self.generation = Counter[str]()

    def at(self, when: datetime, action: Callable[[], None]) -> None:
        heapq.heappush(self.events, Event(when, next(self.seq), action))

    def start_worker(self, slot: str) -> None:
        self.generation[slot] += 1
        name = f"{slot}.{self.generation[slot]}"
        services = open_services(
            self.home, self.db_url, keyring_backend=MemoryKeyring(), clock=self.clock, owner=name
        )
        self.opened.append(services)
        sched = services.scheduler(dispatch=lambda job, _note: self.run(name, job))
        self.workers[name] = (services, sched)

    def run(self, worker: str, job_name: str) -> None:
        """The runner boundary: finish the run at once, or die during it."""
        services, _sched = self.workers[worker]
        job = services.jobs.get(job_name)
        if self.rng.random() < 0.004 and len(self.workers) > 3:
            self.die(worker)
            if self.rng.random() < 0.5:
                # It ran on, heartbeating, until just before the job's next
                # tick: that tick finds a live-looking lease of a dead worker.
                assert job.next_run_at is not None
                last = job.next_run_at - timedelta(seconds=self.rng.uniform(1, 25))
                if last > self.clock():
                    self.lapsed_leases += 1
                    self.at(last, lambda: services.runs.heartbeat(job.id, worker))
            return
        [run] = services.runs.runs(job.id, limit=1)
        assert run.owner == worker and run.status == "running"
        services.runs.finish(run.id, "succeeded", None, 0)
        services.runs.release(job.id, worker)

    def die(self, worker: str) -> None:
        _services, sched = self.workers.pop(worker)
        sched.stop()  # SIGKILL, as far as the database can tell: nothing more from it
        self.deaths += 1
        slot = worker.split(".")[0]
        self.at(
            self.clock() + timedelta(minutes=self.rng.uniform(1, 30)),
            lambda: self.start_worker(slot),
        )

    def random_death(self) -> None:
        if len(self.workers) > 3:
            self.die(self.rng.choice(sorted(self.workers)))
        self.at(self.clock() + timedelta(minutes=self.rng.expovariate(1 / 90)), self.random_death)

    def live(self) -> None:
        for i in range(WORKERS):
            self.start_worker(f"w{i}")
        self.at(self.clock() + timedelta(minutes=30), self.random_death)
        while True:
            wake: list[datetime] = []
            order = list(self.workers.values())
            self.rng.shuffle(order)  # whoever wakes first claims
            for _services, sched in order:
                if sched in [s for _, s in self.workers.values()]:  # not died meanwhile
                    idle = sched.step()
                    if idle is not None:
                        wake.append(self.clock() + timedelta(seconds=idle))
            if self.events:
                wake.append(self.events[0].at)
            upcoming = min(wake)
            if upcoming > END:
                return
            self.stalls = self.stalls + 1 if upcoming <= self.clock() else 0
            assert self.stalls < 100, "the schedulers keep waking with nothing to do"
            self.clock.set(max(upcoming, self.clock()))
            while self.events and self.events[0].at <= self.clock():
                heapq.heappop(self.events).action()


def test_a_day_of_1000_jobs_on_10_dying_workers_runs_every_tick_exactly_once(
    home: Path,
) -> None:
    rng = random.Random(17)
    clock = FakeClock(BEGIN - timedelta(seconds=1))
    db_url = f"sqlite:///{home / 'console.db'}"
    setup = open_services(home, db_url, keyring_backend=MemoryKeyring(), clock=clock)
    specs = job_specs(rng)
    for spec in specs:
        setup.jobs.create(
            spec.name,
            interval=spec.interval,
            unit=spec.unit,
            start_at=spec.start,
            timezone="America/New_York",
        )
        setup.jobs.enable(spec.name)
    enabled_at = clock()
    day = Day(db_url, home, clock, rng)
    try:
        day.live()
        with setup.store.read() as conn:
            runs = conn.execute(
                sa.select(
                    schema.runs.c.job_name, schema.runs.c.due_at, schema.runs.c.started_at
                ).where(schema.runs.c.trigger == "schedule")
            ).all()
    finally:
        for services in [setup, *day.opened]:
            services.close()

    expected = Counter(
        (spec.name, tick) for spec in specs for tick in expected_ticks(spec, enabled_at, END)
    )
    ran = Counter((r.job_name, r.due_at) for r in runs)
    duplicates = +(ran - expected)
    misses = +(expected - ran)
    assert (sum(duplicates.values()), sum(misses.values())) == (0, 0), (
        list(duplicates)[:5],
        list(misses)[:5],
    )
    # The calendar was exercised: month ends, the doubled hour, the lot.
    units = {spec.name: spec.unit for spec in specs}
    assert sum(units[name] == "month" for name, _ in ran) >= 10
    doubled_hour = datetime(2026, 11, 1, 1, 30, tzinfo=ZONE, fold=0).astimezone(UTC)
    assert sum(tick == doubled_hour for _, tick in ran) >= 5
    assert len(ran) > 1200 and day.deaths >= 10 and day.lapsed_leases >= 3
    # A dead worker's lease delays a tick until it lapses, never longer.
    assert max(r.started_at - r.due_at for r in runs) <= LEASE_TTL
