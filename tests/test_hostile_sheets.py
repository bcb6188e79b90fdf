"""Files from anywhere (issue #15): the shape of sheets and text files.

Nothing is dropped without a word (values under a blank header or beyond the last
one, formulas without a computed value), two-row headers of the 建档立卡 forms are
read, hidden rows and columns are reported, and CSV files with long cells or rows in
a second encoding are read or refused naming the row. Every file is generated here,
small, with openpyxl, zipfile or plain text.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from fupin.errors import FupinError
from fupin.io.engine import import_files
from fupin.io.files import CSV_MAX_FIELD, ShapeError, open_table, write_table
from fupin.io.kinds import AREAS, HOUSEHOLDS, PERSONS
from fupin.synth import Synthesizer
from fupin.vocab import normalize_key

#: The required household columns, and a row of valid values for them.
REQUIRED = ["户编号", "村民小组代码", "户主姓名", "贫困户属性", "主要致贫原因"]
GROUP = "53032610120001"


def household(number: int) -> list[str]:
    return [f"5303261012000100{number:02d}", GROUP, f"张{number}", "一般贫困户", "因病"]


@pytest.fixture
def areas(store, tmp_path: Path):
    """A store holding the areas down to villager group 53032610120001."""
    records = Synthesizer(seed=5).areas(3)
    path = tmp_path / "areas.csv"
    columns = [c.name for c in AREAS.columns]
    rows = [AREAS.export_row(AREAS.db_row(a) | {"level": a.level}) for a in records]
    write_table(path, "csv", [c.zh for c in AREAS.columns], [[r[c] for c in columns] for r in rows])
    assert import_files(store, "areas", [path]).errors == []
    return store


def workbook(path: Path, rows: list[list[object]], edit=None) -> Path:
    """An XLSX file of ``rows`` from A1; ``edit(sheet)`` may merge, hide or add formulas."""
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if edit is not None:
        edit(sheet)
    book.save(path)
    return path


def xml_text(text: str) -> bytes:
    """A pattern for ``<t>text</t>`` as openpyxl writes it: UTF-8 with ElementTree, character
    references (``&#25143;``) with lxml, which is installed wherever python-docx is."""
    refs = "".join(f"&#{ord(c)};" if ord(c) > 127 else c for c in text).encode()
    return b"<t>(?:" + re.escape(text.encode()) + b"|" + re.escape(refs) + b")</t>"


def sheet_xml_edited(path: Path, pattern: bytes, replacement: bytes, part: str = "xl/worksheets/sheet1.xml") -> Path:
    """``path`` with one substitution in a part's XML, the first sheet's by default (what openpyxl cannot write)."""
    source = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(source)) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename == part:
                data, count = re.subn(pattern, replacement, data, count=1)
                assert count == 1, pattern
            new.writestr(info.filename, data)
    return path


def errors(result) -> list[tuple[int, str]]:
    return [(e.row, e.column) for e in result.errors]


# -- 1. nothing dropped without a word --------------------------------------------------


class TestNothingDropped:
    def test_xlsx_value_under_a_blank_header(self, areas, tmp_path: Path) -> None:
        """217 values under an empty header cell: the file is refused naming column F and the first row holding one."""
        rows = [[*REQUIRED, None, "备注"]] + [[*household(i), None, None] for i in range(1, 4)]
        rows += [[*household(i), f"值{i}", None] for i in range(4, 221)]
        path = workbook(tmp_path / "h.xlsx", rows)
        result = import_files(areas, "households", [path])
        assert errors(result) == [(5, "F (空表头 / blank header)")]
        assert "no header" in result.errors[0].reason and not result.committed
        assert areas.count("households") == 0

    def test_xlsx_value_beyond_the_last_header(self, areas, tmp_path: Path) -> None:
        """A value right of the last header (H9) is refused naming H and row 9; the other files are still read."""
        rows = [REQUIRED] + [household(i) for i in range(1, 10)]
        bad = workbook(tmp_path / "bad.xlsx", rows, lambda sheet: sheet.cell(row=9, column=8, value="多余"))
        good = workbook(tmp_path / "good.xlsx", [REQUIRED, household(20)])
        result = import_files(areas, "households", [bad, good], on_error="skip")
        assert errors(result) == [(9, "H (空表头 / blank header)")]
        assert [f.file for f in result.files] == ["bad.xlsx", "good.xlsx"] and result.inserted == 1

    def test_xlsx_blank_header_column_without_values_is_fine(self, areas, tmp_path: Path) -> None:
        """A column with a blank header and only blank cells (spaces) costs nothing and refuses nothing."""
        rows = [[*REQUIRED, None, "备注"], [*household(1), "  ", "x"]]
        result = import_files(areas, "households", [workbook(tmp_path / "h.xlsx", rows)])
        assert result.errors == [] and result.inserted == 1

    @pytest.mark.parametrize(
        ("text", "row", "column"),
        [
            ("{h},,备注\n{r},,a\n{r2},x,b\n", 3, "F (第 6 列, 空表头 / column 6, blank header)"),
            ("{h}\n{r}\n{r2},,,x\n", 3, "H (第 8 列, 空表头 / column 8, blank header)"),
        ],
    )
    def test_csv_value_under_a_blank_header_or_beyond(self, areas, tmp_path: Path, text: str, row: int, column: str) -> None:
        """CSV: the import stops at the first row with a value under a blank header or beyond the header, naming letter and number."""
        h, r, r2 = ",".join(REQUIRED), ",".join(household(1)), ",".join(household(2))
        path = tmp_path / "h.csv"
        path.write_text(text.format(h=h, r=r, r2=r2), encoding="utf-8")
        with pytest.raises(ShapeError) as caught:
            import_files(areas, "households", [path])
        assert (caught.value.row, caught.value.column) == (row, column)
        assert f"row {row}, 列 / column {column}" in str(caught.value) and "\n" not in str(caught.value)
        assert areas.count("households") == 0

    def test_csv_refusal_travels_from_the_parsing_process(self, areas, tmp_path: Path) -> None:
        """Parsed in a worker process (large files are), the refusal still names row and column."""
        path = tmp_path / "h.csv"
        lines = [",".join(REQUIRED)] + [",".join(household(i % 90)) for i in range(1, 200)] + [",".join(household(5)) + ",x"]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with pytest.raises(ShapeError) as caught:
            import_files(areas, "households", [path], parallel=True)
        assert (caught.value.row, caught.value.column) == (201, "F (第 6 列, 空表头 / column 6, blank header)")

    def test_csv_two_row_header_is_refused_with_a_hint(self, tmp_path: Path) -> None:
        """A CSV export of a two-row header puts child names under blank headers: refused, saying how to fix it."""
        path = tmp_path / "h.csv"
        path.write_text("户编号,户主姓名,务工情况,\n,,务工地点,务工时间\n001,张三,昆明,6\n", encoding="utf-8")
        with open_table(path) as table, pytest.raises(ShapeError, match="row 2, .*column D .*merge it into one"):
            list(table)


class TestFormulas:
    HEADER = ["户编号", "户主姓名", "人数", "合计"]

    def book(self, path: Path) -> Path:
        rows = [self.HEADER, ["001", "张三", 3, None], ["002", "李四", 2, None]]
        return workbook(path, rows, lambda sheet: sheet.__setitem__("D3", "=SUM(C2:C3)"))

    def test_formula_without_a_value_is_refused(self, areas, tmp_path: Path) -> None:
        """openpyxl writes formulas without values: refused naming D (合计) and row 3, with the Excel/WPS hint."""
        path = self.book(tmp_path / "f.xlsx")
        assert b"<f>SUM(C2:C3)</f><v" in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
        result = import_files(areas, "households", [path])
        assert errors(result) == [(3, "D (合计)")]
        assert "Excel 或 WPS" in result.errors[0].reason and "paste the formulas as values" in result.errors[0].reason

    @pytest.mark.parametrize(
        "cell",
        [b'<c r="D3"><f t="shared" ref="D3:D3" si="0"/></c>', b'<c r="D3" t="n">\n  <f>SUM(C2:C3)</f>\n</c>'],
    )
    def test_generated_formulas_without_values(self, tmp_path: Path, cell: bytes) -> None:
        """A shared formula with no value, or one written with line breaks and no <v>, is refused too."""
        path = sheet_xml_edited(self.book(tmp_path / "f.xlsx"), rb'<c r="D3">.*?</c>', cell)
        with pytest.raises(ShapeError, match="row 3, 列 / column D .合计.: 公式没有计算结果") as caught:
            open_table(path)
        assert caught.value.row == 3

    def test_formula_with_a_value_is_read(self, tmp_path: Path) -> None:
        """A formula saved by Excel keeps its value: it is read; so is a computed empty text."""
        # ElementTree writes <v />, lxml <v></v>
        path = sheet_xml_edited(self.book(tmp_path / "f.xlsx"), rb"<f>SUM\(C2:C3\)</f>(?:<v\s*/>|<v></v>)", b"<f>SUM(C2:C3)</f><v>5</v>")
        with open_table(path) as table:
            assert [cells["合计"] for _, cells in table] == [None, "5"]
        empty = b'<c r="D3" t="str"><f>IF(C3&gt;9,"x","")</f><v></v></c>'
        path = sheet_xml_edited(self.book(tmp_path / "g.xlsx"), rb'<c r="D3">.*?</c>', empty)
        with open_table(path) as table:
            assert [cells["合计"] for _, cells in table] == [None, None]

    def test_formula_in_a_title_row_is_not_data(self, tmp_path: Path) -> None:
        """A title such as =TODAY() above the header is not read: it is not refused."""
        path = workbook(tmp_path / "t.xlsx", [[None], self.HEADER, ["001", "张三", 1, 1]], lambda s: s.__setitem__("A1", "=TODAY()"))
        with open_table(path) as table:
            assert table.info.header_row == 2 and len(list(table)) == 1


# -- 2. two-row headers -------------------------------------------------------------------


def form(path: Path, title: str | None = None, data: list[list[object]] | None = None) -> Path:
    """A 建档立卡 form: required columns merged down over two header rows, 住房 and 务工情况 over their children."""
    top = [*REQUIRED, "住房", None, "务工情况", None]
    below = [None] * 5 + ["结构", "面积(平方米)", "务工地点", "务工时间"]
    rows = ([[title]] if title else []) + [top, below] + (data or [])
    first = 2 if title else 1

    def merge(sheet) -> None:
        if title:
            sheet.merge_cells("A1:I1")
        for column in "ABCDE":
            sheet.merge_cells(f"{column}{first}:{column}{first + 1}")
        sheet.merge_cells(f"F{first}:G{first}")
        sheet.merge_cells(f"H{first}:I{first}")

    return workbook(path, rows, merge)


class TestTwoRowHeaders:
    def test_names_joined_by_the_rule(self, tmp_path: Path) -> None:
        """Parent and child are joined ("住房 结构"), or the child alone when only it is known (务工时间 for persons)."""
        path = form(tmp_path / "f.xlsx", data=[[*household(1), "土木结构", 80, "昆明", 6]])
        with open_table(path) as table:
            assert (table.info.header_row, table.info.header_rows) == (1, 2)
            assert table.info.headers == (*REQUIRED, "住房 结构", "住房 面积(平方米)", "务工情况 务工地点", "务工情况 务工时间")
            assert [number for number, _ in table] == [3]
        known = {normalize_key(h) for c in PERSONS.columns for h in c.headers()}
        with open_table(path, known_header=lambda name: normalize_key(name) in known) as table:
            assert table.info.headers[-2:] == ("务工情况 务工地点", "务工时间")

    def test_imported_with_a_title_above(self, areas, tmp_path: Path) -> None:
        """Title row, two header rows, data from row 4: 住房结构 and 住房面积 are imported; errors keep the sheet's row numbers."""
        data = [[*household(1), "土木结构", 80, "昆明", 6], [*household(2)[:4], "不是原因", "砖混结构", 60, None, None]]
        path = form(tmp_path / "f.xlsx", title="者海镇建档立卡贫困户花名册", data=data)
        result = import_files(areas, "households", [path], on_error="skip")
        assert [e.row for e in result.errors] == [5] and result.errors[0].column == "主要致贫原因"
        assert result.inserted == 1
        assert result.files[0].ignored_columns == ["务工情况 务工地点", "务工情况 务工时间"]
        table = areas.table(HOUSEHOLDS.table)
        with areas.engine.connect() as conn:
            stored = conn.execute(sa.select(table.c.housing_structure, table.c.house_area_m2)).one()
        assert (stored[0], float(stored[1])) == ("土木结构", 80.0)

    def test_missing_column_named_on_the_first_header_row(self, areas, tmp_path: Path) -> None:
        """A header problem is reported on the header's own (first) row, below the title."""
        path = form(tmp_path / "f.xlsx", title="花名册", data=[[*household(1), None, None, None, None]])
        sheet_xml_edited(path, xml_text("户主姓名"), "<t>姓名</t>".encode())
        result = import_files(areas, "households", [path])
        assert errors(result) == [(2, "户主姓名")]

    def test_same_name_twice_is_refused_with_a_fix(self, tmp_path: Path) -> None:
        """Children that join to the same name cannot be told apart: refused, saying to merge the header into one row."""
        rows = [["户编号", "户主姓名", "务工情况", None], [None, None, "地点", "地点"], ["001", "张三", "昆明", "曲靖"]]
        path = workbook(tmp_path / "d.xlsx", rows, lambda sheet: sheet.merge_cells("C1:D1"))
        with pytest.raises(ShapeError, match="row 1, 列 / column C, D: .*'务工情况 地点'.*merge the header into one row"):
            open_table(path)

    def test_three_header_rows_are_refused(self, tmp_path: Path) -> None:
        rows = [["户编号", "户主姓名"], [None, "甲"], [None, "乙"], ["001", "张三"]]
        path = workbook(tmp_path / "t.xlsx", rows, lambda sheet: sheet.merge_cells("A1:A3"))
        with pytest.raises(ShapeError, match="more than two rows"):
            open_table(path)

    def test_merged_header_cell_over_data_is_one_header_row(self, tmp_path: Path) -> None:
        """A header cell merged across two columns, with data right below: the row below is data, not swallowed."""
        rows = [["户编号", "户主姓名", "备注", None], ["001", "张三", "迁出", None]]
        path = workbook(tmp_path / "m.xlsx", rows, lambda sheet: sheet.merge_cells("C1:D1"))
        with open_table(path) as table:
            assert table.info.header_rows == 1
            assert list(table) == [(2, {"户编号": "001", "户主姓名": "张三", "备注": "迁出"})]
        rows[1][3] = "多余"
        with pytest.raises(ShapeError, match="row 2, 列 / column D .空表头"):
            open_table(workbook(tmp_path / "n.xlsx", rows, lambda sheet: sheet.merge_cells("C1:D1")))


# -- 3. hidden rows and columns -------------------------------------------------------------


def hidden(sheet) -> None:
    for row in (5, 6, 7, 12):
        sheet.row_dimensions[row].hidden = True
    sheet.column_dimensions["C"].hidden = True
    sheet.column_dimensions["Z"].hidden = True  # beyond the table: not reported


class TestHidden:
    def test_reported_and_imported(self, areas, tmp_path: Path) -> None:
        """Hidden rows are imported and named, hidden columns named, in FileResult.notices and its JSON."""
        path = workbook(tmp_path / "h.xlsx", [REQUIRED] + [household(i) for i in range(1, 13)], hidden)
        result = import_files(areas, "households", [path])
        assert result.errors == [] and result.inserted == 12
        notices = result.files[0].notices
        assert len(notices) == 2
        assert notices[0].startswith("隐藏的行 / hidden rows: 5-7, 12 (已导入 / imported")
        assert notices[1].startswith("隐藏的列 / hidden columns: C ")
        assert result.to_dict()["files"][0]["notices"] == notices

    def test_excel_style_relative_part_names(self, tmp_path: Path) -> None:
        """Excel names a sheet's part relative to xl/ (openpyxl from the root): both are found."""
        path = workbook(tmp_path / "h.xlsx", [REQUIRED] + [household(i) for i in range(1, 13)], hidden)
        relative = b'Target="worksheets/sheet1.xml"'
        sheet_xml_edited(path, rb'Target="/xl/worksheets/sheet1.xml"', relative, part="xl/_rels/workbook.xml.rels")
        with open_table(path) as table:
            assert [n.split(" (")[0] for n in table.info.notices] == ["隐藏的行 / hidden rows: 5-7, 12", "隐藏的列 / hidden columns: C"]

    def test_cli_json_and_text(self, cli, sqlite_url: str, tmp_path: Path) -> None:
        """Through the command line: the notices are in the --json document and on their own lines otherwise."""
        assert cli("--db", sqlite_url, "init").exit_code == 0
        areas_csv = tmp_path / "areas.csv"
        columns = [c.name for c in AREAS.columns]
        rows = [AREAS.export_row(AREAS.db_row(a) | {"level": a.level}) for a in Synthesizer(seed=5).areas(3)]
        write_table(areas_csv, "csv", [c.zh for c in AREAS.columns], [[r[c] for c in columns] for r in rows])
        assert cli("--db", sqlite_url, "import", "areas", str(areas_csv)).exit_code == 0
        path = workbook(tmp_path / "h.xlsx", [REQUIRED] + [household(i) for i in range(1, 13)], hidden)
        result = cli("--db", sqlite_url, "import", "households", str(path), "--dry-run", "--json")
        assert result.exit_code == 0, result.output
        document = json.loads(result.stdout)
        assert document["files"][0]["notices"][0].startswith("隐藏的行 / hidden rows: 5-7, 12")
        text = cli("--db", sqlite_url, "import", "households", str(path))
        assert text.exit_code == 0
        assert "  隐藏的列 / hidden columns: C (" in text.output

    def test_cli_json_refusal(self, cli, sqlite_url: str, tmp_path: Path) -> None:
        """A value under a blank header, through the command line: exit 1, one JSON document naming row and column."""
        assert cli("--db", sqlite_url, "init").exit_code == 0
        path = workbook(tmp_path / "h.xlsx", [[*REQUIRED, None], [*household(1), "x"]])
        result = cli("--db", sqlite_url, "import", "households", str(path), "--json")
        assert result.exit_code == 1
        document = json.loads(result.stdout)
        assert [(e["row"], e["column"]) for e in document["errors"]] == [(2, "F (空表头 / blank header)")]

    def test_cli_json_csv_row_that_stops_the_import(self, cli, sqlite_url: str, tmp_path: Path) -> None:
        """A CSV row beyond the header stops the import: the JSON document and the errors file name its row and column."""
        assert cli("--db", sqlite_url, "init").exit_code == 0
        path = tmp_path / "h.csv"
        path.write_text("\n".join([",".join(REQUIRED), ",".join(household(1)), ",".join(household(2)) + ",x"]) + "\n", encoding="utf-8")
        errors = tmp_path / "errors.csv"
        result = cli("--db", sqlite_url, "import", "households", str(path), "--json", "--errors", str(errors))
        assert result.exit_code == 1
        document = json.loads(result.stdout)
        assert [(e["row"], e["column"]) for e in document["errors"]] == [(3, "F (第 6 列, 空表头 / column 6, blank header)")]
        assert document["committed"] is False and "Traceback" not in result.output
        assert "3" in errors.read_text(encoding="utf-8").splitlines()[1]


# -- 4. CSV: long cells, long lines, encodings ------------------------------------------------


class TestCsvText:
    def test_long_cell_is_read(self, areas, tmp_path: Path) -> None:
        """A 300 KB JSON answers cell (over csv's 128 KB default) in a valid file is read, not refused."""
        answers = json.dumps({f"q{i}": "回答" * 20 for i in range(3000)}, ensure_ascii=False)
        assert len(answers.encode()) > 300_000
        path = tmp_path / "h.csv"
        write_table(path, "csv", [*REQUIRED, "问卷答案"], [household(1) + [answers], household(2) + ["{}"]])
        result = import_files(areas, "households", [path])
        assert result.errors == [] and result.inserted == 2
        assert result.files[0].ignored_columns == ["问卷答案"]
        with open_table(path) as table:
            assert [len(cells["问卷答案"]) for _, cells in table] == [len(answers), 2]

    def test_cell_over_the_limit_names_its_row(self, tmp_path: Path) -> None:
        """A cell over 1 MiB (CSV_MAX_FIELD) is refused in one line naming its row."""
        path = tmp_path / "h.csv"
        path.write_text(f"户编号,备注\n001,a\n002,\"{'x' * (CSV_MAX_FIELD + 10)}\"\n", encoding="utf-8")
        with open_table(path) as table, pytest.raises(ShapeError, match=r"row 3: .*longer than 1048576 characters") as caught:
            list(table)
        assert caught.value.row == 3 and "\n" not in str(caught.value)

    def test_endless_line_is_refused_with_bounded_memory(self, tmp_path: Path) -> None:
        """A 1 GiB file of one line after the header is refused naming row 2, without reading the line whole."""
        path = tmp_path / "h.csv"
        with open(path, "wb") as file:
            file.write("户编号,户主姓名\n".encode())
            file.truncate(1 << 30)  # sparse: a gigabyte of NUL bytes, no line end
        # In a process of its own, with a time limit: a regression would read for long and hold gigabytes.
        read = (
            "import re, sys\n"
            "from fupin.io.files import open_table\n"
            "try:\n"
            "    with open_table(sys.argv[1]) as table:\n"
            "        list(table)\n"
            "except Exception as exc:\n"
            "    print(exc)\n"
            # VmHWM, this program's own peak: ru_maxrss keeps the peak of the forked parent (pytest, large late in a run).
            "print(int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1]) // 1024)\n"
        )
        proc = subprocess.run([sys.executable, "-c", read, str(path)], capture_output=True, text=True, timeout=60)
        message, max_rss_mib = proc.stdout.strip().splitlines()
        assert re.search(r"row 2: .*longer than 16777216 characters", message), proc.stdout + proc.stderr
        assert int(max_rss_mib) < 400

    def test_gbk_row_in_a_small_utf8_file_is_named(self, areas, tmp_path: Path) -> None:
        """A UTF-8 file under 1 MB with one GBK row is refused naming that row, not row 1."""
        path = tmp_path / "h.csv"
        lines = [",".join(REQUIRED)] + [",".join(household(i)) for i in range(1, 60)]
        body = "\n".join(lines[:40]).encode() + b"\n" + (",".join(household(60)) + "\n").encode("gbk")
        path.write_bytes(body + "\n".join(lines[40:]).encode() + b"\n")
        with pytest.raises(FupinError, match=r"row 41 is not valid utf-8 text.*--encoding gb18030.*mixing two encodings"):
            import_files(areas, "households", [path])
        assert areas.count("households") == 0

    def test_gbk_file_is_still_gbk(self, tmp_path: Path) -> None:
        """A GBK file (with a UTF-8-looking byte pair by chance) is still read as GB18030."""
        path = tmp_path / "h.csv"
        path.write_bytes("户编号,户主姓名\n001,张三\n002,李四\n".encode("gbk"))
        with open_table(path) as table:
            assert table.info.encoding == "gb18030"
            assert [cells["户主姓名"] for _, cells in table] == ["张三", "李四"]
