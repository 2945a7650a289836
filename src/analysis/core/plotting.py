"""The one place where matplotlib is set up: notebooks and runs draw to files, never to a screen.

Figure modules import ``plt`` from here, so the non-interactive backend is chosen before
pyplot is first imported, whichever module is imported first.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as ticker  # noqa: E402

__all__ = ["plt", "ticker"]
