"""Tests for fupin.io.files: reading and writing CSV, XLSX and JSON-lines tables."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tracemalloc
from pathlib import Path

import openpyxl
import pytest

from fupin.errors import FupinError
from fupin.io.files import (
    DROPDOWN_ERROR,
    OPTIONS_SHEET,
    LossyNumber,
    TableInfo,
    normalize_cell,
    open_table,
    write_table,
)

HEADERS = ["户编号", "户主姓名", "证件号码", "贫困户属性", "家庭人口", "识别日期", "备注"]
# The register as text, with a blank row in the middle (None).
REGISTER: list[list[str] | None] = [
    [" １２３\u3000", "张三", "11010519491231002X", "一般贫困户", "3", "2014-05-10", "因病致贫\n需要跟踪"],
    ["530326001002", " 李四 ", "440524188001010014", "低保贫困户", "5", "2015-03-01", ""],
    None,
    ["530326001003", "王五", "530326198001011234", "特困供养贫困户", "1", "2016-07-20", "残疾"],
]
EXPECTED = [
    {
        "户编号": "１２３",
        "户主姓名": "张三",
        "证件号码": "11010519491231002X",
        "贫困户属性": "一般贫困户",
        "家庭人口": "3",
        "识别日期": "2014-05-10",
        "备注": "因病致贫\n需要跟踪",
    },
    {
        "户编号": "530326001002",
        "户主姓名": "李四",
        "证件号码": "440524188001010014",
        "贫困户属性": "低保贫困户",
        "家庭人口": "5",
        "识别日期": "2015-03-01",
        "备注": None,
    },
    {
        "户编号": "530326001003",
        "户主姓名": "王五",
        "证件号码": "530326198001011234",
        "贫困户属性": "特困供养贫困户",
        "家庭人口": "1",
        "识别日期": "2016-07-20",
        "备注": "残疾",
    },
]
TITLE = "会泽县者海镇建档立卡贫困户花名册"


def csv_text(rows: list[list[str] | None], *, titles: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if titles:
        writer.writerow([TITLE, "", "", "", "", "", ""])
        writer.writerow(["填报单位：者海镇人民政府", "", "", "", "填报日期：2024年3月1日", "", ""])
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow(row or [])
    return out.getvalue()


def write_register_csv(path: Path, encoding: str, **kwargs: bool) -> Path:
    path.write_bytes(csv_text(REGISTER, **kwargs).encode(encoding))
    return path


def write_register_xlsx(path: Path) -> Path:
    """The register as a printed register: two title rows, typed numbers and dates."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "花名册"
    sheet.append([TITLE])
    sheet.merge_cells("A1:G1")
    sheet.append(["填报单位：者海镇人民政府", None, None, None, "填报日期：2024年3月1日"])
    sheet.append(["户编号", "户主姓名", "证件\n号码", "贫困户属性", "家庭人口", "识别日期", "备注"])
    for row in REGISTER:
        if row is None:
            sheet.append([])
            continue
        values: list[object] = list(row)
        values[4] = int(row[4])
        values[5] = dt.date.fromisoformat(row[5])
        if row[2] == "440524188001010014":
            values[2] = 440524188001010014  # typed as a number: Excel keeps 15 digits
        sheet.append(values)
    workbook.create_sheet("说明")
    workbook.save(path)
    return path


def write_register_jsonl(path: Path) -> Path:
    lines = ["" if row is None else json.dumps(dict(zip(HEADERS, row)), ensure_ascii=False) for row in REGISTER]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read(path: Path, **kwargs: object) -> tuple[TableInfo, list[tuple[int, dict[str, object]]]]:
    with open_table(path, **kwargs) as table:  # type: ignore[arg-type]
        return table.info, list(table)


class TestNormalizeCell:
    def test_folds_full_width_and_strips(self) -> None:
        """Full-width digits and punctuation become ASCII; ideographic and no-break spaces are stripped."""
        assert normalize_cell("\u3000 １２３（旧）：\xa0") == "123(旧):"

    def test_leaves_other_text(self) -> None:
        """CJK text, circled digits and half-width katakana are not NFKC-normalised."""
        assert normalize_cell("① ｱ 建档立卡") == "① ｱ 建档立卡"

    def test_removes_zero_width_characters(self) -> None:
        """Zero-width spaces and BOMs pasted from web pages disappear."""
        assert normalize_cell("\ufeff1101\u200b05") == "110105"


class TestCellValues:
    @pytest.mark.parametrize(
        ("text", "fen"),
        [("2670.5", 267050), ("2670.50", 267050), ("2670", 267000), ("0.05", 5), ("2670.", 267000), (".5", 50),
         ("-3.5", -350), ("1,200.5", 120050), ("2670.505", "最多两位小数"), ("2670.5x", "不是金额"), ("1e3", "科学计数法"), ("12,00", "千分位")],
    )
    def test_yuan_to_fen(self, text: str, fen: int | str) -> None:
        """Yuan text becomes exact integer fen; more than two decimals, exponents, misplaced commas or not a number is refused."""
        from fupin.io.kinds import yuan_text_to_fen

        if isinstance(fen, str):
            with pytest.raises(ValueError, match=fen):
                yuan_text_to_fen(text)
        else:
            assert yuan_text_to_fen(text) == fen

    @pytest.mark.parametrize(
        ("text", "day"),
        [("2015-09-01", dt.date(2015, 9, 1)), ("2015/9/1", dt.date(2015, 9, 1)), ("2015.9.1", dt.date(2015, 9, 1)),
         ("2015年9月1日", dt.date(2015, 9, 1)), ("20150901", dt.date(2015, 9, 1)), ("2015-02-30", "out of range"),
         ("2015-W36-2", "不是日期"), ("2015-9-1x", "不是日期")],
    )
    def test_dates_as_offices_write_them(self, text: str, day: dt.date | str) -> None:
        """The usual ISO form and the forms offices write; an impossible day or a week date is refused."""
        from fupin.io.kinds import parse_date

        if isinstance(day, str):
            with pytest.raises(ValueError, match=day):
                parse_date(text)
        else:
            assert parse_date(text) == day


class TestRegister:
    """The same register in every format yields the same rows."""

    @pytest.mark.parametrize(
        ("encoding", "detected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030")]
    )
    def test_csv(self, tmp_path: Path, encoding: str, detected: str) -> None:
        """CSV in UTF-8, UTF-8 with BOM and GB18030 is detected and read; a quoted line break stays in its row."""
        info, rows = read(write_register_csv(tmp_path / "r.csv", encoding))
        assert info == TableInfo(str(tmp_path / "r.csv"), "csv", detected, None, 1, tuple(HEADERS))
        assert rows == [(2, EXPECTED[0]), (3, EXPECTED[1]), (5, EXPECTED[2])]

    def test_csv_with_title_rows(self, tmp_path: Path) -> None:
        """Title rows above the header are skipped and counted."""
        info, rows = read(write_register_csv(tmp_path / "r.csv", "gb18030", titles=True))
        assert info.header_row == 3
        assert rows == [(4, EXPECTED[0]), (5, EXPECTED[1]), (7, EXPECTED[2])]

    def test_xlsx(self, tmp_path: Path) -> None:
        """XLSX with title rows: real row numbers, numbers and dates as text, the header's line break removed."""
        info, rows = read(write_register_xlsx(tmp_path / "r.xlsx"))
        assert info == TableInfo(str(tmp_path / "r.xlsx"), "xlsx", None, "花名册", 3, tuple(HEADERS), last_row=7)
        assert [number for number, _ in rows] == [4, 5, 7]
        assert rows[0][1] == EXPECTED[0]
        assert rows[2][1] == EXPECTED[2]
        lossy = rows[1][1]["证件号码"]
        assert isinstance(lossy, LossyNumber)
        assert lossy == "440524188001010000"
        assert rows[1][1] | {"证件号码": "440524188001010014"} == EXPECTED[1]

    def test_text_ids_are_not_lossy(self, tmp_path: Path) -> None:
        """IDs stored as text come back as plain strings, not LossyNumber."""
        _, rows = read(write_register_xlsx(tmp_path / "r.xlsx"))
        assert type(rows[0][1]["证件号码"]) is str

    def test_jsonl(self, tmp_path: Path) -> None:
        """JSON lines: line numbers, blank lines skipped, strings stripped."""
        info, rows = read(write_register_jsonl(tmp_path / "r.jsonl"))
        assert info == TableInfo(str(tmp_path / "r.jsonl"), "jsonl", None, None, 0, tuple(HEADERS))
        assert rows == [(1, EXPECTED[0]), (2, EXPECTED[1]), (4, EXPECTED[2])]

    def test_values_normalise_alike(self, tmp_path: Path) -> None:
        """The full-width household number normalises to the same code in every format."""
        paths = [
            write_register_csv(tmp_path / "r.csv", "gb18030"),
            write_register_xlsx(tmp_path / "r.xlsx"),
            write_register_jsonl(tmp_path / "r.jsonl"),
        ]
        assert {normalize_cell(str(read(path)[1][0][1]["户编号"])) for path in paths} == {"123"}


class TestFormat:
    def test_unknown_extension(self, tmp_path: Path) -> None:
        """An unknown extension names the file and the supported formats."""
        path = tmp_path / "r.dat"
        path.write_text("a,b\n")
        with pytest.raises(FupinError, match=r"r\.dat.*\.csv.*\.xlsx.*\.jsonl"):
            open_table(path)

    def test_old_excel_gets_a_hint(self, tmp_path: Path) -> None:
        """An .xls file is refused with a hint to save it as .xlsx."""
        path = tmp_path / "r.xls"
        path.write_bytes(b"\xd0\xcf\x11\xe0")
        with pytest.raises(FupinError, match=r"\.xlsx"):
            open_table(path)

    def test_txt_is_csv_and_format_overrides(self, tmp_path: Path) -> None:
        """.txt is read as CSV, and format= overrides the extension."""
        (tmp_path / "r.txt").write_text("a,b\n1,2\n")
        (tmp_path / "r.dat").write_text('{"a": 1}\n')
        assert read(tmp_path / "r.txt")[0].format == "csv"
        assert read(tmp_path / "r.dat", format="jsonl")[1] == [(1, {"a": 1})]

    def test_missing_file(self, tmp_path: Path) -> None:
        """A missing file is a FupinError naming it."""
        with pytest.raises(FupinError, match="nope.csv"):
            open_table(tmp_path / "nope.csv")


class TestCsv:
    def test_encoding_forced(self, tmp_path: Path) -> None:
        """A forced encoding is used and reported."""
        info, rows = read(write_register_csv(tmp_path / "r.csv", "gbk"), encoding="gbk")
        assert info.encoding == "gbk"
        assert [cells for _, cells in rows] == EXPECTED

    def test_gbk_forced_as_utf8_names_the_row(self, tmp_path: Path) -> None:
        """A GBK file read as UTF-8 fails naming the row, the encoding and --encoding gb18030."""
        path = tmp_path / "r.csv"
        path.write_bytes("户编号,户主姓名\n001,张三\n".encode("gbk"))
        with pytest.raises(FupinError, match=r"row 1 .*utf-8.*--encoding gb18030"):
            open_table(path, encoding="utf-8")

    def test_late_gbk_bytes_name_the_row(self, tmp_path: Path) -> None:
        """A mostly UTF-8 file with a GBK row far past the sniffed megabyte fails on that row."""
        path = tmp_path / "r.csv"
        good = "".join(f"{i:06d},张三\n" for i in range(100_000)).encode()
        path.write_bytes("户编号,户主姓名\n".encode() + good + "999999,李四\n".encode("gbk"))
        with open_table(path) as table:
            assert table.info.encoding == "utf-8"
            with pytest.raises(FupinError, match=r"row 100002 .*--encoding gb18030"):
                for _ in table:
                    pass

    def test_unknown_encoding(self, tmp_path: Path) -> None:
        """An unknown encoding name is a FupinError."""
        path = write_register_csv(tmp_path / "r.csv", "utf-8")
        with pytest.raises(FupinError, match="no-such-codec"):
            open_table(path, encoding="no-such-codec")

    def test_too_many_cells(self, tmp_path: Path) -> None:
        """A row with more non-empty cells than the header names the row and both counts."""
        path = tmp_path / "r.csv"
        path.write_text("a,b\n1,2\n1,2,,x\n")
        with open_table(path) as table, pytest.raises(FupinError, match="row 3 has 4 cells but the header has 2"):
            list(table)

    def test_short_rows_padded_and_trailing_empty_cells_ignored(self, tmp_path: Path) -> None:
        """Short rows are padded with None; empty cells past the header are fine."""
        path = tmp_path / "r.csv"
        path.write_text("a,b,c\n1\n1,2,3,,,\n")
        assert read(path)[1] == [(2, {"a": "1", "b": None, "c": None}), (3, {"a": "1", "b": "2", "c": "3"})]

    def test_empty_header_columns_are_left_out_when_empty(self, tmp_path: Path) -> None:
        """A column without a header and without values is left out; a value there is refused (issue #15)."""
        path = tmp_path / "r.csv"
        path.write_text("a,,b\n1,,2\n,,\n3,,4\n")
        info, rows = read(path)
        assert info.headers == ("a", "b")
        assert rows == [(2, {"a": "1", "b": "2"}), (4, {"a": "3", "b": "4"})]
        path.write_text("a,,b\n1,,2\n,note,\n")
        with pytest.raises(FupinError, match="row 3, 列 / column B .*column 2, blank header"):
            read(path)

    @pytest.mark.parametrize("delimiter", ["\t", ";"])
    def test_other_delimiters(self, tmp_path: Path, delimiter: str) -> None:
        """Tab- and semicolon-separated files are recognised from their header."""
        path = tmp_path / "r.csv"
        path.write_text(f"{TITLE}\n户编号{delimiter}备注\n001{delimiter}a, b\n")
        assert read(path)[1] == [(3, {"户编号": "001", "备注": "a, b"})]

    def test_duplicate_headers(self, tmp_path: Path) -> None:
        """Duplicate header names (after cleaning) are refused naming both columns."""
        path = tmp_path / "r.csv"
        path.write_text("户编号,姓名,证件号码,x,y,证件号码 \n")
        with pytest.raises(FupinError, match="证件号码.*columns 3 and 6"):
            open_table(path)

    def test_utf16_from_excel_unicode_text(self, tmp_path: Path) -> None:
        """Excel's "Unicode text" (UTF-16 with BOM, tab-separated) is read."""
        path = tmp_path / "r.txt"
        path.write_bytes("户编号\t户主姓名\r\n001\t张三\r\n".encode("utf-16"))
        info, rows = read(path)
        assert info.encoding == "utf-16"
        assert rows == [(2, {"户编号": "001", "户主姓名": "张三"})]


class TestHeaderDetection:
    def test_no_header_found(self, tmp_path: Path) -> None:
        """Without a header in the scanned rows, the error names the file, the count and the first row."""
        path = tmp_path / "r.csv"
        path.write_text("\n".join(f"title {i}" for i in range(20)) + "\na,b\n")
        with pytest.raises(FupinError, match=r"r\.csv.*first 11 non-blank rows.*row 1: 'title 0'"):
            open_table(path)

    def test_max_title_rows(self, tmp_path: Path) -> None:
        """Raising max_title_rows finds a header further down."""
        path = tmp_path / "r.csv"
        path.write_text("\n".join(f"title {i}" for i in range(20)) + "\na,b\n1,2\n")
        assert read(path, max_title_rows=20)[1] == [(22, {"a": "1", "b": "2"})]

    def test_empty_file(self, tmp_path: Path) -> None:
        """An empty file has no header."""
        path = tmp_path / "r.csv"
        path.write_text("\n\n")
        with pytest.raises(FupinError, match="empty"):
            open_table(path)

    def test_key_value_title_row_is_not_the_header(self, tmp_path: Path) -> None:
        """A "填报单位: ... 日期: ..." row of several cells is skipped by the default rule."""
        path = tmp_path / "r.csv"
        path.write_text("填报单位：者海镇,,日期：2024-03-01\n户编号,姓名\n001,张三\n")
        assert read(path)[0].header_row == 2

    def test_custom_is_header(self, tmp_path: Path) -> None:
        """A caller's is_header gets cleaned cells and decides."""
        path = tmp_path / "r.csv"
        path.write_text("单位,者海镇\n户编号,（姓名）\n001,张三\n")
        seen: list[list[str]] = []

        def is_header(cells: object) -> bool:
            seen.append(list(cells))  # type: ignore[call-overload]
            return "户编号" in cells  # type: ignore[operator]

        info, rows = read(path, is_header=is_header)
        assert seen[:2] == [["单位", "者海镇"], ["户编号", "(姓名)"]]
        assert info.headers == ("户编号", "(姓名)")
        assert rows == [(3, {"户编号": "001", "(姓名)": "张三"})]


class TestXlsx:
    def test_unknown_sheet(self, tmp_path: Path) -> None:
        """An unknown sheet is refused listing the sheet names."""
        path = write_register_xlsx(tmp_path / "r.xlsx")
        with pytest.raises(FupinError, match="no sheet '户籍'.*花名册, 说明"):
            open_table(path, sheet="户籍")

    def test_sheet_by_index_and_name(self, tmp_path: Path) -> None:
        """A sheet is chosen by 1-based index or by name."""
        path = tmp_path / "r.xlsx"
        workbook = openpyxl.Workbook()
        workbook.active.append(["a", "b"])
        workbook.create_sheet("二").append(["c", "d"])
        workbook.save(path)
        assert read(path, sheet="2")[0].headers == ("c", "d")
        assert read(path, sheet="二")[0].sheet == "二"
        assert read(path)[0].headers == ("a", "b")

    def test_first_visible_sheet(self, tmp_path: Path) -> None:
        """By default the first visible sheet is read, not a hidden one before it."""
        path = tmp_path / "r.xlsx"
        workbook = openpyxl.Workbook()
        workbook.active.append(["x", "y"])
        workbook.active.sheet_state = "hidden"
        workbook.create_sheet("数据").append(["a", "b"])
        workbook.save(path)
        assert read(path)[0].sheet == "数据"

    def test_duplicate_headers_as_letters(self, tmp_path: Path) -> None:
        """Duplicate headers in XLSX name the columns by letter."""
        path = tmp_path / "r.xlsx"
        workbook = openpyxl.Workbook()
        workbook.active.append(["户编号", "姓名", "证件号码", "x", "y", "证件\n号码"])
        workbook.save(path)
        with pytest.raises(FupinError, match="columns C and F"):
            open_table(path)

    def test_used_range_not_at_a1(self, tmp_path: Path) -> None:
        """A table starting at C3 keeps real row numbers and column letters."""
        path = tmp_path / "r.xlsx"
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet["C3"], sheet["D3"], sheet["E3"] = "a", "b", "a"
        workbook.save(path)
        with pytest.raises(FupinError, match="columns C and E"):
            open_table(path)
        sheet["E3"] = "c"
        sheet["C5"], sheet["E5"] = "1", "2"
        workbook.save(path)
        info, rows = read(path)
        assert info.header_row == 3
        assert rows == [(5, {"a": "1", "b": None, "c": "2"})]

    def test_cell_values(self, tmp_path: Path) -> None:
        """Floats as plain text, booleans, date-times and empty strings are converted."""
        path = tmp_path / "r.xlsx"
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(["f1", "f2", "f3", "f4", "b", "t", "e"])
        sheet.append([1.5, 1e-7, 0.1 + 0.2, 1234567.0, True, dt.datetime(2020, 1, 2, 3, 4), "  "])
        workbook.save(path)
        assert read(path)[1] == [
            (2, {"f1": "1.5", "f2": "0.0000001", "f3": "0.3", "f4": "1234567", "b": "true",
                 "t": "2020-01-02T03:04:00", "e": None}),
        ]  # fmt: skip

    def test_not_an_xlsx(self, tmp_path: Path) -> None:
        """A file that is not a workbook is a FupinError."""
        path = tmp_path / "r.xlsx"
        path.write_text("a,b\n")
        with pytest.raises(FupinError, match="not a readable XLSX"):
            open_table(path)

    def test_empty_sheet(self, tmp_path: Path) -> None:
        """An empty sheet has no header."""
        path = tmp_path / "r.xlsx"
        openpyxl.Workbook().save(path)
        with pytest.raises(FupinError, match="empty"):
            open_table(path)


class TestJsonl:
    def test_not_an_object(self, tmp_path: Path) -> None:
        """A line that is not an object names the file and the line."""
        path = tmp_path / "r.jsonl"
        path.write_text('{"a": 1}\n\n[1, 2]\n')
        with open_table(path) as table, pytest.raises(FupinError, match=r"r\.jsonl.*line 3 is not a JSON object"):
            list(table)

    def test_invalid_json(self, tmp_path: Path) -> None:
        """Invalid JSON names the line and the parser's reason."""
        path = tmp_path / "r.jsonl"
        path.write_text('{"a": 1}\n{"a": }\n')
        with open_table(path) as table, pytest.raises(FupinError, match="line 2 is not valid JSON: Expecting value"):
            list(table)

    def test_values_kept_as_parsed(self, tmp_path: Path) -> None:
        """Numbers, booleans, lists and null are kept; a BOM is tolerated; keys are cleaned."""
        path = tmp_path / "r.json"
        path.write_bytes('\ufeff{" 户编号 ": 1, "b": [1, "x"], "c": true, "d": null, "e": " "}\n'.encode())
        info, rows = read(path)
        assert info.headers == ("户编号", "b", "c", "d", "e")
        assert rows == [(1, {"户编号": 1, "b": [1, "x"], "c": True, "d": None, "e": None})]


class TestWriteTable:
    HEADERS = ["户编号", "证件号码", "家庭人口", "识别日期", "备注"]
    ROWS = [
        ["001", "11010519491231002X", 3, dt.date(2014, 5, 10), "=1+1"],
        ["002", "440524188001010014", 5, None, "因病\n致贫"],
    ]
    READ_BACK = [
        {"户编号": "001", "证件号码": "11010519491231002X", "家庭人口": "3", "识别日期": "2014-05-10", "备注": "=1+1"},
        {"户编号": "002", "证件号码": "440524188001010014", "家庭人口": "5", "识别日期": None, "备注": "因病\n致贫"},
    ]

    @pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
    def test_round_trip(self, tmp_path: Path, fmt: str) -> None:
        """What is written reads back with the same headers and values; ID strings stay strings."""
        path = tmp_path / f"out.{fmt}"
        assert write_table(path, fmt, self.HEADERS, self.ROWS) == 2
        info, rows = read(path)
        assert info.headers == tuple(self.HEADERS)
        expected = self.READ_BACK
        if fmt == "jsonl":  # JSON keeps numbers as numbers
            expected = [row | {"家庭人口": int(str(row["家庭人口"]))} for row in expected]
        if fmt == "csv":  # a formula-like cell is neutralised in CSV (the importer removes the apostrophe)
            expected = [row | {"备注": "'" + row["备注"]} if str(row["备注"] or "").startswith("=") else row for row in expected]
        assert [cells for _, cells in rows] == expected
        assert all(type(cells["证件号码"]) is str for _, cells in rows)

    def test_csv_cells_cannot_run_as_formulas(self, tmp_path: Path) -> None:
        """Cells starting with = + - @ are written with an apostrophe; the importer reads the value back."""
        from fupin.io.kinds import CellParser, Column
        from fupin.vocab import Vocabulary

        path = tmp_path / "evil.csv"
        evil = ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "safe"]
        write_table(path, "csv", ["a", "b"], [[v, "x"] for v in evil])
        _, rows = read(path)
        written = [cells["a"] for _, cells in rows]
        assert written == ["'" + v for v in evil[:4]] + ["safe"]
        parse = CellParser(Vocabulary.default()).reader(Column("a", "甲"))
        assert [parse(v) for v in written] == evil

    def test_text_reader_reads_as_the_general_reader(self) -> None:
        """The reader for CSV text gives every column of the core kinds the same value, or the same error."""
        from fupin.io.kinds import HOUSEHOLDS, PERSONS, CellParser
        from fupin.vocab import Vocabulary

        parser = CellParser(Vocabulary.default())
        texts = ["是", "否", "2015-09-01", "2015年9月1日", "１２３", "12.50", "'=1+1", "'-3", "缺资金、因病", "懒惰", "x", "'", "530326198207207819"]
        texts += ["男", "户主", "汉族", "因病", "脱贫", "male"]

        def outcome(read, text):
            try:
                return ("value", read(text))
            except Exception as exc:  # the same error type and message
                return (type(exc).__name__, str(exc))

        for column in HOUSEHOLDS.columns + PERSONS.columns:
            general, text = parser.reader(column), parser.text_reader(column)
            for t in texts + texts:  # twice: the second answer may come from a cache
                assert outcome(text, t) == outcome(general, t), (column.name, t)

    def test_csv_has_bom_and_crlf(self, tmp_path: Path) -> None:
        """CSV is UTF-8 with a BOM and CRLF line ends."""
        path = tmp_path / "out.csv"
        write_table(path, "csv", ["a", "b"], [["张三", None]])
        assert path.read_bytes() == "\ufeffa,b\r\n张三,\r\n".encode()

    def test_xlsx_ids_are_text(self, tmp_path: Path) -> None:
        """Digit strings are stored as text cells, ints as numbers."""
        path = tmp_path / "out.xlsx"
        write_table(path, "xlsx", self.HEADERS, self.ROWS)
        sheet = openpyxl.load_workbook(path).active
        assert sheet["B2"].data_type == "s"
        assert sheet["B2"].value == "11010519491231002X"
        assert sheet["C2"].value == 3
        assert sheet["E2"].data_type == "s"  # "=1+1" is not a formula

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_title_row(self, tmp_path: Path, fmt: str) -> None:
        """A title goes in row 1 and the reader finds the header in row 2."""
        path = tmp_path / f"out.{fmt}"
        write_table(path, fmt, self.HEADERS, self.ROWS, title=TITLE)
        info, rows = read(path)
        assert info.header_row == 2
        assert rows[0][0] == 3
        assert rows[0][1]["证件号码"] == self.READ_BACK[0]["证件号码"]

    @pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
    def test_binary_stream(self, tmp_path: Path, fmt: str) -> None:
        """A binary stream is written to and left open."""
        stream = io.BytesIO()
        assert write_table(stream, fmt, self.HEADERS, self.ROWS) == 2
        assert not stream.closed
        path = tmp_path / f"out.{fmt}"
        path.write_bytes(stream.getvalue())
        assert len(read(path)[1]) == 2

    def test_template_dropdowns(self, tmp_path: Path) -> None:
        """A template has list validations over rows 2..10001 taken from the hidden options sheet."""
        path = tmp_path / "template.xlsx"
        kinds = ["一般贫困户", "低保贫困户", "特困供养贫困户"]
        long_list = [f"选项{i:03d}" for i in range(100)]  # over 255 characters inline
        assert write_table(path, "xlsx", HEADERS, [], dropdowns={3: kinds, 6: long_list}) == 0
        workbook = openpyxl.load_workbook(path)
        sheet, options = workbook["数据"], workbook[OPTIONS_SHEET]
        assert options.sheet_state == "hidden"
        assert [cell.value for cell in options["A"] if cell.value is not None] == kinds
        validations = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
        assert set(validations) == {"D2:D10001", "G2:G10001"}
        assert validations["D2:D10001"].type == "list"
        assert validations["D2:D10001"].formula1 == f"'{OPTIONS_SHEET}'!$A$1:$A$3"
        assert validations["G2:G10001"].formula1 == f"'{OPTIONS_SHEET}'!$B$1:$B$100"
        assert validations["D2:D10001"].error == DROPDOWN_ERROR
        assert validations["D2:D10001"].showErrorMessage
        assert sheet["A1"].font.bold
        assert sheet.freeze_panes == "A2"
        assert sheet.column_dimensions["D"].number_format == "@"

    def test_template_is_readable(self, tmp_path: Path) -> None:
        """A template reads back as a header with no rows, despite the hidden sheet."""
        path = tmp_path / "template.xlsx"
        write_table(path, "xlsx", HEADERS, [], dropdowns={3: ["一般贫困户"]})
        assert read(path) == (TableInfo(str(path), "xlsx", None, "数据", 1, tuple(HEADERS), last_row=1), [])

    def test_unknown_format(self, tmp_path: Path) -> None:
        """An unknown format is a FupinError."""
        with pytest.raises(FupinError, match="xls"):
            write_table(tmp_path / "out.xls", "xls", ["a"], [])

    def test_row_length_must_match(self, tmp_path: Path) -> None:
        """A row with the wrong number of values is a programming error."""
        with pytest.raises(ValueError, match="row 1 has 1 values for 2 headers"):
            write_table(tmp_path / "out.csv", "csv", ["a", "b"], [["x"]])


class TestStreaming:
    @staticmethod
    def peak_while_reading(path: Path, rows: int) -> int:
        with path.open("w", encoding="utf-8") as file:
            file.write("户编号,户主姓名,证件号码,贫困户属性\n")
            for i in range(rows):
                file.write(f"{i:012d},张三{i},11010519491231002X,一般贫困户\n")
        tracemalloc.start()
        try:
            count = 0
            with open_table(path) as table:
                for count, _ in enumerate(table, start=1):
                    pass
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert count == rows
        return peak

    def test_memory_stays_flat(self, tmp_path: Path) -> None:
        """Reading 200,000 CSV rows peaks under 20 MB, and at most twice the peak of 50,000 rows."""
        small = self.peak_while_reading(tmp_path / "small.csv", 50_000)
        large = self.peak_while_reading(tmp_path / "large.csv", 200_000)
        assert large < 20_000_000
        assert large < 2 * small
