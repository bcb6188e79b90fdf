"""Files from anywhere (issue #15): cell values that must be refused, named by row and column, before anything is written.

Every file is generated here, small: CSV and JSON lines as text, XLSX with
openpyxl (and zipfile where openpyxl would refuse the value). Each case runs on
SQLite and PostgreSQL (the ``store`` fixture), where the limits are the same:
they come from the schema (``fupin.io.kinds.limited``), not from the backend.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import attrs
import openpyxl
import pytest
import sqlalchemy as sa

from fupin import Actor, FupinError, Store, hookimpl
from fupin.idnumber import make_id_number
from fupin.io.engine import import_files
from fupin.io.export import export_rows
from fupin.io.files import write_table
from fupin.io.fieldwork import VISITS
from fupin.io.kinds import AREAS, HOUSEHOLDS, PERSONS, TEXT_LIMIT, CellParser, Column, ModelKind, limited
from fupin.storage import schema as S
from fupin.synth import Synthesizer
from fupin.vocab import Vocabulary


def _rows(kind: Any, records: list[Any]) -> tuple[list[str], list[list[Any]]]:
    headers = [c.zh for c in kind.columns]
    rows = []
    for r in records:
        values = kind.export_row(kind.db_row(r) | ({"level": r.level} if kind is AREAS else {}))
        rows.append([values[c.name] for c in kind.columns])
    return headers, rows


@pytest.fixture
def village(store: Any, tmp_path: Path) -> tuple[Any, list[Any], list[Any]]:
    """A store with a few synthetic areas imported; the households and persons to import next."""
    synth = Synthesizer(seed=15)
    areas = synth.areas(3)
    groups = [a.code for a in areas if a.level == "group"]
    items = list(synth.households(groups, 3))
    headers, rows = _rows(AREAS, areas)
    write_table(tmp_path / "areas.csv", "csv", headers, rows)
    assert import_files(store, "areas", [tmp_path / "areas.csv"]).errors == []
    return store, [i.household for i in items], [p for i in items for p in i.members]


def households_file(tmp_path: Path, households: list[Any], column: str, value: Any, fmt: str = "csv", row: int = 1) -> Path:
    """The households as a file of ``fmt`` whose cell ``column`` of data row ``row`` (0-based) holds ``value``."""
    headers, rows = _rows(HOUSEHOLDS, households)
    rows[row][headers.index(column)] = value
    path = tmp_path / f"households.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(dict(zip(headers, r)), ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    else:
        write_table(path, fmt, headers, rows)
    return path


def refused(store: Any, path: Path, kind: str = "households", **options: Any) -> list[tuple[int, str, str]]:
    """Import ``path`` (abort on error); the errors as (row, column, reason), after checking nothing was written."""
    result = import_files(store, kind, [path], **options)
    assert not result.committed
    assert store.count(kind) == 0
    return [(e.row, e.column, e.reason) for e in result.errors]


class TestText:
    """Text columns refuse hidden characters, line breaks, formula starts in names, and what the column cannot hold."""

    @pytest.mark.parametrize(
        ("value", "reason"),
        [
            ("张\x00三", "U+0000"),
            ("张\x07三", "U+0007"),
            ("张\x85三", "U+0085"),
            ("张\n三", "must be one line"),
            ("张\r\n三", "must be one line"),
            ("张\u2028三", "must be one line"),
            ("张\u202e三", "bidirectional"),
            ("\u2066张三\u2069", "bidirectional"),
            ('=HYPERLINK("http://x","张三")', "must not begin with ="),
            ("'=HYPERLINK(1)", "must not begin with ="),
            ("+86张三", "must not begin with +"),
            ("-张三", "must not begin with -"),
            ("@张三", "must not begin with @"),
            ("张" * 51, "too long: 51 characters, at most 50"),
            ("张" * 10_000, "too long: 10000 characters, at most 50"),
        ],
    )
    def test_name_in_json_lines(self, village: Any, tmp_path: Path, value: str, reason: str) -> None:
        """A head's name with a hidden character, a line break, a formula start or too long is refused on its row and column."""
        store, households, _ = village
        errors = refused(store, households_file(tmp_path, households, "户主姓名", value, "jsonl"))
        assert [(row, column) for row, column, _ in errors] == [(2, "户主姓名")]  # line 2 of the file
        assert reason in errors[0][2]

    @pytest.mark.parametrize(("value", "reason"), [("张\n三", "must be one line"), ("张\u202d三", "U+202D"), ("=1+1", "must not begin with ="), ("张" * 60, "too long")])
    def test_name_in_csv_and_xlsx(self, village: Any, tmp_path: Path, value: str, reason: str) -> None:
        """The same checks on the cells of CSV and XLSX files, numbered as the spreadsheet shows them."""
        store, households, _ = village
        for fmt in ("csv", "xlsx"):
            errors = refused(store, households_file(tmp_path, households, "户主姓名", value, fmt, row=2))
            assert [(row, column) for row, column, _ in errors] == [(4, "户主姓名")], fmt
            assert reason in errors[0][2]

    @pytest.mark.parametrize(
        ("column", "value", "reason"),
        [
            ("户编号", "H\x01001", "U+0001"),  # code
            ("户编号", "H" * 33, "at most 32"),  # code: String(32)
            ("户联系电话", "138\u202e0000", "bidirectional"),  # phone
            ("银行账号", "6222\t0001", "must be one line"),  # code
            ("开户银行", "=cmd|'/c calc'!A1", "must not begin with ="),  # a bank's name
            ("脱贫状态", "已脱贫\u202e", "bidirectional"),  # a vocabulary list's
            ("其他致贫原因", "缺技术、缺资金\x00", "U+0000"),  # a list's items
        ],
    )
    def test_every_text_column(self, village: Any, tmp_path: Path, column: str, value: str, reason: str) -> None:
        """Codes, phones, vocabulary and list columns are text too: the same characters are refused."""
        store, households, _ = village
        errors = refused(store, households_file(tmp_path, households, column, value, "jsonl"))
        assert [(row, c) for row, c, _ in errors] == [(2, column)]
        assert reason in errors[0][2]

    def test_lengths_come_from_the_schema(self) -> None:
        """Each column's limit is its table column's (String(n)); TEXT and JSON get TEXT_LIMIT and may hold paragraphs."""
        households = limited(HOUSEHOLDS, S.metadata)
        assert households.column("head_name").max_length == S.households.c.head_name.type.length == 50
        assert households.column("number").max_length == 32
        assert households.column("net_income_per_capita_yuan").minimum == 0
        assert households.column("house_area_m2").scale == 2
        visits = limited(VISITS, S.metadata)
        findings = visits.column("findings")
        assert (findings.max_length, findings.multiline) == (TEXT_LIMIT, True)
        read = CellParser(Vocabulary.default()).text_reader(findings)
        assert read("第一段\n第二段\t说明") == "第一段\n第二段\t说明"
        for bad, reason in (("第一段\x00", "U+0000"), ("第一段\u202e", "bidirectional"), ("长" * (TEXT_LIMIT + 1), "too long")):
            with pytest.raises(ValueError, match=re.escape(reason)):
                read(bad)

    def test_export_and_import_round_trip_neutralised_text(self, village: Any, tmp_path: Path) -> None:
        """Text beginning with - outside names is exported with an apostrophe and imported back unchanged."""
        store, households, _ = village
        path = households_file(tmp_path, households, "银行账号", "-0001", "csv")
        result = import_files(store, "households", [path])
        assert result.errors == [] and result.committed
        out = tmp_path / "out.csv"
        headers, rows = export_rows(store, limited(HOUSEHOLDS, S.metadata), unmasked=True)
        write_table(out, "csv", headers, rows)
        assert "'-0001" in out.read_text(encoding="utf-8-sig")
        again = import_files(store, "households", [out])
        assert again.errors == [] and (again.unchanged, again.updated) == (len(households), 0)


class TestNumbers:
    """Numbers and money: only what the column holds, written as people write numbers."""

    @pytest.mark.parametrize(
        ("value", "reason"),
        [
            ("12,00", "grouping commas"),
            ("1,2,3", "grouping commas"),
            (",100", "grouping commas"),
            ("Infinity", "NaN and infinity"),
            ("inf", "NaN and infinity"),
            ("-inf", "NaN and infinity"),
            ("NaN", "NaN and infinity"),
            ("sNaN", "NaN and infinity"),
            ("1E+30", "exponents"),
            ("1e3", "exponents"),
            ("-5", "must not be negative"),
            ("100000000000.01", "too large"),
            ("9" * 60, "too large"),
            ("12.345", "at most two decimals"),
        ],
    )
    def test_income_refused(self, village: Any, tmp_path: Path, value: str, reason: str) -> None:
        """人均纯收入 refuses NaN, infinities, exponents, misplaced commas, negatives and amounts beyond 100 billion yuan."""
        store, households, _ = village
        errors = refused(store, households_file(tmp_path, households, "人均纯收入(元)", value))
        assert [(row, column) for row, column, _ in errors] == [(3, "人均纯收入(元)")]
        assert reason in errors[0][2]

    def test_grouping_commas_in_their_places(self, village: Any, tmp_path: Path) -> None:
        """1,200.50 and 12,000 are read as the numbers they are."""
        store, households, _ = village
        headers, rows = _rows(HOUSEHOLDS, households)
        at = headers.index("人均纯收入(元)")
        rows[0][at], rows[1][at] = "1,200.50", "12,000"
        write_table(tmp_path / "h.csv", "csv", headers, rows)
        assert import_files(store, "households", [tmp_path / "h.csv"]).errors == []
        with store.engine.connect() as conn:
            fen = dict(conn.execute(sa.select(S.households.c.number, S.households.c.net_income_per_capita_fen)).all())
        assert (fen[households[0].number], fen[households[1].number]) == (120050, 1200000)

    @pytest.mark.parametrize(
        ("column", "value", "reason"),
        [
            ("住房面积(平方米)", "100000000", "too large"),  # NUMERIC(10, 2)
            ("住房面积(平方米)", "85.555", "at most 2 decimals"),
            ("住房面积(平方米)", "-1", "must not be negative"),
            ("计划脱贫年度", "2147483648", "too large"),  # INTEGER
            ("计划脱贫年度", "2020.5", "not an integer"),
            ("计划脱贫年度", "2,0,2,0", "grouping commas"),
        ],
    )
    def test_other_numbers(self, village: Any, tmp_path: Path, column: str, value: str, reason: str) -> None:
        """Decimals keep to their NUMERIC precision and scale, integers to INTEGER."""
        store, households, _ = village
        errors = refused(store, households_file(tmp_path, households, column, value))
        assert [(row, c) for row, c, _ in errors] == [(3, column)]
        assert reason in errors[0][2]

    @pytest.mark.parametrize(("xml", "reason"), [(b"<v>inf</v>", "NaN and infinity"), (b"<v>nan</v>", "NaN and infinity"), (b"<v>1E+30</v>", "")])
    def test_xlsx_number_cells(self, village: Any, tmp_path: Path, xml: bytes, reason: str) -> None:
        """A number cell of a workbook that is infinite, NaN or huge is refused as any other."""
        store, households, _ = village
        source = households_file(tmp_path, households, "人均纯收入(元)", 1234.5, "xlsx").read_bytes()
        path = tmp_path / "edited.xlsx"
        with zipfile.ZipFile(io.BytesIO(source)) as old, zipfile.ZipFile(path, "w") as new:
            for info in old.infolist():
                data = old.read(info.filename)
                if info.filename == "xl/worksheets/sheet1.xml":
                    data = re.sub(rb"<v>1234\.5</v>", xml, data, count=1)
                    assert xml in data
                new.writestr(info.filename, data)
        errors = refused(store, path)
        assert [(row, column) for row, column, _ in errors] == [(3, "人均纯收入(元)")]
        assert reason in errors[0][2]


class TestJsonLines:
    """JSON values are typed strictly, and an object gives each key once."""

    @pytest.mark.parametrize(
        ("column", "value", "reason"),
        [
            ("户主姓名", ["张", "三"], "not a list"),
            ("户主姓名", {"姓": "张"}, "not a JSON object"),
            ("户主姓名", True, "true or false"),
            ("户主姓名", 12, "not a number"),
            ("户编号", 1.5, "not a number"),
            ("人均纯收入(元)", True, "true or false"),
            ("人均纯收入(元)", ["1"], "not a list"),
            ("其他致贫原因", ["缺技术", 3], "must be text"),
            ("其他致贫原因", 7, "expected a list"),
            ("是否危房", "可能", "expected 是 or 否"),
        ],
    )
    def test_wrong_types_refused(self, village: Any, tmp_path: Path, column: str, value: Any, reason: str) -> None:
        """A list, object or true/false where text or a number is expected is refused, not turned into its Python text."""
        store, households, _ = village
        errors = refused(store, households_file(tmp_path, households, column, value, "jsonl"))
        assert [(row, c) for row, c, _ in errors] == [(2, column)]
        assert reason in errors[0][2]

    def test_right_types_accepted(self, village: Any, tmp_path: Path) -> None:
        """A boolean in a bool column, a list of strings in a list column, an integer code and a number of yuan are read."""
        store, households, _ = village
        headers, rows = _rows(HOUSEHOLDS, households)
        record = dict(zip(headers, rows[0]))
        record |= {"是否危房": True, "其他致贫原因": ["缺技术"], "人均纯收入(元)": 3000.5, "户编号": 5303260001}
        path = tmp_path / "h.jsonl"
        path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
        assert import_files(store, "households", [path]).errors == []
        with store.engine.connect() as conn:
            row = conn.execute(sa.select(S.households).where(S.households.c.number == "5303260001")).mappings().one()
        assert (row["dilapidated"], row["other_causes"], row["net_income_per_capita_fen"]) == (True, ["缺技术"], 300050)

    def test_infinity_is_refused_on_its_row(self, village: Any, tmp_path: Path) -> None:
        """JSON's non-standard Infinity and NaN (which Python's json reads) are refused as numbers, on their row."""
        store, households, _ = village
        path = households_file(tmp_path, households, "人均纯收入(元)", "@@", "jsonl")
        path.write_text(path.read_text(encoding="utf-8").replace('"@@"', "Infinity"), encoding="utf-8")
        errors = refused(store, path)
        assert [(row, c) for row, c, _ in errors] == [(2, "人均纯收入(元)")]
        assert "NaN and infinity" in errors[0][2]

    def test_repeated_key_refused(self, village: Any, tmp_path: Path) -> None:
        """A key given twice in one object is refused, naming the line and the key; nothing is written."""
        store, households, _ = village
        path = households_file(tmp_path, households, "户主姓名", "张三", "jsonl")
        lines = path.read_text(encoding="utf-8").splitlines()
        lines[1] = lines[1][:-1] + ', "户主姓名": "李四"}'
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with pytest.raises(FupinError, match=r"line 2: the key '户主姓名' appears twice"):
            import_files(store, "households", [path])
        assert store.count("households") == 0


class TestDuplicates:
    """A key twice in one file is named as a duplicate, with the other row, whatever else is wrong with the row."""

    def _persons(self, village: Any, tmp_path: Path) -> tuple[Any, list[Any]]:
        store, households, persons = village
        headers, rows = _rows(HOUSEHOLDS, households)
        write_table(tmp_path / "h.csv", "csv", headers, rows)
        assert import_files(store, "households", [tmp_path / "h.csv"]).errors == []
        return store, persons

    def _file(self, tmp_path: Path, persons: list[Any], edit: Any) -> Path:
        headers, rows = _rows(PERSONS, persons)
        edit(headers, rows)
        write_table(tmp_path / "p.csv", "csv", headers, rows)
        return tmp_path / "p.csv"

    def test_duplicate_that_also_fails_the_sex_check(self, village: Any, tmp_path: Path) -> None:
        """The second row with an ID number, whose sex contradicts it, is named as the duplicate of the first too."""
        store, persons = self._persons(village, tmp_path)
        other_sex = "女" if persons[0].sex == "男" else "男"
        path = self._file(tmp_path, persons, lambda h, rows: rows.append([*rows[0][: h.index("性别")], other_sex, *rows[0][h.index("性别") + 1 :]]))
        errors = refused(store, path, "persons")
        last = len(persons) + 2
        assert [(row, column) for row, column, _ in errors][:1] == [(last, "证件号码")]
        assert "duplicate of row 2" in errors[0][2]
        assert any(row == last and column == "性别" for row, column, _ in errors)

    def test_first_row_failing_does_not_hide_the_duplicate(self, village: Any, tmp_path: Path) -> None:
        """When the first row with an ID number is refused for its birth date, the second is still named its duplicate."""
        store, persons = self._persons(village, tmp_path)

        def edit(headers: list[str], rows: list[list[Any]]) -> None:
            rows.append(list(rows[0]))
            rows[0][headers.index("出生日期")] = "1900-01-01"

        errors = refused(store, self._file(tmp_path, persons, edit), "persons", on_error="abort")
        assert errors[0][:2] == (2, "出生日期")
        assert (len(persons) + 2, "证件号码") in [(row, column) for row, column, _ in errors]
        assert any("duplicate of row 2" in reason for _, _, reason in errors)

    def test_duplicate_in_a_later_chunk(self, village: Any, tmp_path: Path) -> None:
        """In a later chunk, a refused row repeating a written row's key is named a duplicate of an earlier row."""
        store, persons = self._persons(village, tmp_path)
        other_sex = "女" if persons[0].sex == "男" else "男"
        path = self._file(tmp_path, persons, lambda h, rows: rows.append([*rows[0][: h.index("性别")], other_sex, *rows[0][h.index("性别") + 1 :]]))
        errors = refused(store, path, "persons", batch_size=2)
        assert errors[0][:2] == (len(persons) + 2, "证件号码")
        assert "duplicate of an earlier row" in errors[0][2]


@attrs.frozen
class _Reading:
    code: str
    label: str
    count: int


class _Meter:
    """A plugin whose table is narrower than its columns say: what the database still refuses is named by row."""

    @hookimpl
    def fupin_tables(self, metadata: sa.MetaData) -> None:
        sa.Table("meter_readings", metadata, sa.Column("code", sa.String(8), primary_key=True), sa.Column("label", sa.String(4)),
                 sa.Column("count", sa.BigInteger), sa.Column("import_batch_id", sa.Integer))

    @hookimpl
    def fupin_importers(self) -> list[Any]:
        return [ModelKind(
            name="meter.readings", label_zh="读数", label_en="Readings", table="meter_readings", key=("code",), record_type="meter.reading",
            model=_Reading,
            columns=(Column("code", "编号", "code", required=True), Column("label", "标签", max_length=100),
                     Column("count", "读数", "int", maximum=10**30)),
        )]


class TestBulkFailures:
    """A value the checks let through and the database refuses is reported on its row and column, not as a traceback."""

    @pytest.mark.parametrize("batch_size", [5000, 2])
    def test_out_of_range_integer(self, database_url: str, pm: Any, tmp_path: Path, batch_size: int) -> None:
        """An integer beyond BIGINT (SQLite: beyond 64 bits) is refused on its row; with skip the other rows are written."""
        pm.register(_Meter(), name="meter")
        with Store.open(database_url, pm=pm, actor=Actor.from_env()) as store:
            store.init()
            store.metadata.tables["meter_readings"].create(store.engine)
            path = tmp_path / "m.csv"
            write_table(path, "csv", ["编号", "标签", "读数"], [["M1", "a", "1"], ["M2", "b", "2"], ["M3", "c", str(10**25)], ["M4", "d", "4"]])
            result = import_files(store, "meter.readings", [path], batch_size=batch_size)
            assert [(e.row, e.column) for e in result.errors] == [(4, "读数")]
            assert "the database refused the value" in result.errors[0].reason
            assert not result.committed and store.count("meter_readings") == 0
            skipped = import_files(store, "meter.readings", [path], batch_size=batch_size, on_error="skip")
            assert (skipped.inserted, skipped.rejected) == (3, 1)
            assert store.count("meter_readings") == 3

    @pytest.mark.postgres
    def test_too_long_on_postgresql(self, postgres_url: str, pm: Any, tmp_path: Path) -> None:
        """On PostgreSQL a value longer than its VARCHAR is named by row and column (not "COPY line 9")."""
        pm.register(_Meter(), name="meter")
        with Store.open(postgres_url, pm=pm, actor=Actor.from_env()) as store:
            store.init()
            store.metadata.tables["meter_readings"].create(store.engine)
            path = tmp_path / "m.csv"
            write_table(path, "csv", ["编号", "标签", "读数"], [[f"M{i}", "ok", str(i)] for i in range(9)] + [["M9", "too long", "9"]])
            result = import_files(store, "meter.readings", [path])
            assert [(e.row, e.column) for e in result.errors] == [(11, "标签")]
            assert "COPY" not in result.errors[0].reason and "too long" in result.errors[0].reason


class TestCommandLine:
    """The command line reports refused values in one line each and exits 1, writing nothing."""

    def test_hostile_values_through_the_cli(self, store: Any, database_url: str, cli: Any, tmp_path: Path) -> None:
        """NUL in a name, a negative income and an exponent: exit 1, three errors named, no row written."""
        synth = Synthesizer(seed=15)
        areas = synth.areas(3)
        groups = [a.code for a in areas if a.level == "group"]
        households = [i.household for i in synth.households(groups, 3)]
        headers, rows = _rows(AREAS, areas)
        write_table(tmp_path / "areas.csv", "csv", headers, rows)
        assert cli("--db", database_url, "import", "areas", str(tmp_path / "areas.csv")).exit_code == 0
        headers, rows = _rows(HOUSEHOLDS, households)
        rows[0][headers.index("户主姓名")] = "张\x00三"
        rows[1][headers.index("人均纯收入(元)")] = "-100"
        rows[2][headers.index("人均纯收入(元)")] = "1E+30"
        path = tmp_path / "h.jsonl"
        path.write_text("".join(json.dumps(dict(zip(headers, r)), ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        result = cli("--db", database_url, "import", "households", str(path), "--json")
        assert result.exit_code == 1 and result.exception is None or isinstance(result.exception, SystemExit)
        summary = json.loads(result.output)
        assert [(e["row"], e["column"]) for e in summary["errors"]] == [(1, "户主姓名"), (2, "人均纯收入(元)"), (3, "人均纯收入(元)")]
        assert "U+0000" in summary["errors"][0]["reason"]
        assert store.count("households") == 0


def test_dates_of_birth_are_checked_against_the_id_number() -> None:
    """(A guard for the duplicate tests above: the ID numbers they reuse encode a birth date.)"""
    assert make_id_number("530326", dt.date(1980, 1, 1), 1, "男")[6:14] == "19800101"
