"""Report rows drawn as PNG charts (matplotlib, Agg backend, a font with CJK glyphs)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

from crm_core.analytics.forecast import ForecastReport
from crm_core.analytics.funnel import FunnelReport
from crm_core.analytics.win_rate import WinRateReport
from handlers import format as fmt
from handlers.i18n import Translator

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Report colours: one hue, darker for more certain money.
DARK, MID, LIGHT, PALE = "#1f4e79", "#2e75b6", "#9dc3e6", "#deebf7"
WIDTH, HEIGHT, DPI = 8.0, 4.5, 100


@cache
def cjk_font() -> str:
    """Register the packaged Noto Sans CJK font with matplotlib once; returns its family name."""
    import cvttf_NotoSansCJK_Regular
    from matplotlib import font_manager

    path = cvttf_NotoSansCJK_Regular.get_TTF_path()
    font_manager.fontManager.addfont(path)
    return str(font_manager.FontProperties(fname=path).get_name())


@contextmanager
def _figure() -> Iterator[tuple[Figure, Any]]:
    # Imported here: matplotlib costs half a second to load and most commands draw nothing.
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    # The CJK font draws Latin too; one font keeps every label's glyphs in one place.
    with rc_context({"font.family": [cjk_font()], "axes.unicode_minus": False}):
        fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
        ax = fig.add_subplot()
        ax.spines[["top", "right"]].set_visible(False)
        yield fig, ax


def _png(fig: Figure, *, bottom: float = 0.12, left: float = 0.1) -> bytes:
    out = io.BytesIO()
    # Fixed margins: tight_layout measures every label by drawing twice (2/3 of the time).
    fig.subplots_adjust(left=left, right=0.97, top=0.9, bottom=bottom)
    fig.savefig(out, format="png")
    return out.getvalue()


def funnel_chart(t: Translator, title: str, report: FunnelReport) -> bytes:
    """Horizontal bars: deals that reached each stage, with the conversion to the next."""
    with _figure() as (fig, ax):
        names = [fmt.stage(t, r.stage.name) for r in report.rows]
        reached = [r.reached for r in report.rows]
        bars = ax.barh(names, reached, color=MID)
        ax.invert_yaxis()
        for bar, row in zip(bars, report.rows, strict=True):
            label = str(row.reached)
            if row.conversion is not None:
                label += f"  → {row.conversion * 100:.0f}%"
            ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, " " + label, va="center")
        ax.set_xlabel(t("chart.deals"))
        ax.set_title(title)
        ax.set_xlim(0, max(reached or [0]) * 1.25 or 1)
        return _png(fig, left=0.16)


def win_rate_chart(t: Translator, title: str, report: WinRateReport) -> bytes:
    """Bars of the win rate per group (or the total), with won and lost counts on them."""
    with _figure() as (fig, ax):
        rows = report.rows or [report.total]
        labels = [r.group or t("report.none") for r in rows] if report.rows else [t("report.total")]
        rates = [float(r.win_rate or 0) * 100 for r in rows]
        bars = ax.bar(labels, rates, color=MID)
        for bar, row in zip(bars, rows, strict=True):
            ax.text(
                bar.get_x() + bar.get_width() / 2,
                bar.get_height(),
                f"{row.won}/{row.won + row.lost}",
                ha="center",
                va="bottom",
                fontsize=8,
            )
        ax.set_ylim(0, 100)
        ax.set_ylabel(t("chart.win_rate_pct"))
        ax.set_title(title)
        rotate = len(labels) > 6 or max((len(x) for x in labels), default=0) > 12
        if rotate:
            ax.tick_params(axis="x", labelrotation=45)
            for label in ax.get_xticklabels():
                label.set_horizontalalignment("right")
        return _png(fig, bottom=0.3 if rotate else 0.12)


def forecast_chart(t: Translator, title: str, report: ForecastReport) -> bytes:
    """Per month, overlapping bars: pipeline ⊇ best case ⊇ commit ⊇ closed."""
    with _figure() as (fig, ax):
        months = [r.month for r in report.rows]
        layers = (
            ("forecast.pipeline", [float(r.pipeline) for r in report.rows], PALE),
            ("forecast.best_case", [float(r.best_case) for r in report.rows], LIGHT),
            ("forecast.commit", [float(r.commit) for r in report.rows], MID),
            ("forecast.closed", [float(r.closed) for r in report.rows], DARK),
        )
        for key, values, colour in layers:
            ax.bar(months, values, color=colour, label=t(key))
        ax.set_ylabel(report.currency)
        ax.set_title(title)
        ax.legend(frameon=False)
        ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
        return _png(fig, left=0.13)


def segment_chart(t: Translator, title: str, points: list[tuple[date, int]]) -> bytes:
    """A line of a segment's member count per day (the scheduler keeps one count a day)."""
    with _figure() as (fig, ax):
        days = [d for d, _ in points]
        counts = [c for _, c in points]
        ax.plot(days, counts, color=DARK, marker="o" if len(points) < 40 else None)
        ax.fill_between(days, counts, color=PALE)
        ax.set_ylabel(t("chart.customers"))
        ax.set_title(title)
        ax.set_ylim(0, max(counts or [0]) * 1.2 or 1)
        fig.autofmt_xdate()
        return _png(fig, bottom=0.18)
