"""The one place where matplotlib is set up: notebooks and runs draw to files, never to a screen.

Figure modules import ``plt`` from here, so the non-interactive backend is chosen before
pyplot is first imported, whichever module is imported first.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as ticker  # noqa: E402

from analysis.core.i18n import t  # noqa: E402

__all__ = ["finish", "plt", "ticker"]


def finish(fig: plt.Figure, ax: plt.Axes, key: str, lang: str, legend: bool = True) -> plt.Figure:
    """Label a one-panel figure from the translation table (``fig.<key>.x``, ``.y``, ``.title``), add the
    legend and tighten the layout."""
    ax.set_xlabel(t(f"fig.{key}.x", lang))
    ax.set_ylabel(t(f"fig.{key}.y", lang))
    ax.set_title(t(f"fig.{key}.title", lang))
    if legend:
        ax.legend()
    fig.tight_layout()
    return fig
