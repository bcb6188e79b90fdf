"""The HTML report a leader prints: parts in the order of the 年度帮扶工作总结, charts as inline SVG in
figures, status words in status cells, nothing fetched from outside, an A4 print stylesheet.

The report is built from a small store (three poor households, one visited) and given hand-made
sections in every part, with charts, so that every part and every chart kind is on the page.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import attrs
import pytest

from fupin import render_report
from fupin.charts import Chart, Series
from fupin.checks import Status
from fupin.report import REPORT_PARTS, ReportSection, build_report
from fupin.report_html import CSS
from tests.campaign_seed import KEY, add_household, cadre_code, d, h, pair, seed_base, visit

VOID = {"meta", "br", "hr", "img", "link", "input", "col", "source", "wbr"}


@attrs.define
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Any] = attrs.field(factory=list)
    parent: Any = None

    def iter(self, tag: str | None = None) -> Any:
        if tag is None or self.tag == tag:
            yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter(tag)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class Tree(HTMLParser):
    """A small DOM: enough to find elements, their attributes, parents and text."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.at = self.root
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attributes}, parent=self.at)
        self.at.children.append(node)
        if tag not in VOID:
            self.at = node

    def handle_startendtag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        self.at.children.append(Node(tag, {k: v or "" for k, v in attributes}, parent=self.at))

    def handle_endtag(self, tag: str) -> None:
        node = self.at
        while node is not self.root and node.tag != tag:
            node = node.parent
        assert node is not self.root, f"</{tag}> closes nothing"
        self.at = node.parent

    def handle_data(self, data: str) -> None:
        self.at.children.append(data)


def chart(key: str, kind: Any, n: int = 4, highlight: tuple[int, ...] = (1,)) -> Chart:
    years = tuple(str(2015 + i) for i in range(n))
    second = (Series("发生率", "rate", tuple(10.0 - i for i in range(n)), "%", "%", axis="right"),) if kind == "bar_line" else ()
    return Chart(key, kind, f"图表{key}", f"Chart {key}", years, years,
                 (Series("户数", "households", tuple(range(3, 3 + n)), "户", "households"), *second),
                 highlight=highlight, note_zh=f"说明{key}", note_en=f"Note {key}")


EXTRA = (
    ReportSection("test.incidence", "贫困发生率", "Poverty incidence", paragraphs_zh=("发生率逐年下降。",),
                  paragraphs_en=("The rate fell every year.",), part="profile", charts=(chart("test.rate", "bar_line"),)),
    ReportSection("test.stream", "教育帮扶", "Education", part="work", charts=(chart("test.a", "bar"), chart("test.b", "line")),
                  headers_zh=("年份", "人数", "完成情况"), headers_en=("year", "people", "status"),
                  rows=((2015, 1200, "已达成"), (2016, 30, "未达成")), shortfalls_zh=("一人未资助",), shortfalls_en=("one not paid",),
                  next_steps_zh=("补发助学金",), next_steps_en=("pay the missing study aid",)),
    ReportSection("test.grid", "承诺逐年检查", "Commitments year by year", part="commitments",
                  headers_zh=("编号", "2015", "2016"), headers_en=("no.", "2015", "2016"), rows=(("C01", "✓", "✗"), ("C02", "…", "○")),
                  charts=(chart("test.grid_chart", "stacked_bar"),)),
    ReportSection("test.sheet", "干部考核表", "Cadre sheets", part="appendix",
                  headers_zh=("干部", "走访"), headers_en=("cadre", "visits"), rows=(("甲", 102), ("乙", 9)),
                  charts=(chart("test.cadres", "bar", n=12, highlight=(0,)),)),
)


@pytest.fixture
def report(store: Any) -> Any:
    plan = seed_base(store, ((cadre_code(1), "厅级"),))
    for s in range(1, 4):
        add_household(store, 1, s)
    pair(store, cadre_code(1), h(1, 1), KEY)
    visit(store, "V-1", h(1, 1), "2015-09-10", [cadre_code(1)])
    built = build_report(store, plan, 2015, as_of=d("2016-01-10"))
    return attrs.evolve(built, sections=(*built.sections, *EXTRA))


def charts_of(report: Any) -> list[str]:
    """The charts' keys in the page's order: by part, then by section."""
    return [c.key for part in REPORT_PARTS for s in report.sections if s.part == part for c in s.charts]


class TestStructure:
    @pytest.mark.parametrize("lang", ["zh", "en"])
    def test_parts_in_order_annex_last(self, report: Any, lang: str) -> None:
        """The parts are h2 headings in REPORT_PARTS order, each holding its sections; the plan office's annex comes last."""
        tree = Tree(render_report(report, "html", lang))
        parts = [p.attrs["data-part"] for p in tree.root.iter("section") if "part" in p.classes()]
        assert parts == [k for k in REPORT_PARTS if k in parts]
        assert parts[-1] == "plan_office" and {"profile", "work", "commitments", "problems", "next", "appendix"} <= set(parts)
        i = 1 if lang == "en" else 0
        headings = [h2.text() for h2 in tree.root.iter("h2")]
        assert headings == [REPORT_PARTS[k][i] for k in parts]
        where = {s.attrs["data-section"]: s.parent.attrs["data-part"] for s in tree.root.iter("section") if "data-section" in s.attrs}
        assert (where["test.incidence"], where["test.stream"], where["test.grid"], where["test.sheet"], where["core.plan_lint"]) == (
            "profile", "work", "commitments", "appendix", "plan_office")

    def test_cover(self, report: Any) -> None:
        """The cover block says the title, the plan, the year, the as-of day and the commitments at a glance."""
        tree = Tree(render_report(report, "html", "zh"))
        (cover,) = [n for n in tree.root.iter("header") if "cover" in n.classes()]
        text = cover.text()
        assert "2015 年度帮扶工作总结" in text and report.plan.title_zh in text and "2016-01-10" in text
        assert "承诺" in text and Status.NOT_MET.label("zh") in text
        assert tree.root.iter("html").__next__().attrs["lang"] == "zh-CN"

    def test_shortfalls_highlighted_next_steps_not_in_the_section(self, report: Any) -> None:
        """A section's shortfalls are a highlighted list in the section; its next steps are not said there (五 says them)."""
        tree = Tree(render_report(report, "html", "zh"))
        stream = next(s for s in tree.root.iter("section") if s.attrs.get("data-section") == "test.stream")
        assert [u.text() for u in stream.iter("ul") if "shortfalls" in u.classes()] == ["一人未资助"]
        assert "补发助学金" not in stream.text()

    def test_problems_and_next_steps_gathered_when_no_section_says_them(self, report: Any) -> None:
        """Without a section of 四 or 五, the page gathers every section's shortfalls and next steps there."""
        bare = attrs.evolve(report, sections=tuple(s for s in report.sections if s.part not in ("problems", "next")))
        tree = Tree(render_report(bare, "html", "zh"))
        nxt = next(s for s in tree.root.iter("section") if s.attrs.get("data-part") == "next")
        assert "补发助学金" in nxt.text()
        problems = next(s for s in tree.root.iter("section") if s.attrs.get("data-part") == "problems")
        assert "一人未资助" in problems.text()


class TestCharts:
    @pytest.mark.parametrize("lang", ["zh", "en"])
    def test_every_chart_is_an_svg_in_its_figure(self, report: Any, lang: str) -> None:
        """Each chart of the sections is an inline <svg> in figure[data-chart=KEY], captioned with its title and note."""
        tree = Tree(render_report(report, "html", lang))
        figures = [f for f in tree.root.iter("figure")]
        assert [f.attrs["data-chart"] for f in figures] == charts_of(report)
        by_key = {c.key: c for s in report.sections for c in s.charts}
        for number, figure in enumerate(figures, 1):
            (svg,) = list(figure.iter("svg"))
            (caption,) = list(figure.iter("figcaption"))
            c = by_key[figure.attrs["data-chart"]]
            assert c.title(lang) in caption.text() and c.note(lang) in caption.text()
            assert caption.text().startswith(f"图 {number}" if lang == "zh" else f"Figure {number}")
            assert c.categories(lang)[0] in svg.text()

    def test_ids_unique_on_the_page(self, report: Any) -> None:
        """Several charts on one page share no id (each SVG's ids have their own prefix)."""
        tree = Tree(render_report(report, "html", "zh"))
        ids = [n.attrs["id"] for n in tree.root.iter() if "id" in n.attrs]
        assert len(ids) == len(set(ids))

    def test_svg_has_no_page_wide_style(self, report: Any) -> None:
        """The SVGs' own ``*{...}`` style is not in the page (it would reach every element); the page's CSS has it for svg only."""
        page = render_report(report, "html", "zh")
        assert '<style type="text/css">*{stroke-linejoin' not in page and "figure.chart svg *{stroke-linejoin" in page


class TestSelfContained:
    @pytest.mark.parametrize("lang", ["zh", "en"])
    def test_no_external_resources(self, report: Any, lang: str) -> None:
        """No script, no stylesheet link, no src/href leaving the page, no url() fetching anything."""
        page = render_report(report, "html", lang)
        tree = Tree(page)
        assert not list(tree.root.iter("script")) and not list(tree.root.iter("link")) and not list(tree.root.iter("img"))
        for node in tree.root.iter():
            for name, value in node.attrs.items():
                if name in ("src", "href", "xlink:href", "action", "poster"):
                    assert value.startswith("#"), (node.tag, name, value)
        assert not re.findall(r"url\((?!#)", page) and "@import" not in page and "@font-face" not in page


class TestStatusCells:
    @pytest.mark.parametrize("lang", ["zh", "en"])
    def test_status_words_are_in_status_cells(self, report: Any, lang: str) -> None:
        """Every cell holding a status word or a grid mark has class "status"; the commitments table's status column is all status cells."""
        tree = Tree(render_report(report, "html", lang))
        words = {s.label(lang) for s in Status} | {"✓", "✗", "…", "–", "○"}
        cells = list(tree.root.iter("td"))
        assert [c for c in cells if c.text().strip() in words]
        for cell in cells:
            if cell.text().strip() in words:
                assert "status" in cell.classes(), cell.text()
        table = next(t for t in tree.root.iter("table") if t.attrs.get("data-table") == "core.commitments")
        rows = [r for r in table.iter("tr") if list(r.iter("td"))]
        assert len(rows) == len(report.results)
        statuses = [next(td for td in r.iter("td") if "status" in td.classes()).text() for r in rows]
        assert statuses == [r.status.label(lang) for r in report.results]

    def test_numbers_right_aligned_and_grouped(self, report: Any) -> None:
        """Numbers are num cells with thousands separators, years without."""
        tree = Tree(render_report(report, "html", "zh"))
        stream = next(t for t in tree.root.iter("table") if t.attrs.get("data-table") == "test.stream")
        first = [td for td in stream.iter("td")][:3]
        assert [(td.text(), "num" in td.classes()) for td in first[:2]] == [("2015", True), ("1,200", True)]


class TestPrint:
    def test_a4_stylesheet(self) -> None:
        """@page is A4; nothing long is kept whole (only figures, rows and headings); 附表 and the annex start a page;
        status cells and numbers never wrap; table headings repeat."""
        assert re.search(r"@page\{size:A4;margin:[^}]*", CSS)
        rules = {k.strip(): v for k, v in re.findall(r"([^{}]+)\{([^{}]*)\}", CSS.split("@media print{", 1)[1])}
        keep = [sel.strip() for sel, body in rules.items() if "break-inside:avoid" in body]
        assert keep == ["figure.chart,tr,.badge"]
        assert "break-before:page" in rules[".part-appendix,.part-plan_office"]
        assert "display:table-header-group" in rules["thead"]
        assert "break-after:avoid" in rules["h2,h3"]
        assert "section{" not in CSS.replace("section{page", "")
        screen = {k.strip(): v for k, v in re.findall(r"([^{}@]+)\{([^{}]*)\}", CSS.split("@page", 1)[0])}
        assert "white-space:nowrap" in screen["th.status,td.status"] and "white-space:nowrap" in screen["td.num"]
        assert '"Noto Sans CJK SC"' in screen["body"]
