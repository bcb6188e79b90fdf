"""The yearly report in a real browser: headless Chromium prints the HTML report to an A4 PDF.

The demo village (the reference plan, built and played) gives the report of
one year, in Chinese and in English. Chromium's own command line prints it
(``--print-to-pdf``) and, for the layout, dumps the DOM of a copy of the page
laid out at the printed width with its print rules in force, in which a small
script has written what it measured (``--dump-dom``). No driver is downloaded:
``scripts/ensure-browser`` installs Debian's chromium and a CJK font, and this
test fails (never skips) without them.

Checked: page 1 holds the report's first part (一、基本情况) and its text, not
just a title; no page is blank; no status word wraps; every chart of the
report is drawn (``figure[data-chart] svg`` with a size); Chinese is embedded
as a CJK font.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from fupin import render_report
from fupin.demo import build_demo
from fupin.plans import load_plan
from fupin.report import REPORT_PARTS
from fupin.simulate import play
from fupin.store import Actor, Store
from fupin.testing import TEST_ACTOR, sqlite_file_url

YEAR = 2017
AS_OF = "2018-01-31"
#: A4 at CSS's 96 px to the inch.
A4_WIDTH_MM = 210
PX_PER_MM = 96 / 25.4
#: Chromium's own margin when the page sets none (0.4 in).
DEFAULT_MARGIN_MM = 10.16


def chromium() -> str:
    """The Chromium binary (FUPIN_CHROMIUM, else chromium or chromium-browser on PATH); the test fails without one."""
    for name in (os.environ.get("FUPIN_CHROMIUM"), "chromium", "chromium-browser"):
        found = name and shutil.which(name)
        if found:
            return found
    pytest.fail("chromium not found: run scripts/ensure-browser (as root it installs chromium and fonts-noto-cjk)")


def _run(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               f"--user-data-dir={profile}", "--no-first-run", "--hide-scrollbars", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stderr[-2000:]}"
    return done


def print_pdf(page: Path, pdf: Path, profile: Path) -> PdfReader:
    """Print ``page`` to ``pdf`` as Chromium does from its print dialog (A4 when the page asks for it, no header or footer)."""
    _run(["--no-pdf-header-footer", "--run-all-compositor-stages-before-draw", "--virtual-time-budget=10000",
          f"--print-to-pdf={pdf}", page.as_uri()], profile)
    assert pdf.stat().st_size > 0
    return PdfReader(pdf)


#: Written into the copy of the page: what a reader's printed page would show, measured.
PROBE = """
<script>
window.addEventListener("load", function () {
  var out = {status: [], wrapped: [], charts: []};
  document.querySelectorAll(".status").forEach(function (el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var tops = {};
    Array.prototype.forEach.call(range.getClientRects(), function (r) { if (r.width > 0) tops[Math.round(r.top)] = 1; });
    var text = el.textContent.trim();
    out.status.push(text);
    if (Object.keys(tops).length > 1) out.wrapped.push(text);
  });
  document.querySelectorAll("figure[data-chart]").forEach(function (f) {
    var svg = f.querySelector("svg");
    var box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    out.charts.push({key: f.getAttribute("data-chart"), width: box.width, height: box.height});
  });
  var pre = document.createElement("pre");
  pre.id = "fupin-probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def page_width_px(page_html: str) -> int:
    """The printed text width of the page: A4 less the left and right margins its ``@page`` rule sets."""
    margin = DEFAULT_MARGIN_MM
    rule = re.search(r"@page\s*\{([^}]*)\}", page_html)
    if rule:
        found = re.search(r"margin\s*:\s*([^;}]+)", rule.group(1))
        if found:
            values = [_mm(v) for v in found.group(1).split()]  # CSS order: top right bottom left
            right = values[1] if len(values) > 1 else values[0]
            left = values[3] if len(values) > 3 else right
            return int((A4_WIDTH_MM - left - right) * PX_PER_MM)
    return int((A4_WIDTH_MM - 2 * margin) * PX_PER_MM)


def _mm(value: str) -> float:
    number = float(re.match(r"[\d.]+", value).group(0)) if re.match(r"[\d.]+", value) else 0.0
    unit = value.lstrip("0123456789.")
    return {"mm": 1.0, "cm": 10.0, "in": 25.4, "pt": 25.4 / 72, "px": 1 / PX_PER_MM}.get(unit, 1.0) * number


def measure(page_html: str, directory: Path, profile: Path) -> dict[str, Any]:
    """Lay out a copy of the page at the printed width with its print rules in force; return what the probe measured."""
    copy = page_html.replace("@media print", "@media all")
    copy = copy.replace("</body>", PROBE + "</body>", 1) if "</body>" in copy else copy + PROBE
    path = directory / "probe.html"
    path.write_text(copy, encoding="utf-8")
    width = page_width_px(page_html)
    done = _run([f"--window-size={width},1200", "--virtual-time-budget=10000", "--dump-dom", path.as_uri()], profile)
    found = re.search(r'<pre id="fupin-probe">(.*?)</pre>', done.stdout, re.S)
    assert found, "the probe wrote nothing: " + done.stdout[-500:]
    return dict(json.loads(html.unescape(found.group(1))))


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo village of the reference plan, built and played with the installed plugins (their sections and charts)."""
    from fupin.plugins import get_plugin_manager

    url = sqlite_file_url(tmp_path_factory.mktemp("browser"), "demo.db")
    with Store.open(url, pm=get_plugin_manager(), actor=Actor.parse(TEST_ACTOR)) as store:
        store.init()
        build_demo(store, "qjnu-tuomu")
        play(store, load_plan("qjnu-tuomu"))
    yield url


@pytest.fixture(scope="module", params=["zh", "en"])
def printed(request: pytest.FixtureRequest, demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The report of YEAR rendered in one language, printed to PDF and measured."""
    import datetime as dt

    from fupin.plugins import get_plugin_manager

    lang = request.param
    with Store.open(demo_url, pm=get_plugin_manager(), actor=Actor.parse(TEST_ACTOR)) as store:
        report = store.report("qjnu-tuomu", YEAR, as_of=dt.date.fromisoformat(AS_OF))
    page_html = render_report(report, "html", lang)
    directory = tmp_path_factory.mktemp(f"print-{lang}")
    page = directory / "report.html"
    page.write_text(page_html, encoding="utf-8")
    profile = directory / "profile"
    pdf = print_pdf(page, directory / "report.pdf", profile)
    return {"lang": lang, "report": report, "html": page_html, "pdf": pdf, "pdf_path": directory / "report.pdf",
            "probe": measure(page_html, directory, profile)}


def _text(page: Any) -> str:
    """A page's text, spaces squeezed; NFKC folds the Kangxi radicals some CJK fonts map 一 to back to the usual characters."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", page.extract_text() or ""))


def test_page_one_holds_the_first_part(printed):
    """Page 1 is not a title alone: it shows the first part's heading (一、基本情况) and a body of text under it."""
    pages = printed["pdf"].pages
    first = _text(pages[0])
    heading = REPORT_PARTS["profile"][0 if printed["lang"] == "zh" else 1]
    assert heading in first, f"page 1 lacks {heading!r}: {first[:400]!r}"
    after = first.split(heading, 1)[1]
    assert len(after.replace(" ", "")) >= 150, f"page 1 has little under {heading!r}: {after!r}"


def test_several_pages_none_blank(printed):
    """The report runs to several A4 pages, none of them blank."""
    pages = printed["pdf"].pages
    assert len(pages) >= 3
    for number, page in enumerate(pages, 1):
        width_mm, height_mm = float(page.mediabox.width) * 25.4 / 72, float(page.mediabox.height) * 25.4 / 72
        assert (round(width_mm), round(height_mm)) == (210, 297), f"page {number} is {width_mm:.0f}×{height_mm:.0f} mm, not A4"
        assert len(_text(page).replace(" ", "")) >= 20 or page.get("/Resources", {}).get("/XObject"), f"page {number} is blank"


def test_no_status_word_wraps(printed):
    """Every status cell (class="status") lies on one line at the printed width; the commitments table has one per commitment."""
    probe, commitments = printed["probe"], len(printed["report"].results)
    assert len(probe["status"]) >= commitments, f"{len(probe['status'])} status cells for {commitments} commitments"
    assert probe["wrapped"] == []


def test_the_probe_sees_a_wrapped_status_word(tmp_path):
    """The harness itself: a status word in a column too narrow wraps and is reported; with nowrap it is not;
    a chart figure without an svg has no size."""
    page = ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><style>@page{size:A4;margin:15mm}'
            "td{width:1em}@media print{.nowrap{white-space:nowrap}}</style></head><body><table><tr>"
            '<td><span class="status">未到期</span></td><td><span class="status nowrap">已达成</span></td></tr></table>'
            '<figure data-chart="x.none"></figure></body></html>')
    probe = measure(page, tmp_path, tmp_path / "profile")
    assert probe["status"] == ["未到期", "已达成"]
    assert probe["wrapped"] == ["未到期"]
    assert probe["charts"] == [{"key": "x.none", "width": 0, "height": 0}]
    assert page_width_px(page) == int(180 * PX_PER_MM)


def test_every_chart_is_drawn(printed):
    """Each chart of the report's sections is an svg in a figure[data-chart] with a size, in the page and the PDF."""
    keys = [c.key for s in printed["report"].sections for c in s.charts]
    assert keys, "the report has no chart"
    drawn = printed["probe"]["charts"]
    assert sorted(c["key"] for c in drawn) == sorted(keys)
    assert all(c["width"] > 50 and c["height"] > 50 for c in drawn), drawn


def _font_names(pdf: PdfReader) -> set[str]:
    """Every font the PDF's pages use, by name (Chromium embeds CJK subsets as Type 3 fonts named in their descriptor)."""
    names = set()
    for page in pdf.pages:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font") if resources is not None else None
        for font in (fonts.get_object() if fonts is not None else {}).values():
            font = font.get_object()
            for item in (font, *(d.get_object() for d in font.get("/DescendantFonts", []) or [])):
                names.add(str(item.get("/BaseFont", "")))
                descriptor = item.get("/FontDescriptor")
                if descriptor is not None:
                    names.add(str(descriptor.get_object().get("/FontName", "")))
    return names - {""}


def test_chinese_is_embedded(printed):
    """The PDF embeds a CJK font, and its text reads back as the report's Chinese."""
    fonts = _font_names(printed["pdf"])
    assert any("CJK" in f or "SourceHan" in f for f in fonts), fonts
    text = " ".join(_text(p) for p in printed["pdf"].pages)
    assert "承诺" in text and "年度" in text if printed["lang"] == "zh" else "Commitments" in text


@pytest.fixture(scope="module")
def printed_overview(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The province overview of YEAR over the demo database (its one plan), in Chinese, printed to PDF and measured."""
    import datetime as dt

    from fupin import render_overview
    from fupin.plugins import get_plugin_manager

    with Store.open(demo_url, pm=get_plugin_manager(), actor=Actor.parse(TEST_ACTOR)) as store:
        overview = store.overview(YEAR, as_of=dt.date.fromisoformat(AS_OF))
    page_html = render_overview(overview, "html", "zh")
    directory = tmp_path_factory.mktemp("print-overview")
    page = directory / "overview.html"
    page.write_text(page_html, encoding="utf-8")
    profile = directory / "profile"
    return {"overview": overview, "pdf": print_pdf(page, directory / "overview.pdf", profile),
            "probe": measure(page_html, directory, profile)}


def test_overview_prints_summary_on_page_one_then_each_plan(printed_overview):
    """The overview's page 1 holds its title and the summary table with each plan's row; the plan's report starts
    on a page of its own (with 一、基本情况); every chart, the comparison charts included, is drawn; no status word wraps."""
    from fupin.overview import summary_headers

    overview, pages = printed_overview["overview"], printed_overview["pdf"].pages
    first = _folded(_text(pages[0]))
    assert f"{YEAR} 年度帮扶工作总览" in first
    assert all(_folded(h) in first for h in summary_headers("zh")), first[:400]
    assert all(_folded(s.label_zh) in first for s in overview.summaries), first[:400]
    starts = [n for n, p in enumerate(pages) if f"{YEAR} 年度帮扶工作总结" in _text(p)]
    assert len(starts) == len(overview.reports) and starts[0] > 0, starts
    assert REPORT_PARTS["profile"][0] in _text(pages[starts[0]])
    keys = [c.key for c in overview.charts] + [c.key for r in overview.reports for s in r.sections for c in s.charts]
    drawn = printed_overview["probe"]["charts"]
    assert sorted(c["key"] for c in drawn) == sorted(keys)
    assert all(c["width"] > 50 and c["height"] > 50 for c in drawn), drawn
    assert printed_overview["probe"]["wrapped"] == []


def _folded(words: str) -> str:
    """Text as compared with a PDF's: spaces squeezed, NFKC, and 戶 (NFKC of the radical ⼾ a CJK font maps 户 to) as 户."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", words)).replace("戶", "户")
