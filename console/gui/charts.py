"""The Dashboard's charts and History's, drawn with QPainter (the
Scheduler's sparklines are in `sparkline`).

Drawn by hand, not with a plotting library: pyqtgraph would bring numpy,
about 80 MB more in the bundle and 0.3 s more at start-up, for three small
charts (docs/benchmarks.md, "Charts"). Every colour comes from the palette
(`gui.theme`). A chart with no run, or one, still draws its axes, its legend
and a word on what it would show.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QTableView,
    QToolTip,
    QWidget,
)

from console.core.formatting import duration_text
from console.gui import theme
from console.gui.columns import date_text
from console.gui.record_model import RecordModel

if TYPE_CHECKING:  # the core's runs module loads SQLAlchemy
    from console.core.jobs.runs import Run

#: Outcomes as the charts group them, in stacking order (bottom first).
OUTCOMES = ("succeeded", "failed", "cancelled", "running")
_GROUP = {"timed out": "failed", "interrupted": "cancelled"}
_LEFT, _RIGHT, _TOP, _BOTTOM = 52, 12, 22, 22
_HIT = 8.0  # pixels from a point that still hover it


def outcome(status: str) -> str:
    """A run's status as a chart's outcome ("timed out" counts as failed)."""
    return _GROUP.get(status, status if status in OUTCOMES else "failed")


def outcome_colour(name: str) -> QColor:
    """An outcome's colour, from the palette."""
    palette = theme.current()
    return QColor(palette.status(name) or palette.faint)


def nice_ceiling(value: float) -> float:
    """The round number (1, 2, 3, 4, 5, 6 or 8 times a power of ten) at or above
    `value`: halves and quarters of it read well on the axis."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return float(next(m * power for m in (1, 2, 3, 4, 5, 6, 8, 10) if m * power >= value))


@dataclass(frozen=True)
class Span:
    """The time a chart shows: the last `hours` hours up to `end`."""

    end: datetime
    hours: int

    @property
    def start(self) -> datetime:
        return self.end - timedelta(hours=self.hours)

    def words(self) -> str:
        return "the last 24 hours" if self.hours <= 24 else f"the last {self.hours // 24} days"

    def ticks(self) -> list[tuple[datetime, str]]:
        """Times to mark on the x axis: every 3 hours for a day, every 12 for
        up to three days, each midnight beyond."""
        local_end = self.end.astimezone()
        if self.hours <= 72:
            every = 3 if self.hours <= 24 else 12
            step = timedelta(hours=every)
            first = local_end.replace(minute=0, second=0, microsecond=0)
            first -= timedelta(hours=first.hour % every)
            fmt = "%H:%M" if self.hours <= 24 else "%a %H:%M"
        else:
            step = timedelta(days=1)
            first = local_end.replace(hour=0, minute=0, second=0, microsecond=0)
            fmt = "%a %d"
        marks = []
        at = first
        while at > self.start:
            marks.append((at, at.strftime(fmt)))
            at -= step
        return list(reversed(marks))


class _Chart(QWidget):
    """Axes, grid lines, a legend and the empty note; subclasses draw the data."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.span = Span(datetime.now().astimezone(), 24)
        self.setMinimumHeight(120)
        self.setMouseTracking(True)

    def plot_rect(self) -> QRectF:
        return QRectF(
            _LEFT,
            _TOP,
            max(1.0, self.width() - _LEFT - _RIGHT),
            max(1.0, self.height() - _TOP - _BOTTOM),
        )

    def x_of(self, at: datetime) -> float:
        plot = self.plot_rect()
        share = (at - self.span.start).total_seconds() / (self.span.hours * 3600)
        return plot.left() + min(1.0, max(0.0, share)) * plot.width()

    def draw_frame(self, painter: QPainter, top: float, label: str, note: str | None) -> None:
        palette = theme.current()
        painter.fillRect(self.rect(), palette.colour("window"))
        plot = self.plot_rect()
        painter.setPen(QPen(palette.colour("gridline"), 1))
        for i in range(5):  # horizontal grid lines, with their values
            y = plot.bottom() - plot.height() * i / 4
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        painter.setPen(palette.colour("muted"))
        metrics = painter.fontMetrics()
        for i in (0, 2, 4):
            y = plot.bottom() - plot.height() * i / 4
            text = label_value(top * i / 4, label)
            painter.drawText(
                QRectF(0, y - 8, _LEFT - 6, 16),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                text,
            )
        painter.setPen(QPen(palette.colour("border"), 1))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        painter.setPen(palette.colour("muted"))
        shown_to = 0.0  # the right edge of the last label: labels never overlap
        for at, text in self.span.ticks():
            x = self.x_of(at)
            width = metrics.horizontalAdvance(text)
            painter.drawLine(QPointF(x, plot.bottom()), QPointF(x, plot.bottom() + 3))
            if x - width / 2 < plot.left() - 6:
                continue  # a label pushed aside would crowd out the next one
            left = min(x - width / 2, self.width() - width - 2)
            if left >= shown_to + 8:
                painter.drawText(QPointF(left, plot.bottom() + 4 + metrics.ascent()), text)
                shown_to = left + width
        self.draw_legend(painter)
        if note:
            painter.setPen(palette.colour("faint"))
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, note)

    def draw_legend(self, painter: QPainter) -> None:
        metrics = painter.fontMetrics()
        x = float(self.width() - _RIGHT)
        for name in reversed(OUTCOMES[:3]):
            x -= metrics.horizontalAdvance(name) + 22
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(outcome_colour(name))
            painter.drawEllipse(QRectF(x, 7, 8, 8))
            painter.setPen(theme.current().colour("muted"))
            painter.drawText(QPointF(x + 12, 6 + metrics.ascent() - 1), name)


def label_value(value: float, label: str) -> str:
    if label == "s":
        return duration_text(value) if value < 60 else f"{value / 60:.1f} min"
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


class RunTimeline(_Chart):
    """Run durations over time: one dot a run, coloured by its outcome; hover
    names the run, a click opens its log (`run_clicked`). From the keyboard,
    the arrows (Home, End) step from run to run in time, each named as hover
    names it, and Enter opens it."""

    run_clicked = Signal(object)  # the Run

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs: list[Run] = []
        self._shares: list[tuple[float, float]] = []
        self._top = 1.0
        self._dots: tuple[QSize, list[tuple[str, QPolygonF]]] | None = None
        self._by_time: list[int] = []  # indexes of `runs`, oldest first
        self.current: Run | None = None  # the run the keyboard is on
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Run durations over time")

    def set_runs(self, runs: Sequence[Run], span: Span) -> None:
        self.span = span
        self.runs = [r for r in runs if r.duration_s is not None and r.started_at >= span.start]
        seconds = span.hours * 3600
        # Each run's place as shares of the axes, worked out once, not at every paint.
        self._shares = [
            (min(1.0, (r.started_at - span.start).total_seconds() / seconds), r.duration_s or 0.0)
            for r in self.runs
        ]
        longest = max((d for _, d in self._shares), default=0.0)
        # Room above the longest run: one run sits mid-chart, not at its top.
        self._top = nice_ceiling(longest * 1.5) if longest > 0 else 1.0
        self._dots = None
        self._by_time = sorted(
            range(len(self.runs)), key=lambda i: (self.runs[i].started_at, self.runs[i].id)
        )
        kept = self.current and next((r for r in self.runs if r.id == self.current.id), None)
        self._choose(kept or None, tell=False)
        self.update()

    def top(self) -> float:
        return self._top

    def points(self) -> list[tuple[QPointF, Run]]:
        """Where each run is drawn (for hover, clicks and tests)."""
        plot = self.plot_rect()
        left, width, bottom = plot.left(), plot.width(), plot.bottom()
        scale = plot.height() / self._top
        return [
            (QPointF(left + x * width, bottom - d * scale), run)
            for (x, d), run in zip(self._shares, self.runs, strict=True)
        ]

    def dots(self) -> list[tuple[str, QPolygonF]]:
        """Each outcome's dots, one a pixel (a week of minute runs is 10,080),
        failures last so they stay on top; kept until the size or runs change."""
        if self._dots is None or self._dots[0] != self.size():
            pixels: dict[str, set[tuple[int, int]]] = {name: set() for name in OUTCOMES}
            for point, run in self.points():
                pixels[outcome(run.status)].add((round(point.x()), round(point.y())))
            order = ("succeeded", "running", "cancelled", "failed")
            polygons = [(n, QPolygonF([QPointF(x, y) for x, y in pixels[n]])) for n in order]
            self._dots = (self.size(), polygons)
        return self._dots[1]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        note = None if self.runs else f"no finished runs in {self.span.words()}"
        self.draw_frame(painter, self.top(), "s", note)
        for name, dots in self.dots():
            # A square as well as a colour: failures stand out without colour.
            cap = Qt.PenCapStyle.RoundCap if name == "succeeded" else Qt.PenCapStyle.SquareCap
            painter.setPen(QPen(outcome_colour(name), 9, Qt.PenStyle.SolidLine, cap))
            painter.drawPoints(dots)
        if self.hasFocus():  # the focus frame every control shows, and the run it is on
            focus = theme.current().colour("focus")
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(focus, 2))
            painter.drawRect(QRectF(self.rect()).adjusted(1, 1, -1, -1))
            point = self._point_of(self.current)
            if point is not None:
                painter.drawEllipse(point, 8, 8)
        painter.end()

    def _point_of(self, run: Run | None) -> QPointF | None:
        return next((p for p, r in self.points() if run is not None and r.id == run.id), None)

    def _choose(self, run: Run | None, *, tell: bool = True) -> None:
        """Put the keyboard on `run`: named where hover would name it, and in
        the accessible description a screen reader reads."""
        self.current = run
        self.setAccessibleDescription(run_words(run) if run is not None else "")
        self.update()
        point = self._point_of(run)
        if tell and run is not None and point is not None:
            QToolTip.showText(self.mapToGlobal(point.toPoint()), run_words(run), self)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, Key = event.key(), Qt.Key
        if not self.runs or key not in (
            Key.Key_Left,
            Key.Key_Right,
            Key.Key_Home,
            Key.Key_End,
            Key.Key_Return,
            Key.Key_Enter,
        ):
            super().keyPressEvent(event)
            return
        order = [self.runs[i] for i in self._by_time]
        at = next(
            (i for i, r in enumerate(order) if self.current and r.id == self.current.id), None
        )
        if key in (Key.Key_Return, Key.Key_Enter):
            if self.current is not None:
                self.run_clicked.emit(self.current)
            return
        if key == Key.Key_Home:
            at = 0
        elif key == Key.Key_End or at is None:
            at = len(order) - 1
        else:
            at = max(0, min(len(order) - 1, at + (1 if key == Key.Key_Right else -1)))
        self._choose(order[at])

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        if self.current is None and self._by_time:
            self._choose(self.runs[self._by_time[-1]])  # the newest run
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        QToolTip.hideText()
        self.update()

    def run_at(self, at: QPointF) -> Run | None:
        near = [(math.hypot(p.x() - at.x(), p.y() - at.y()), r.id, r) for p, r in self.points()]
        hit = min(near, default=None, key=lambda n: (n[0], -n[1]))
        return hit[2] if hit is not None and hit[0] <= _HIT else None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        run = self.run_at(event.position())
        if run is None:
            QToolTip.hideText()
            self.unsetCursor()
            return
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        QToolTip.showText(event.globalPosition().toPoint(), run_words(run), self)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        run = self.run_at(event.position())
        if run is not None and event.button() == Qt.MouseButton.LeftButton:
            self.run_clicked.emit(run)
        else:
            super().mousePressEvent(event)


def run_words(run: Run) -> str:
    return (
        f"{run.job_name} · run {run.id} · {run.trigger}\n"
        f"started {date_text(run.started_at)}\n"
        f"{duration_text(run.duration_s)} · {run.status}\nclick to open its log"
    )


class RunsPerHour(_Chart):
    """Runs per hour, stacked by outcome."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hours: list[dict[str, int]] = []
        self.setAccessibleName("Runs per hour by outcome")

    def set_runs(self, runs: Sequence[Run], span: Span) -> None:
        self.span = span
        self.hours = [dict.fromkeys(OUTCOMES, 0) for _ in range(span.hours)]
        for run in runs:
            hour = int((run.started_at - span.start).total_seconds() // 3600)
            if 0 <= hour < span.hours:
                self.hours[hour][outcome(run.status)] += 1
        self.update()

    def top(self) -> float:
        most = max((sum(h.values()) for h in self.hours), default=0)
        return float(max(4, math.ceil(most / 4) * 4))  # four grid steps of whole runs

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        total = sum(sum(h.values()) for h in self.hours)
        top = self.top()
        self.draw_frame(painter, top, "runs", None if total else f"no runs in {self.span.words()}")
        plot = self.plot_rect()
        width = plot.width() / max(1, len(self.hours))
        gap = 1.0 if width > 4 else 0.0
        for i, counts in enumerate(self.hours):
            base = plot.bottom()
            for name in OUTCOMES:
                if counts[name]:
                    height = plot.height() * counts[name] / top
                    painter.fillRect(
                        QRectF(plot.left() + i * width + gap, base - height, width - gap, height),
                        outcome_colour(name),
                    )
                    base -= height
        painter.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        plot = self.plot_rect()
        if not self.hours or not plot.contains(event.position()):
            QToolTip.hideText()
            return
        hour = int((event.position().x() - plot.left()) / plot.width() * len(self.hours))
        counts = self.hours[min(hour, len(self.hours) - 1)]
        start = self.span.start + timedelta(hours=hour)
        words = ", ".join(f"{n} {name}" for name, n in counts.items() if n) or "no runs"
        QToolTip.showText(
            event.globalPosition().toPoint(),
            f"{date_text(start)} – {date_text(start + timedelta(hours=1), 'time')}: {words}",
            self,
        )


class JobDurations(RunTimeline):
    """History's chart: the listed runs of one job over the time they span
    (a day at least); a click on a dot selects that run in the list."""

    def __init__(
        self,
        runs: RecordModel[Run],
        view: QTableView,
        clock: Callable[[], datetime],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setMinimumHeight(130)
        self.setAccessibleName("This job's run durations over time")
        self._runs, self._view, self._clock = runs, view, clock
        runs.modelReset.connect(self._follow)
        runs.dataChanged.connect(self._follow)
        self.run_clicked.connect(self._select)

    def _follow(self, *_args: object) -> None:
        runs = self._runs.records()
        now = self._clock()
        oldest = min((r.started_at for r in runs), default=now)
        # A little room before the oldest run, so its dot is not on the axis.
        hours = max(24, math.ceil((now - oldest).total_seconds() * 1.05 / 3600))
        self.set_runs(runs, Span(now, hours))

    def _select(self, run: Run) -> None:
        rows = [i for i, r in enumerate(self._runs.records()) if r.id == run.id]
        if rows:
            self._view.selectRow(rows[0])
