"""Charts of the yearly report, as data: what to draw, in both languages.

A :class:`Chart` says what a reader should see (a bar or line chart of a few
series over categories, with the points to highlight); it carries no drawing.
The renderers draw it in the reader's language: :func:`chart_svg` (inline SVG
in HTML, text kept as text) and :func:`chart_png` (an image for Word), and the
data behind it as a table in Excel, so every chart can also be read. The core
and plugins put charts in their report sections
(:attr:`fupin.ReportSection.charts`).

Drawing uses matplotlib's object API (``matplotlib.figure.Figure``, never
pyplot's global figures), imported only when a chart is drawn; the few
rcParams the SVG writer reads are set under a lock, so a web platform may draw
from several threads.
"""

from __future__ import annotations

import io
import math
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

import attrs

from fupin.serial import Serialisable

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: How a chart draws its series.
ChartKind = Literal["bar", "stacked_bar", "line", "bar_line"]


@attrs.frozen
class Series(Serialisable):
    """One series of a chart: a name and one value per category (None where there is none).

    Attributes:
        name_zh / name_en: the legend entry.
        values: one number per category of the chart, in its order.
        unit_zh / unit_en: what the numbers count ("户", "households"; "%"; "元", "yuan").
        axis: ``"left"`` or ``"right"`` (a second axis, e.g. a rate beside counts in ``bar_line``).
    """

    name_zh: str
    name_en: str
    values: tuple[float | int | None, ...]
    unit_zh: str = ""
    unit_en: str = ""
    axis: Literal["left", "right"] = "left"

    def name(self, lang: str) -> str:
        """The legend entry in ``lang``."""
        return self.name_en if lang == "en" and self.name_en else self.name_zh


@attrs.frozen
class Chart(Serialisable):
    """A chart of a report section, in both languages.

    Attributes:
        key: a stable id, namespaced like the section's (``"core.visits_by_year"``).
        kind: how the series are drawn (:data:`ChartKind`).
        title_zh / title_en: the caption.
        categories_zh / categories_en: the x axis (years, cadres' names, purposes).
        series: the data.
        highlight: indexes of categories to mark (an outlier, the report's year).
        note_zh / note_en: one sentence under the chart saying what it shows.
    """

    key: str
    kind: ChartKind
    title_zh: str
    title_en: str
    categories_zh: tuple[str, ...]
    categories_en: tuple[str, ...]
    series: tuple[Series, ...]
    highlight: tuple[int, ...] = ()
    note_zh: str = ""
    note_en: str = ""

    def title(self, lang: str) -> str:
        """The caption in ``lang``."""
        return self.title_en if lang == "en" and self.title_en else self.title_zh

    def categories(self, lang: str) -> tuple[str, ...]:
        """The categories in ``lang``."""
        return self.categories_en if lang == "en" and self.categories_en else self.categories_zh

    def note(self, lang: str) -> str:
        """The note in ``lang``."""
        return self.note_en if lang == "en" and self.note_en else self.note_zh



# -- drawing ------------------------------------------------------------------------------------

#: Fonts that draw Chinese, in order of preference; the SVG names all of them (the reader's
#: machine picks the first it has), an image is drawn with the first one installed here.
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei")
#: The CSS font stack written into every SVG text.
SVG_FONT_FAMILY = ", ".join([*(f"'{name}'" for name in CJK_FONTS), "sans-serif"])

#: Series colours (muted, print well in grey), the highlight colour and its background band.
PALETTE = ("#3b6ea8", "#e0a030", "#5a9e6f", "#8c6bb1", "#7f7f7f", "#c9723b")
HIGHLIGHT = "#c0392b"
HIGHLIGHT_BAND = "#fbe3e0"
#: A4 text width (170 mm) by a third of it, in inches.
WIDTH_IN, HEIGHT_IN = 6.7, 3.0

_LOCK = threading.RLock()


def cjk_font() -> str | None:
    """The first installed font of :data:`CJK_FONTS` (or another Noto Sans CJK / Source Han Sans face), or None."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    found = next((name for name in CJK_FONTS if name in names), None)
    if found is None:  # a matplotlib that lists only a collection's first face (Noto Sans CJK JP draws Chinese too)
        found = next((n for n in sorted(names) if n.startswith(("Noto Sans CJK", "Source Han Sans"))), None)
    return found


def _families(require: bool) -> list[str]:
    font = cjk_font()
    if font is None and require:
        from fupin.errors import FontMissing

        raise FontMissing("没有可显示中文的字体, 请安装 fonts-noto-cjk / no font draws Chinese: install fonts-noto-cjk")
    return [font, "DejaVu Sans"] if font else ["DejaVu Sans"]


@contextmanager
def _style(salt: str, families: list[str]) -> Iterator[None]:
    import matplotlib

    rc: dict[str, Any] = {
        "svg.fonttype": "none", "svg.hashsalt": salt, "font.family": families, "font.size": 9.0,
        "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#888888",
        "axes.labelcolor": "#333333", "xtick.color": "#333333", "ytick.color": "#333333",
        "axes.grid": True, "axes.grid.axis": "y", "grid.color": "#e4e4e4", "grid.linewidth": 0.6,
        "axes.axisbelow": True, "legend.frameon": False, "figure.dpi": 100.0, "savefig.dpi": 100.0,
    }
    with _LOCK, matplotlib.rc_context(rc):  # type: ignore[arg-type]  # keys are checked by matplotlib
        yield


def _number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _rotation(labels: tuple[str, ...]) -> int:
    width = sum(2 if ord(ch) > 0x2E80 else 1 for label in labels for ch in label)  # CJK characters are wide
    if len(labels) > 16 or width > 110:
        return 90
    if len(labels) > 8 or width > 55:
        return 45
    return 0


def _figure(chart: Chart, lang: str, title: bool) -> Figure:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    categories = chart.categories(lang)
    n = len(categories)
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), layout="constrained")
    ax: Axes = fig.add_subplot()
    left = [s for s in chart.series if s.axis != "right"]
    right = [s for s in chart.series if s.axis == "right"]
    colour = {id(s): PALETTE[i % len(PALETTE)] for i, s in enumerate(chart.series)}
    marked = {i for i in chart.highlight if 0 <= i < n}
    for i in sorted(marked):
        ax.axvspan(i - 0.5, i + 0.5, color=HIGHLIGHT_BAND, zorder=0, lw=0, gid=f"highlight-{i}")
    xs = list(range(n))
    label_values = n <= 12 and not right  # a second axis's line would run through the bars' labels
    bars_drawn = False
    if chart.kind in ("bar", "bar_line", "stacked_bar") and left:
        bars_drawn = True
        stacked = chart.kind == "stacked_bar"
        width = 0.7 if stacked else 0.8 / len(left)
        bottoms = [0.0] * n
        for k, series in enumerate(left):
            offset = 0.0 if stacked else (k - (len(left) - 1) / 2) * width
            for i, value in enumerate(series.values[:n]):
                if value is None:
                    continue
                solo = len(left) == 1 and i in marked
                bar = ax.bar(
                    i + offset, value, width, bottom=bottoms[i] if stacked else 0.0,
                    color=HIGHLIGHT if solo else colour[id(series)],
                    edgecolor=HIGHLIGHT if i in marked and not solo else "none", linewidth=1.2,
                    label=series.name(lang) if i == min((j for j, v in enumerate(series.values[:n]) if v is not None), default=-1) else None,
                )
                bar.patches[0].set_gid(f"bar-{k}-{i}")
                top = bottoms[i] + value if stacked else value
                if stacked:
                    bottoms[i] += value
                if (label_values and not stacked) or i in marked and not stacked:
                    ax.annotate(_number(value), (i + offset, top), xytext=(0, 2), textcoords="offset points",
                                ha="center", va="bottom", fontsize=7.5,
                                color=HIGHLIGHT if i in marked else "#333333", gid=f"value-{k}-{i}")
        if stacked:
            for i in range(n):
                if i in marked or label_values:
                    if any(s.values[i] is not None for s in left if i < len(s.values)):
                        ax.annotate(_number(bottoms[i]), (i, bottoms[i]), xytext=(0, 2), textcoords="offset points",
                                    ha="center", va="bottom", fontsize=7.5,
                                    color=HIGHLIGHT if i in marked else "#333333", gid=f"total-{i}")
    else:
        for k, series in enumerate(left):
            _line(ax, series, n, colour[id(series)], marked, lang, f"line-{k}")
    ax2: Axes | None = None
    if right:
        ax2 = ax.twinx()
        ax2.grid(False)
        ax2.spines["right"].set_visible(True)
        for k, series in enumerate(right):
            _line(ax2, series, n, colour[id(series)], marked, lang, f"line-r{k}")
    ax.set_xlim(-0.6, n - 0.4)
    rotation = _rotation(categories)
    ax.set_xticks(xs, list(categories), rotation=rotation, ha="right" if rotation == 45 else "center",
                  rotation_mode="anchor" if rotation == 45 else "default")
    for i, tick in enumerate(ax.get_xticklabels()):
        if i in marked:
            tick.set_color(HIGHLIGHT)
            tick.set_fontweight("bold")
    fmt = FuncFormatter(lambda v, _pos: _number(v))
    ax.yaxis.set_major_formatter(fmt)
    if bars_drawn or any(v is not None and v >= 0 for s in left for v in s.values):
        ax.set_ylim(bottom=0)
    if bars_drawn:
        ax.set_ylim(top=ax.get_ylim()[1] * 1.08)  # room for the value labels
    def unit(series: Series) -> str:
        return series.unit_en if lang == "en" else series.unit_zh

    if left and unit(left[0]):  # the unit over the axis, as Chinese charts print it (单位 at the top)
        ax.set_title(f"({unit(left[0])})", loc="left", fontsize=8, color="#555555")
    if ax2 is not None:
        ax2.yaxis.set_major_formatter(fmt)
        ax2.set_ylim(bottom=0, top=ax2.get_ylim()[1] * 1.08)
        if unit(right[0]):
            ax.set_title(f"({unit(right[0])})", loc="right", fontsize=8, color="#555555")
    if len(chart.series) > 1:
        handles, labels = ax.get_legend_handles_labels()
        if ax2 is not None:
            more = ax2.get_legend_handles_labels()
            handles, labels = handles + more[0], labels + more[1]
        fig.legend(handles, labels, loc="outside upper center", ncol=min(len(labels), 4), fontsize=8)
    if title:
        fig.suptitle(chart.title(lang), fontsize=11)
    return fig


def _line(ax: Axes, series: Series, n: int, colour: str, marked: set[int], lang: str, gid: str) -> None:
    values = [math.nan if v is None else float(v) for v in series.values[:n]]
    values += [math.nan] * (n - len(values))
    (line,) = ax.plot(range(n), values, color=colour, marker="o", markersize=4, linewidth=1.8, label=series.name(lang))
    line.set_gid(gid)
    for i in sorted(marked):
        if i < n and not math.isnan(values[i]):
            ax.plot([i], [values[i]], marker="o", markersize=7, color=HIGHLIGHT, linestyle="none")
            ax.annotate(_number(values[i]), (i, values[i]), xytext=(6, 3), textcoords="offset points",
                        ha="left", va="bottom", fontsize=7.5, color=HIGHLIGHT, gid=f"{gid}-value-{i}")


_ID = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')
_FONT = re.compile(r"font-family: [^;\"]+")


def _prefix(key: str) -> str:
    return "c-" + re.sub(r"[^A-Za-z0-9_-]+", "-", key).strip("-")


def chart_svg(chart: Chart, lang: str = "zh", *, id_prefix: str | None = None, title: bool = False) -> str:
    """The chart as an inline ``<svg>`` element (no XML declaration), ready to put in an HTML page.

    The output is deterministic (same chart, same bytes: no date, fixed hashes); text stays text in the
    CJK font stack :data:`SVG_FONT_FAMILY`, so it is selectable, searchable and small. Every id in it
    starts with ``id_prefix`` (default from the chart's key) so that several charts fit on one page;
    bars are ``<g id="PREFIX-bar-SERIES-CATEGORY">``, highlighted categories have a
    ``PREFIX-highlight-CATEGORY`` band. ``title`` draws the title above the plot (the HTML report puts
    it in the figure's caption instead); the root always carries it as ``<title>`` and ``aria-label``.
    Measured with a CJK font when one is installed.
    """
    from xml.sax.saxutils import escape, quoteattr

    import warnings

    prefix = id_prefix or _prefix(chart.key)
    with _style(chart.key, _families(require=False)), warnings.catch_warnings():
        # measured with DejaVu Sans when no CJK font is installed here: the reader's browser draws the text
        warnings.filterwarnings("ignore", "Glyph .* missing from font", UserWarning)
        fig = _figure(chart, lang, title)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = _ID.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)
    svg = _FONT.sub("font-family: " + SVG_FONT_FAMILY, svg)
    head, rest = svg.split(">", 1)
    label = chart.title(lang)
    head = head.replace("<svg ", f'<svg role="img" aria-label={quoteattr(label)} class="chart" data-chart={quoteattr(chart.key)} ', 1)
    return f"{head}>\n <title>{escape(label)}</title>{rest}".rstrip() + "\n"


def chart_png(chart: Chart, lang: str = "zh", *, dpi: int = 200, title: bool = False) -> bytes:
    """The chart as a PNG image (for Word), :data:`WIDTH_IN` by :data:`HEIGHT_IN` inches at ``dpi``.

    Text is drawn as glyphs, so a font of :data:`CJK_FONTS` must be installed.

    Raises:
        FontMissing: No font that draws Chinese is installed (exit status 4).
    """
    with _style(chart.key, _families(require=True)):
        fig = _figure(chart, lang, title)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()
