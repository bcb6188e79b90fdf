"""Charts drawn: inline SVG (text kept as text, deterministic) and PNG for Word, in Chinese and English."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from fupin.charts import CJK_FONTS, Chart, Series, chart_png, chart_svg, cjk_font
from fupin.errors import FontMissing

SVG = "{http://www.w3.org/2000/svg}"
CADRES = Chart(
    "core.visits_by_cadre", "bar", "每名干部的走访次数", "Visits per cadre",
    tuple(f"干部{i:02d}" for i in range(20)), tuple(f"Cadre {i:02d}" for i in range(20)),
    (Series("走访", "visits", (8, 9, 10, 11, 7, 102, *([9] * 13), None), "次", "visits"),),
    highlight=(5,), note_zh="一名干部走访 102 次。", note_en="One cadre made 102 visits.",
)
POOR = Chart(
    "core.poor_by_year", "bar_line", "贫困户与贫困发生率", "Poor households and the poverty rate",
    ("2014年", "2015年", "2016年", "2017年"), ("2014", "2015", "2016", "2017"),
    (Series("贫困户", "poor households", (120, 95, None, 8), "户", "households"),
     Series("贫困发生率", "poverty rate", (30.1, 24.0, 15.2, 2.0), "%", "%", axis="right")),
    highlight=(3,),
)
FUNDS = Chart(
    "core.funds", "stacked_bar", "资金到位与支出", "Funds in and out", ("产业", "教育"), ("industry", "education"),
    (Series("到位", "in", (100000, 200000), "元", "yuan"), Series("支出", "out", (80000, 150000), "元", "yuan")),
)
RATE = Chart("core.coverage", "line", "走访覆盖率", "Visit coverage", ("2015", "2016"), ("2015", "2016"),
             (Series("覆盖率", "coverage", (88.5, 100), "%", "%"),))


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def ids(root: ET.Element) -> list[str]:
    return [e.get("id", "") for e in root.iter() if e.get("id")]


class TestSvg:
    @pytest.mark.parametrize("lang", ["zh", "en"])
    def test_title_and_categories_in_the_language(self, lang: str) -> None:
        """The SVG parses as XML; its <title> is the chart's title and every category label is a text element in ``lang``."""
        root = parse(chart_svg(CADRES, lang))
        assert root.tag == f"{SVG}svg"
        assert root.findtext(f"{SVG}title") == CADRES.title(lang) == root.get("aria-label")
        assert root.get("data-chart") == "core.visits_by_cadre"
        shown = texts(root)
        for category in CADRES.categories(lang):
            assert category in shown
        other = CADRES.categories("en" if lang == "zh" else "zh")
        assert not set(other) & set(shown)

    def test_one_bar_per_value_and_none_left_out(self) -> None:
        """Each value is one bar (``bar-SERIES-CATEGORY``); the category without a value has none."""
        bars = [i for i in ids(parse(chart_svg(CADRES))) if "-bar-" in i]
        assert len(bars) == 19
        assert "c-core-visits_by_cadre-bar-0-19" not in bars

    def test_highlight_is_marked(self) -> None:
        """A highlighted category has a band, a differently coloured bar and its value written above it."""
        svg = chart_svg(CADRES)
        root = parse(svg)
        assert "c-core-visits_by_cadre-highlight-5" in ids(root)
        bar = next(e for e in root.iter() if e.get("id") == "c-core-visits_by_cadre-bar-0-5")
        other = next(e for e in root.iter() if e.get("id") == "c-core-visits_by_cadre-bar-0-4")
        assert "#c0392b" in ET.tostring(bar, encoding="unicode")
        assert "#c0392b" not in ET.tostring(other, encoding="unicode")
        assert "102" in texts(root)

    def test_text_is_text_in_a_cjk_font_stack(self) -> None:
        """No glyph paths: text is <text> with the CJK font stack, so it can be selected and stays small."""
        svg = chart_svg(POOR)
        assert "贫困发生率" in texts(parse(svg))
        assert "font-family: 'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Micro Hei', 'Microsoft YaHei', sans-serif" in svg
        assert len(svg) < 60_000

    def test_deterministic_and_self_contained(self) -> None:
        """The same chart gives the same bytes; no date, no XML declaration, no link outside the SVG."""
        first = chart_svg(FUNDS)
        assert first == chart_svg(FUNDS)
        assert first.startswith("<svg ")
        assert "<dc:date" not in first and "DOCTYPE" not in first
        root = parse(first)
        for element in root.iter():
            for name, value in element.attrib.items():
                if name.endswith("href"):
                    assert value.startswith("#")

    def test_ids_are_prefixed_so_charts_share_a_page(self) -> None:
        """Every id (and every reference to one) starts with the prefix; two charts on one page share none."""
        a, b = parse(chart_svg(FUNDS, id_prefix="f1")), parse(chart_svg(FUNDS, id_prefix="f2"))
        assert all(i.startswith("f1-") for i in ids(a))
        assert not set(ids(a)) & set(ids(b))
        svg = chart_svg(FUNDS, id_prefix="f1")
        assert "url(#f1-" in svg and "url(#p" not in svg

    @pytest.mark.parametrize("chart", [CADRES, POOR, FUNDS, RATE], ids=lambda c: c.kind)
    def test_every_kind_draws(self, chart: Chart) -> None:
        """bar, bar_line (a second axis), stacked_bar and line each draw in both languages."""
        for lang in ("zh", "en"):
            root = parse(chart_svg(chart, lang))
            assert chart.categories(lang)[0] in texts(root)

    def test_second_axis_and_lines(self) -> None:
        """In bar_line the right-axis series is a line beside the bars, and both units are shown."""
        root = parse(chart_svg(POOR, "en"))
        assert "c-core-poor_by_year-line-r0" in ids(root)
        assert len([i for i in ids(root) if "-bar-" in i]) == 3
        assert {"(households)", "(%)"} <= set(texts(root))
        assert {"poor households", "poverty rate"} <= set(texts(root))


class TestPng:
    def test_a_cjk_font_is_installed(self) -> None:
        """This machine has a font of CJK_FONTS (fonts-noto-cjk) and it has the report's characters."""
        from matplotlib import font_manager
        from matplotlib.ft2font import FT2Font

        name = cjk_font()
        assert name in CJK_FONTS
        path = font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=False)
        charmap = FT2Font(path).get_charmap()
        assert all(ord(ch) in charmap for ch in "贫困发生率走访干部资金到位支出")

    @pytest.mark.parametrize("lang", ["zh", "en"])
    def test_png_opens_with_the_expected_size(self, lang: str) -> None:
        """The PNG is 6.7 by 3 inches at the dpi asked for."""
        image = Image.open(io.BytesIO(chart_png(CADRES, lang, dpi=100)))
        assert image.format == "PNG"
        assert image.size == (670, 300)

    @pytest.mark.filterwarnings("ignore:Glyph")
    def test_chinese_glyphs_are_drawn(self) -> None:
        """Chinese labels are drawn as glyphs: the picture differs from one whose labels are missing-glyph boxes (tofu)."""
        zh = Image.open(io.BytesIO(chart_png(FUNDS, "zh", dpi=100))).convert("L")
        tofu = attrs_evolve_categories(FUNDS, ("\U000f0000", "\U000f0001"))
        box = Image.open(io.BytesIO(chart_png(tofu, "zh", dpi=100))).convert("L")
        assert zh.tobytes() != box.tobytes()
        assert zh.getextrema()[0] < 100  # dark text is there

    def test_without_a_cjk_font_it_says_what_to_install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """With none of the fonts installed, chart_png raises FontMissing (exit status 4) naming fonts-noto-cjk."""
        from matplotlib import font_manager

        kept = [f for f in font_manager.fontManager.ttflist if "CJK" not in f.name and "Han Sans" not in f.name]
        monkeypatch.setattr(font_manager.fontManager, "ttflist", kept)
        with pytest.raises(FontMissing, match="fonts-noto-cjk") as caught:
            chart_png(FUNDS)
        assert caught.value.exit_code == 4
        assert "\n" not in str(caught.value)
        assert parse(chart_svg(FUNDS)).findtext(f"{SVG}title") == "资金到位与支出"  # SVG still works: the reader's fonts draw it


def attrs_evolve_categories(chart: Chart, categories: tuple[str, ...]) -> Chart:
    import attrs

    return attrs.evolve(chart, categories_zh=categories)
