"""A job's last runs in a Scheduler list cell: its sparkline, drawn with
QPainter in the charts' colours, and the words a screen reader says of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from console.core.formatting import duration_text
from console.gui import theme
from console.gui.charts import outcome, outcome_colour
from console.gui.columns import VALUE_ROLE

if TYPE_CHECKING:  # the core's runs module loads SQLAlchemy
    from console.core.jobs.runs import Run


def sparkline_words(runs: list[Run]) -> str:
    """A sparkline as a screen reader says it: how many runs, how many failed,
    the longest."""
    if not runs:
        return "no runs yet"
    failed = sum(outcome(r.status) == "failed" for r in runs)
    longest = max((r.duration_s for r in runs if r.duration_s is not None), default=None)
    words = f"{len(runs)} run{'s' if len(runs) > 1 else ''}, {failed} failed"
    return words + (f", longest {duration_text(longest)}" if longest is not None else "")


class SparklineDelegate(QStyledItemDelegate):
    """A job's last runs in a list cell: their durations as a line, each
    failure a red dot, the latest run a dot of its outcome's colour."""

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(130, 22)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        runs: list[Run] = index.data(VALUE_ROLE) or []
        palette = theme.current()
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        rect = QRectF(option.rect).adjusted(8, 5, -8, -5)
        if selected:
            painter.fillRect(option.rect, palette.colour("accent"))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        line = palette.colour("on_accent" if selected else "muted")
        done = [r for r in runs if r.duration_s is not None]
        if not done:
            painter.setPen(QPen(palette.colour("faint"), 1, Qt.PenStyle.DotLine))
            painter.drawLine(QPointF(rect.left(), rect.bottom()), rect.bottomRight())
            painter.restore()
            return
        longest = max(r.duration_s or 0.0 for r in done) or 1.0
        step = rect.width() / max(1, len(done) - 1)
        points = [
            QPointF(
                rect.left() + (i * step if len(done) > 1 else rect.width() / 2),
                rect.bottom() - rect.height() * (r.duration_s or 0.0) / longest,
            )
            for i, r in enumerate(done)
        ]
        if len(points) > 1:
            path = QPainterPath(points[0])
            for point in points[1:]:
                path.lineTo(point)
            painter.setPen(QPen(line, 1.4))
            painter.drawPath(path)
        painter.setPen(Qt.PenStyle.NoPen)
        for point, run in zip(points, done, strict=True):
            if outcome(run.status) != "succeeded":
                painter.setBrush(outcome_colour(outcome(run.status)))
                painter.drawEllipse(point, 3, 3)
        painter.setBrush(outcome_colour(outcome(done[-1].status)))
        painter.drawEllipse(points[-1], 3, 3)
        painter.restore()
