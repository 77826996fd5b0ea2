"""Chart images for the statistics: PNG in memory, drawn with matplotlib's Agg backend.

``Figure`` is used directly (not ``pyplot``), so no global state is touched and rendering is safe
in a worker thread; the caller runs it with ``asyncio.to_thread``. matplotlib (with numpy and
Pillow, tens of MiB) is imported by the first chart, not when the bot starts.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence

BAR_COLOR = "#2f6db5"


def category_bar_chart(
    labels: Sequence[str],
    counts: Sequence[int],
    value_labels: Sequence[str],
    title: str,
    xlabel: str,
) -> bytes:
    """A horizontal bar chart (one bar per category, first on top) as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    wrapped = [textwrap.fill(label, 38) for label in labels]
    height = max(3.0, 0.62 * len(labels) + 1.4)
    figure = Figure(figsize=(10, height), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    positions = list(range(len(labels)))
    bars = axes.barh(positions, list(counts), color=BAR_COLOR)
    axes.set_yticks(positions, wrapped, fontsize=9)
    axes.invert_yaxis()
    axes.set_title(title, fontsize=12)
    axes.set_xlabel(xlabel)
    axes.bar_label(bars, labels=list(value_labels), padding=3, fontsize=9)
    top = max(counts, default=0)
    axes.set_xlim(0, max(1, top) * 1.25)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
