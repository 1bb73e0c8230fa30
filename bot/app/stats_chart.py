"""The funnel as one PNG picture: the funnel bars (started, each milestone, each stage
completed) and, beside them, where the people who went quiet stopped (the drop-off).

matplotlib is imported when a chart is drawn (it takes about half a second), with the
Agg backend and a `Figure` of its own (no pyplot, no global state), so that the bot and
the command line only pay for it when someone asks for a picture. A total of fewer than
5 people draws no bar, only the sentence saying so.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from bot.app.stats_text import HIDDEN, labels
from bot.store.funnel import Funnel

if TYPE_CHECKING:
    from matplotlib.axes import Axes

_TITLES = {
    "en": ("How far people went", "Where the quiet ones stopped", "fewer than 5 people"),
    "fr": ("Jusqu'où ils sont allés", "Où se sont arrêtés les silencieux", "moins de 5 personnes"),
}
_FUNNEL_COLOUR, _DROP_COLOUR = "#3b7dd8", "#d8843b"


def _funnel_bars(funnel: Funnel, lang: str) -> list[tuple[str, int]]:
    t, g = labels(lang), funnel.total
    bars = [(t["started"], g.started)]
    bars += [(name, n) for name, n in g.milestones]
    bars += [(t["completed"].format(stage=s), n) for s, n in g.stages]
    return bars


def funnel_png(funnel: Funnel, lang: str = "en") -> bytes:
    """The chart as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    t = labels(lang)
    left_title, right_title, small = _TITLES.get(lang, _TITLES["en"])
    days = (funnel.last_day - funnel.first_day).days + 1
    window = t["title"].format(first=funnel.first_day, last=funnel.last_day, days=days)
    bars = _funnel_bars(funnel, lang)
    drops = list(funnel.drop_off)
    height = max(3.0, 0.32 * max(len(bars), len(drops)) + 1.6)
    figure = Figure(figsize=(11, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(window, fontsize=11)
    funnel_axes, drop_axes = figure.subplots(1, 2, width_ratios=(3, 2))
    if funnel.total.hidden:
        for axes in (funnel_axes, drop_axes):
            axes.set_axis_off()
        funnel_axes.text(0.5, 0.5, f"{HIDDEN}: {small}", ha="center", va="center", fontsize=12)
    else:
        _bars(funnel_axes, bars, left_title, _FUNNEL_COLOUR, funnel.total.started)
        if drops:
            _bars(drop_axes, drops, right_title, _DROP_COLOUR, funnel.total.quiet)
        else:
            drop_axes.set_axis_off()
            drop_axes.set_title(right_title, fontsize=10)
            drop_axes.text(0.5, 0.5, "-", ha="center", va="center")
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _bars(axes: Axes, bars: list[tuple[str, int]], title: str, colour: str, whole: int) -> None:
    """Horizontal bars, the first on top, each with its count and share of `whole`."""
    names = [name for name, _ in bars]
    values = [n for _, n in bars]
    positions = list(range(len(bars)))
    axes.barh(positions, values, color=colour)
    axes.set_yticks(positions, names, fontsize=8)
    axes.invert_yaxis()
    axes.set_title(title, fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    top = max(values) if values else 0
    axes.set_xlim(0, max(1, top) * 1.25)
    for y, n in zip(positions, values, strict=True):
        share = f" ({round(100 * n / whole)}%)" if whole else ""
        axes.text(n, y, f" {n:,}{share}", va="center", fontsize=8)
