"""The one place where matplotlib is set up: notebooks and runs draw to files, never to a screen.

Figure modules import ``plt`` from here, so the non-interactive backend is chosen before
pyplot is first imported, whichever module is imported first.
"""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as ticker  # noqa: E402

from analysis.core.i18n import t  # noqa: E402
from analysis.core.numbers import localize  # noqa: E402

__all__ = ["finish", "localized", "plt", "ticker"]

# formatters that may write numbers; what they write is localised only when it is a number (a
# formatter of tick labels given as text, "M.01 Integritas", is left alone)
NUMERIC_FORMATTERS = (ticker.ScalarFormatter, ticker.FuncFormatter, ticker.PercentFormatter,
                      ticker.StrMethodFormatter, ticker.FormatStrFormatter, ticker.LogFormatter)


NUMBER = re.compile(r"(Rp\s?)?[-+\u2212]?[\d.,\s]*\d[\d.,]*\s?%?|")


class LocalizedFormatter(ticker.Formatter):
    """A numeric tick formatter whose labels are written as ``lang`` writes numbers (``0,5``, ``2.000``)."""

    def __init__(self, inner: ticker.Formatter, lang: str):
        self.inner, self.lang = inner, lang

    def set_axis(self, axis):
        super().set_axis(axis)
        self.inner.set_axis(axis)

    def set_locs(self, locs):
        self.inner.set_locs(locs)

    def _local(self, text: str) -> str:
        return localize(text, self.lang) if NUMBER.fullmatch(text.strip()) else text

    def __call__(self, x, pos=None):
        return self._local(self.inner(x, pos))

    def format_ticks(self, values):
        return [self._local(v) for v in self.inner.format_ticks(values)]

    def get_offset(self):
        return self._local(self.inner.get_offset())


def localized(fig: plt.Figure, lang: str) -> plt.Figure:
    """The figure with the numbers of its axes written as ``lang`` writes them (every figure returns
    through here or ``finish``)."""
    if lang != "id":
        return fig
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            fmt = axis.get_major_formatter()
            if isinstance(fmt, NUMERIC_FORMATTERS) and not isinstance(fmt, LocalizedFormatter):
                axis.set_major_formatter(LocalizedFormatter(fmt, lang))
    return fig


def finish(fig: plt.Figure, ax: plt.Axes, key: str, lang: str, legend: bool = True) -> plt.Figure:
    """Label a one-panel figure from the translation table (``fig.<key>.x``, ``.y``, ``.title``), add the
    legend and tighten the layout."""
    ax.set_xlabel(t(f"fig.{key}.x", lang))
    ax.set_ylabel(t(f"fig.{key}.y", lang))
    ax.set_title(t(f"fig.{key}.title", lang))
    if legend:
        ax.legend()
    fig.tight_layout()
    return localized(fig, lang)
