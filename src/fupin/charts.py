"""Charts of the yearly report, as data: what to draw, in both languages.

A :class:`Chart` says what a reader should see (a bar or line chart of a few
series over categories, with the points to highlight); it carries no drawing.
The renderers draw it in the reader's language: inline SVG in HTML and Word,
and the data behind it as a table in Excel, so every chart can also be read.
The core and plugins put charts in their report sections
(:attr:`fupin.ReportSection.charts`).
"""

from __future__ import annotations

from typing import Literal

import attrs

from fupin.serial import Serialisable

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
