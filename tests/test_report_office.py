"""The yearly report as Word (.docx) and Excel (.xlsx): ``fupin.render_report_bytes`` and ``fupin report --format docx|xlsx``.

Each file is opened with its own library (python-docx, openpyxl) and read back:
the Word document's headings are the parts of the 年度帮扶工作总结 in order with
each section under its part, its tables hold the report's headings and cells;
the workbook has a contents sheet linking one sheet per table, with the same
cells, money as numbers in 元 and dates as dates. The report is the campaign of
tests/test_report.py plus a plugin's sections with a table, money, a date and a chart.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn

from fupin import ReportSection, Status, ValidationError, hookimpl, render_report, render_report_bytes
from fupin.ext import Chart, REPORT_PARTS, Series
from fupin.report import build_report
from tests.campaign_seed import PLAN, id_numbers
from tests.test_report import AS_OF, COMMITMENTS, campaign  # noqa: F401  (the fixture)

AS_OF_DAY = dt.date.fromisoformat(AS_OF)
LONG_TITLE = "测试插件附表：每一所学校每一位教师的培训学时与考核结果明细汇总表（续）"


class OfficePlugin:
    """Sections a plugin adds: work with a chart in money, and an appendix table with money, a date and a status word."""

    @hookimpl
    def fupin_report_sections(self, store, plan, year):
        chart = Chart(
            "testoffice.funds", "bar", "资金投入", "Funds spent", ("教育", "产业"), ("education", "industry"),
            (Series("支出", "spent", (1234.5, 20000), unit_zh="元", unit_en="yuan"),
             Series("项目", "projects", (2, 3), unit_zh="个", unit_en="projects")),
            note_zh="产业资金最多。", note_en="Industry got most.",
        )
        return [
            ReportSection(
                "testoffice.work", "测试资金工作", "Test funding work",
                paragraphs_zh=(f"{year} 年投入资金。",), paragraphs_en=(f"Funds spent in {year}.",),
                shortfalls_zh=("助学金尚未发放",), shortfalls_en=("Study aid not yet paid",),
                next_steps_zh=("八月底前发放助学金 2 人",), next_steps_en=("Pay study aid to 2 students by August",),
                charts=(chart,),
            ),
            ReportSection(
                "testoffice.sheet", LONG_TITLE, "Test appendix: training hours of every teacher of every school", part="appendix",
                headers_zh=("学校", "金额(元)", "日期", "状态", "人数"), headers_en=("school", "amount (yuan)", "date", "status", "people"),
                rows=(("者海镇一中", "1,234.50", "2015-09-01", Status.MET.label("zh"), 3),
                      ("拖木村小学", "20,000.00", dt.date(2015, 10, 2), Status.NOT_MET.label("zh"), None)),
            ),
            ReportSection("testoffice.sheet2", LONG_TITLE, "Same title again", part="appendix",
                          headers_zh=("项目",), headers_en=("item",), rows=(("=1+1",),)),
        ]


@pytest.fixture
def yearly(store, campaign, pm):  # noqa: F811
    pm.register(OfficePlugin(), name="testoffice")
    try:
        yield build_report(store, store.plan(PLAN), 2015, as_of=AS_OF_DAY)
    finally:
        pm.unregister(name="testoffice")


def open_docx(data: bytes):
    return docx.Document(io.BytesIO(data))


def open_xlsx(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def headings(document, level: int) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name == f"Heading {level}"]


def outline(document) -> list[tuple[int, str]]:
    return [(int(p.style.name[-1]), p.text) for p in document.paragraphs if p.style.name in ("Heading 1", "Heading 2")]


def docx_tables(document) -> list[tuple[list[str], list[list[str]]]]:
    return [([c.text for c in t.rows[0].cells], [[c.text for c in r.cells] for r in t.rows[1:]]) for t in document.tables]


def shown(value) -> str:
    return "-" if value is None else value.isoformat() if isinstance(value, dt.date) else str(value)


def expected_parts(report) -> list[str]:
    """The parts the report's sections name, in REPORT_PARTS order."""
    present = {s.part for s in report.sections}
    return [key for key in REPORT_PARTS if key in present]


class TestWord:
    def test_parts_and_sections_in_order(self, yearly):
        """Heading 1 are the parts in REPORT_PARTS order (the plan office's annex last); every section is a Heading 2
        under its own part, in the report's order."""
        document = open_docx(render_report_bytes(yearly, "docx"))
        parts = expected_parts(yearly)
        assert headings(document, 1) == [REPORT_PARTS[k][0] for k in parts]
        assert parts[-1] == "plan_office" and parts.index("appendix") == len(parts) - 2
        under: dict[str, list[str]] = {}
        current = None
        for level, text in outline(document):
            if level == 1:
                current = text
            else:
                under.setdefault(current, []).append(text)
        for key in parts:
            mine = [s.title_zh for s in yearly.sections if s.part == key]
            found = under[REPORT_PARTS[key][0]]
            assert [t for t in found if t in mine] == mine
        assert document.paragraphs[0].style.name == "Title" and document.paragraphs[0].text == "2015 年度帮扶工作总结"
        assert f"截至 {AS_OF}" in [p.text for p in document.paragraphs[:4]]

    def test_tables_hold_the_reports_cells(self, yearly):
        """Every section's table and the commitments table are in the document with the same headings and cells;
        heading rows repeat on each page, rows never split, status words never wrap."""
        document = open_docx(render_report_bytes(yearly, "docx"))
        tables = docx_tables(document)
        for section in yearly.sections:
            if section.rows:
                assert (list(section.headers_zh), [[shown(c) for c in row] for row in section.rows]) in tables
        (commitments,) = [t for t in tables if t[0][:3] == ["编号", "承诺", "状态"]]
        assert [row[0] for row in commitments[1]] == COMMITMENTS
        assert [row[2] for row in commitments[1]] == [r.status.label("zh") for r in yearly.results]
        for table in document.tables:
            head = table.rows[0]._tr.trPr
            assert head is not None and head.find(qn("w:tblHeader")) is not None
            assert all(r._tr.trPr.find(qn("w:cantSplit")) is not None for r in table.rows)
        status_cells = [r.cells[i]._tc for t in document.tables for i, c in enumerate(t.rows[0].cells) if c.text == "状态"
                        for r in t.rows[1:]]
        assert len(status_cells) >= len(yearly.results) + 2 and all(tc.tcPr.find(qn("w:noWrap")) is not None for tc in status_cells)
        assert all(t.rows[0].cells[0].width is not None for t in document.tables)

    def test_shortfalls_next_steps_and_charts(self, yearly):
        """A shortfall shows in red in its section and again under 四、存在问题; next steps under 五; a chart as a
        picture with its title as caption and its note."""
        document = open_docx(render_report_bytes(yearly, "docx"))
        texts = [p.text for p in document.paragraphs]
        assert texts.count("助学金尚未发放") == 1 and texts.index("测试资金工作: 助学金尚未发放") > texts.index("四、存在问题")
        red = [p for p in document.paragraphs if p.text == "助学金尚未发放" and p.runs[0].font.color.rgb is not None]
        assert red
        assert texts.index("八月底前发放助学金 2 人") > texts.index("五、下一步工作打算")
        assert texts.index("四、存在问题") < texts.index("五、下一步工作打算")
        captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
        charts = [c for s in yearly.sections for c in s.charts]
        assert captions == [f"图{i}  {c.title_zh}" for i, c in enumerate(charts, start=1)]
        assert len(document.inline_shapes) == len(charts) and "产业资金最多。" in texts
        pictures = [p for p in document.part.package.parts if p.content_type == "image/png"]
        assert len(pictures) == len(charts) and all(p.blob.startswith(b"\x89PNG") for p in pictures)
        for i, p in enumerate(document.paragraphs):
            if p.style.name == "Caption":
                assert document.paragraphs[i - 1]._p.xpath(".//w:drawing")  # the caption is under its picture

    def test_a4_chinese_fonts_and_stable_bytes(self, yearly):
        """A4 with margins; East Asian text in 宋体 (body) and 黑体 (headings); dated by the as-of day, so the same
        report gives the same bytes; no ID number anywhere."""
        data = render_report_bytes(yearly, "docx")
        document = open_docx(data)
        page = document.sections[0]
        assert [round(x.mm) for x in (page.page_width, page.page_height, page.left_margin)] == [210, 297, 20]
        fonts = {name: document.styles[name].element.rPr.rFonts.get(qn("w:eastAsia")) for name in ("Normal", "Heading 1")}
        assert fonts == {"Normal": "宋体", "Heading 1": "黑体"}
        assert document.styles["Heading 1"].element.rPr.rFonts.get(qn("w:eastAsiaTheme")) is None
        props = document.core_properties
        assert {d.replace(tzinfo=None) for d in (props.created, props.modified)} == {dt.datetime(2016, 1, 10)}
        assert props.author == "fupin"
        assert render_report_bytes(yearly, "docx") == data
        assert {i.date_time for i in zipfile.ZipFile(io.BytesIO(data)).infolist()} == {(2016, 1, 10, 0, 0, 0)}

    def test_english(self, yearly):
        """In English the parts, sections, table headings and title are English."""
        document = open_docx(render_report_bytes(yearly, "docx", "en"))
        parts = expected_parts(yearly)
        assert headings(document, 1) == [REPORT_PARTS[k][1] for k in parts]
        assert "Test funding work" in headings(document, 2) and document.paragraphs[0].text == "Year 2015 report"
        assert ["no.", "commitment", "status", "required", "found"] in [t[0] for t in docx_tables(document)]
        assert not [h for h in headings(document, 1) + headings(document, 2) if "、" in h or "附表" in h]
        charts = [c for s in yearly.sections for c in s.charts]
        captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
        assert captions == [f"Figure {i}. {c.title_en}" for i, c in enumerate(charts, start=1)]
        tables = docx_tables(document)
        for section in yearly.sections:
            if section.rows:
                assert (list(section.headers("en")), [[shown(c) for c in row] for row in section.table_rows("en")]) in tables


def as_read(value):
    """A cell as openpyxl reads it back: money text ("2,670.00") a number, ISO text a datetime."""
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,3}(,\d{3})*\.\d\d", value):
        return float(value.replace(",", ""))
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", value):
        return dt.datetime.fromisoformat(value)
    return value


class TestExcel:
    def test_contents_links_one_sheet_per_table(self, yearly):
        """目录 first, linking every other sheet; one sheet per table: the commitments, every section's table, every
        chart's data; names unique and at most 31 characters."""
        book = open_xlsx(render_report_bytes(yearly, "xlsx"))
        contents = book.worksheets[0]
        assert contents.title == "目录"
        assert [contents.cell(r, 1).value for r in (1, 2, 3)] == ["2015 年度帮扶工作总结", yearly.plan.title_zh, f"截至 {AS_OF}"]
        assert [c.value for c in contents[5]] == ["工作表", "部分", "内容"]
        links = [(row[0].value, row[0].hyperlink.location) for row in contents.iter_rows(min_row=6) if row[0].value]
        assert [name for name, _ in links] == book.sheetnames[1:]
        assert all(location == f"'{name}'!A1" for name, location in links)
        tables = sum(1 for s in yearly.sections if s.rows) + sum(len(s.charts) for s in yearly.sections)
        assert len(book.sheetnames) == 1 + tables
        assert len({n.casefold() for n in book.sheetnames}) == len(book.sheetnames) and max(map(len, book.sheetnames)) <= 31
        assert LONG_TITLE[:31] in book.sheetnames and LONG_TITLE[:27] + " (2)" in book.sheetnames

    def test_sheets_hold_the_cells(self, yearly):
        """Each section's sheet: heading row bold and frozen, then its rows; numbers are numbers."""
        book = open_xlsx(render_report_bytes(yearly, "xlsx"))
        contents = book.worksheets[0]
        caption = {row[0].value: row[2].value for row in contents.iter_rows(min_row=6) if row[0].value}
        by_caption = {}
        for name in book.sheetnames[1:]:
            by_caption.setdefault(caption[name], []).append(book[name])
        for section in yearly.sections:
            if not section.rows or section.key.startswith("testoffice"):
                continue
            (sheet,) = by_caption[section.title_zh]
            assert [c.value for c in sheet[1]] == list(section.headers_zh)
            assert all(c.font.bold for c in sheet[1]) and sheet.freeze_panes == "A2"
            body = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
            assert body == [[as_read(v) for v in row] for row in section.rows]
        (commitments,) = [s for s in book.worksheets if [c.value for c in s[1]][:3] == ["编号", "承诺", "状态"]]
        assert [r[0].value for r in commitments.iter_rows(min_row=2)] == COMMITMENTS
        assert [r[2].value for r in commitments.iter_rows(min_row=2)] == [r.status.label("zh") for r in yearly.results]

    def test_money_dates_and_text(self, yearly):
        """Money is a number in 元 read exactly from the yuan text; a date is a date; a cell starting with = stays text."""
        book = open_xlsx(render_report_bytes(yearly, "xlsx"))
        sheet = book[LONG_TITLE[:31]]
        rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
        assert rows == [
            ["者海镇一中", 1234.5, dt.datetime(2015, 9, 1), Status.MET.label("zh"), 3],
            ["拖木村小学", 20000, dt.datetime(2015, 10, 2), Status.NOT_MET.label("zh"), None],
        ]
        assert "元" in sheet["B2"].number_format and sheet["C2"].number_format == "yyyy-mm-dd"
        assert sheet["D2"].fill.fgColor.rgb.endswith("D8F0D8") and sheet["D3"].fill.fgColor.rgb.endswith("F8C9C4")
        formula = book[LONG_TITLE[:27] + " (2)"]["A2"]
        assert (formula.value, formula.data_type) == ("=1+1", "s")
        chart = book["资金投入"]
        assert [[c.value for c in row] for row in chart.iter_rows()] == [
            [None, "支出 (元)", "项目 (个)"], ["教育", 1234.5, 2], ["产业", 20000, 3],
        ]
        assert "元" in chart["B2"].number_format and "元" not in chart["C2"].number_format
        assert sheet.column_dimensions["A"].width >= 12

    def test_english_and_stable_bytes(self, yearly):
        """In English the sheet names, headings and money format are English; the same report gives the same bytes."""
        data = render_report_bytes(yearly, "xlsx", "en")
        book = open_xlsx(data)
        assert book.sheetnames[0] == "Contents" and "Funds spent" in book.sheetnames
        assert ["no.", "commitment", "status", "required", "found"] in [[c.value for c in s[1]] for s in book.worksheets]
        assert "yuan" in book["Funds spent"]["B2"].number_format
        assert render_report_bytes(yearly, "xlsx", "en") == data
        assert book.properties.created == dt.datetime(2016, 1, 10)


class TestApi:
    def test_text_formats_as_bytes_and_binary_refused_as_text(self, yearly):
        """render_report_bytes writes the text formats as UTF-8; render_report refuses docx/xlsx and names the other."""
        assert render_report_bytes(yearly, "html").decode("utf-8") == render_report(yearly, "html") + "\n"
        with pytest.raises(ValidationError, match="render_report_bytes"):
            render_report(yearly, "docx")
        with pytest.raises(ValidationError):
            render_report_bytes(yearly, "pdf")
        with pytest.raises(ValidationError):
            render_report_bytes(yearly, "docx", "fr")


def run(cli, url, *args):
    return cli("--db", url, "report", "--year", "2015", "--as-of", AS_OF, *args)


class TestCommand:
    def test_docx_and_xlsx_files(self, store, campaign, cli, database_url, tmp_path):  # noqa: F811
        """--format docx|xlsx -o FILE writes a file its library opens, audited like any export; no ID number in it."""
        for fmt in ("docx", "xlsx"):
            out = tmp_path / f"拖木村-2015.{fmt}"
            result = run(cli, database_url, "--format", fmt, "-o", str(out))
            assert result.exit_code == 0, result.output
            assert result.stdout == "" and str(out) in result.output
            data = out.read_bytes()
            if fmt == "docx":
                assert headings(open_docx(data), 1)[0] in {v[0] for v in REPORT_PARTS.values()}
            else:
                assert open_xlsx(data).sheetnames[0] == "目录"
            with zipfile.ZipFile(out) as z:
                text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
            assert not [i for i in id_numbers(store) if i in text or i[:14] in text]
        formats = [e.new["format"] for e in store.audit_entries(table="plans", key=PLAN) if e.operation == "report"]
        assert formats == ["docx", "xlsx"]

    def test_binary_needs_a_file(self, store, campaign, cli, database_url):  # noqa: F811
        """Without -o a binary format is refused in one line (exit 2); '-o -' writes the bytes to a pipe."""
        result = run(cli, database_url, "--format", "docx")
        assert result.exit_code == 2
        assert result.output.strip().splitlines()[-1] == "Error: --format docx 是文件, 请用 -o FILE / --format docx writes a file: give -o FILE"
        piped = run(cli, database_url, "--format", "xlsx", "-o", "-")
        assert piped.exit_code == 0, piped.output
        assert open_xlsx(piped.stdout_bytes).sheetnames[0] == "目录"

    def test_english_docx(self, store, campaign, cli, database_url, tmp_path):  # noqa: F811
        """--lang en gives a Word document with English headings."""
        out = tmp_path / "r.docx"
        assert run(cli, database_url, "--format", "docx", "--lang", "en", "-o", str(out)).exit_code == 0
        document = open_docx(out.read_bytes())
        assert document.paragraphs[0].text == "Year 2015 report"
        assert headings(document, 1) and all(h in {v[1] for v in REPORT_PARTS.values()} for h in headings(document, 1))
