"""The report's charts as inline SVG, drawn by pygal.

pygal renders on the Python side to plain SVG: the page needs no script, opens offline, prints
as it shows, and stays small. Its optional tooltip script (fetched from the web by default) is
turned off here, so no chart ever reaches for the network.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["bar", "horizontal_bar", "line", "stacked_bar"]

PALETTE = (
    "#2563eb",
    "#16a34a",
    "#dc2626",
    "#d97706",
    "#7c3aed",
    "#0891b2",
    "#db2777",
    "#65a30d",
    "#475569",
    "#ea580c",
)
#: Colours that mean the same thing wherever a disposition is drawn.
DISPOSITION_COLOURS = {
    "CREATED": "#16a34a",
    "UPDATED": "#22c55e",
    "SKIPPED": "#86efac",
    "PENDING": "#94a3b8",
    "FAILED": "#dc2626",
    "CONFLICT": "#f97316",
    "REJECTED": "#b91c1c",
    "SUPPRESSED": "#7c3aed",
    "DUPLICATE": "#d97706",
    "OVER_CAPACITY": "#0891b2",
}


def _pygal() -> Any:
    """pygal, without the import hook it adds to ``sys.meta_path`` on import.

    That hook (``PluginImportFixer``, for ``pygal.maps.*`` plugins, which the report does not use)
    has only the ``find_module`` API that Python 3.12 dropped; on 3.11 it makes every later import
    warn ("find_spec() not found"), so it is taken out again at once.
    """
    import pygal

    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__module__ != "pygal"]
    return pygal


def _style(colours: Sequence[str] = PALETTE) -> Any:
    from pygal.style import Style  # imported after _pygal() has removed its hook

    return Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#1f2937",
        foreground_strong="#111827",
        foreground_subtle="#e5e7eb",
        guide_stroke_dasharray="0",
        major_guide_stroke_dasharray="0",
        font_family="system-ui, -apple-system, 'Segoe UI', sans-serif",
        label_font_size=12,
        major_label_font_size=12,
        value_font_size=11,
        legend_font_size=12,
        title_font_size=14,
        colors=tuple(colours),
    )


def _config(**extra: Any) -> dict[str, Any]:
    """What every chart shares: no script, no XML declaration, a size that suits a laptop."""
    return {
        "js": [],
        "disable_xml_declaration": True,
        "width": 640,
        "height": 300,
        "margin": 12,
        "style": _style(extra.pop("colours", PALETTE)),
        "print_values": False,
        "show_legend": False,
        "truncate_label": 40,
        **extra,
    }


def _render(chart: Any) -> str:
    return str(chart.render(is_unicode=True))


def count_ticks(largest: float, most: int = 6) -> list[float]:
    """Round tick values from 0 past ``largest``, at most about ``most`` of them, whole numbers
    for counts (pygal would otherwise label 0.25, 0.5, ... of a small count as 0, 0, ...)."""
    step = 1.0
    while largest / step > most:
        for factor in (2, 2.5, 2):
            step *= factor
            if largest / step <= most:
                break
    top = int(-(-largest // step)) if largest > 0 else 1
    return [i * step for i in range(top + 1)]


def horizontal_bar(title: str, items: Sequence[tuple[str, float]], *, values: bool = True) -> str:
    """One horizontal bar per item, largest first as given, each labelled and valued."""
    pygal = _pygal()

    chart = pygal.HorizontalBar(
        **_config(
            title=title,
            height=max(160, 34 * len(items) + 70),
            print_values=values,
            print_values_position="top",
            value_formatter=lambda v: f"{v:,.0f}",
        )
    )
    # pygal draws the first value at the bottom: reverse so the page reads top-down.
    chart.x_labels = [label for label, _ in reversed(items)]
    chart.y_labels = count_ticks(max((value for _, value in items), default=0))
    chart.add(title, [value for _, value in reversed(items)])
    return _render(chart)


def bar(title: str, items: Sequence[tuple[str, float]], *, x_title: str = "") -> str:
    """A vertical bar per item (a histogram when the labels are bins)."""
    pygal = _pygal()

    chart = pygal.Bar(**_config(title=title, x_title=x_title, value_formatter=_count))
    chart.x_labels = [label for label, _ in items]
    chart.y_labels = count_ticks(max((value for _, value in items), default=0))
    chart.add(title, [value for _, value in items])
    return _render(chart)


def stacked_bar(
    title: str, labels: Sequence[str], series: Mapping[str, Sequence[int]], *, legend: bool = True
) -> str:
    """Stacked bars, one per label, one series per key (dispositions keep their colours)."""
    pygal = _pygal()

    names = list(series)
    colours = [
        DISPOSITION_COLOURS.get(name, PALETTE[i % len(PALETTE)]) for i, name in enumerate(names)
    ]
    chart = pygal.StackedBar(
        **_config(
            title=title,
            show_legend=legend,
            legend_at_bottom=True,
            colours=colours,
            value_formatter=_count,
        )
    )
    chart.x_labels = list(labels)
    totals = [sum(column) for column in zip(*series.values(), strict=True)]
    chart.y_labels = count_ticks(max(totals, default=0))
    for name in names:
        chart.add(name, list(series[name]))
    return _render(chart)


def line(title: str, points: Sequence[tuple[float, float]], *, x_title: str, y_title: str) -> str:
    """A line through ``(x, y)`` points."""
    pygal = _pygal()

    chart = pygal.XY(
        **_config(
            title=title,
            x_title=x_title,
            y_title=y_title,
            show_dots=len(points) < 30,
            show_x_guides=False,
            fill=True,
            value_formatter=_count,
        )
    )
    chart.add(title, [(float(x), float(y)) for x, y in points])
    return _render(chart)


def _count(value: float) -> str:
    return f"{value:,.0f}"
