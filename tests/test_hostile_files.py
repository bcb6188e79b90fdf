"""Files from anywhere (issue #15): special files, XLSX bombs and header rows named as a spreadsheet shows them.

Every hostile file is generated here, small, with openpyxl and zipfile; a run that
would hang or exhaust memory if a guard regressed is bounded by a timeout.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from fupin.errors import FupinError
from fupin.io.engine import import_files
from fupin.io.files import FileTooLarge, ReadLimits, UnreadableFile, open_table, write_table
from fupin.io.kinds import HOUSEHOLDS

FUPIN = Path(sys.executable).with_name("fupin")
HEADERS = ["户编号", "户主姓名", "证件号码"]


@pytest.fixture
def deadline() -> Iterator[None]:
    """Fail the test, rather than hang the suite, when it takes over 20 seconds."""

    def expired(*_: object) -> None:
        raise TimeoutError("the call did not return: it waits on a special file")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def workbook_bytes(*cells: tuple[str, object]) -> bytes:
    """A small workbook: a header, one row, and the cells given (reference, value)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    sheet.append(["530326001001", "张三", "11010519491231002X"])
    for reference, value in cells:
        sheet[reference] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewritten(source: bytes, path: Path, edit: dict[str, object]) -> Path:
    """``source`` with some parts replaced: name -> bytes, or a function of the old bytes."""
    with zipfile.ZipFile(io.BytesIO(source)) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            change = edit.get(info.filename)
            data = change(data) if callable(change) else (change if change is not None else data)
            new.writestr(info.filename, data)
    return path


def sheet_edit(pattern: bytes, replacement: bytes) -> dict[str, object]:
    return {"xl/worksheets/sheet1.xml": lambda xml: re.sub(pattern, replacement, xml, count=1)}


def bomb(path: Path, mib: int) -> Path:
    """A workbook whose shared-strings part inflates to ``mib`` MiB of one repeated letter."""
    source = workbook_bytes()
    with zipfile.ZipFile(io.BytesIO(source)) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename == "xl/sharedStrings.xml":
                continue
            new.writestr(info.filename, old.read(info.filename))
        with new.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>')
            block = b"a" * (1 << 20)
            for _ in range(mib):
                part.write(block)
            part.write(b"</t></si></sst>")
    return path


def run_fupin(*args: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run the ``fupin`` script in a fresh process; also return the largest resident size it reached, in MiB."""
    # The measuring process has no other children: RUSAGE_CHILDREN is the import's own peak.
    measure = (
        "import resource, subprocess, sys, json\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=120)\n"
        "print(json.dumps([p.returncode, p.stdout, p.stderr, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", measure, str(FUPIN), *args], capture_output=True, text=True, timeout=180)
    code, out, err, max_rss_kib = json.loads(proc.stdout)
    return subprocess.CompletedProcess(args, code, out, err), max_rss_kib // 1024


# -- 1. only regular files --------------------------------------------------------------


class TestSpecialFiles:
    def test_fifo_refused_at_once(self, tmp_path: Path, deadline: None) -> None:
        """A named pipe nobody writes to is refused, not waited on."""
        fifo = tmp_path / "h.csv"
        os.mkfifo(fifo)
        with pytest.raises(UnreadableFile, match="不是普通文件 / not a regular file.*named pipe") as caught:
            open_table(fifo)
        assert caught.value.exit_code == 4 and str(fifo) in str(caught.value)

    def test_symlink_to_dev_zero_refused_by_the_import(self, store, tmp_path: Path, deadline: None) -> None:
        """A link to an endless device is refused before the file is hashed."""
        link = tmp_path / "h.xlsx"
        link.symlink_to("/dev/zero")
        with pytest.raises(UnreadableFile, match="not a regular file.*character device"):
            import_files(store, "households", [link])

    def test_cli_one_line_exit_4(self, cli, sqlite_url: str, tmp_path: Path, deadline: None) -> None:
        """FIFO, directory: one line naming the file, exit 4, no traceback."""
        assert cli("--db", sqlite_url, "init").exit_code == 0
        fifo = tmp_path / "pipe.csv"
        os.mkfifo(fifo)
        for target in (fifo, tmp_path):
            result = cli("--db", sqlite_url, "import", "households", str(target))
            assert result.exit_code == 4, result.output
            assert result.exception is None or isinstance(result.exception, SystemExit)
            lines = result.output.strip().splitlines()
            assert len(lines) == 1 and "not a regular file" in lines[0] and str(target) in lines[0]


# -- 2. bounded XLSX reading ------------------------------------------------------------


class TestXlsxBounds:
    def test_far_cell_refused_by_its_dimension(self, tmp_path: Path) -> None:
        """One cell at XFD1048576: the declared dimension is the whole sheet."""
        path = tmp_path / "far.xlsx"
        path.write_bytes(workbook_bytes(("XFD1048576", "x")))
        with pytest.raises(FileTooLarge, match="declares 17179869184 cells.*--max-cells"):
            open_table(path)

    @pytest.mark.parametrize("dimension", [b"", b'<dimension ref="A1:C2"/>'])
    def test_far_cell_refused_whatever_the_dimension_says(self, tmp_path: Path, dimension: bytes) -> None:
        """calamine spans the grid from the first to the last cell: no dimension, or one that lies, changes nothing."""
        source = workbook_bytes(("XFD1048576", "x"))
        path = rewritten(source, tmp_path / "far.xlsx", sheet_edit(rb"<dimension [^>]*/>", dimension))
        with pytest.raises(FileTooLarge, match="spans 17179869184 cells"):
            open_table(path)

    def test_declared_dimension_alone(self, tmp_path: Path) -> None:
        """A dimension out of all proportion to the data is refused too, and --max-cells lets it through."""
        path = rewritten(workbook_bytes(), tmp_path / "d.xlsx", sheet_edit(rb'ref="A1:C2"', b'ref="A1:Z100000"'))
        with pytest.raises(FileTooLarge, match="declares 2600000 cells .100000 rows by 26 columns.*--max-cells"):
            open_table(path)
        with open_table(path, limits=ReadLimits(max_cells=3_000_000)) as table:
            assert [cells["户主姓名"] for _, cells in table] == ["张三"]

    def test_beyond_excel(self, tmp_path: Path) -> None:
        """A reference past Excel's last column or row is refused whatever the limits."""
        path = rewritten(workbook_bytes(), tmp_path / "x.xlsx", sheet_edit(rb'ref="A1:C2"', b'ref="A1:XFE2"'))
        with pytest.raises(FileTooLarge, match="beyond Excel's 1048576 by 16384"):
            open_table(path, limits=ReadLimits(max_cells=10**12))

    def test_sparse_sheet_read(self, tmp_path: Path) -> None:
        """A legitimately sparse sheet (a note far right and far down, under its header) is read."""
        path = tmp_path / "sparse.xlsx"
        path.write_bytes(workbook_bytes(("AZ1", "备注"), ("AZ5000", "迁出")))
        with open_table(path) as table:
            assert table.info.headers == (*HEADERS, "备注")
            assert [number for number, _ in table] == [2, 5000]

    def test_cells_without_references(self, tmp_path: Path) -> None:
        """Cells and rows without r attributes are counted generously: a far row of many cells is refused."""
        cells = b"<c/>" * 2000
        path = rewritten(
            workbook_bytes(), tmp_path / "noref.xlsx",
            sheet_edit(rb"</sheetData>", b'<row r="900000">' + cells + b"</row></sheetData>"),
        )
        with pytest.raises(FileTooLarge, match="may span"):
            open_table(path)
        small = rewritten(workbook_bytes(), tmp_path / "ok.xlsx", sheet_edit(rb"</sheetData>", b"<row><c/></row></sheetData>"))
        with open_table(small) as table:
            assert len(list(table)) == 1

    def test_prefixed_cells_are_scanned(self, tmp_path: Path) -> None:
        """Cells written with a namespace prefix do not slip past the fast scan."""
        far = b'<x:row r="1048576"><x:c r="XFD1048576"><x:v>1</x:v></x:c></x:row>'
        path = rewritten(
            workbook_bytes(), tmp_path / "p.xlsx",
            sheet_edit(rb"</sheetData>", b'<x:sheetData xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                       + far + b"</x:sheetData></sheetData>"),
        )
        with pytest.raises(FileTooLarge, match="may span"):
            open_table(path)

    def test_rows_out_of_order(self, tmp_path: Path) -> None:
        """A last cell above the first would make calamine's row count wrap around."""
        path = rewritten(
            workbook_bytes(), tmp_path / "o.xlsx",
            sheet_edit(rb"<sheetData>", b'<sheetData><row r="50"><c r="A50"><v>1</v></c></row>'),
        )
        with pytest.raises(FileTooLarge, match="rows out of order"):
            open_table(path)

    def test_bomb_refused_by_ratio(self, tmp_path: Path) -> None:
        """A shared string of 64 MiB in a file of a few hundred KB: refused before anything inflates it."""
        path = bomb(tmp_path / "bomb.xlsx", 64)
        assert path.stat().st_size < 1 << 20
        with pytest.raises(FileTooLarge, match=r"xl/sharedStrings.xml inflates \d+ times, over the limit of 200:1.*--max-ratio"):
            open_table(path)

    def test_part_and_total_sizes(self, tmp_path: Path) -> None:
        """Declared sizes are held to --max-part-mb and --max-total-mb."""
        path = bomb(tmp_path / "big.xlsx", 3)
        with pytest.raises(FileTooLarge, match="over the limit of 2 MiB .raise it with --max-part-mb"):
            open_table(path, limits=ReadLimits(max_part_mb=2, max_ratio=10**6))
        with pytest.raises(FileTooLarge, match="in all, over the limit of 2 MiB .raise it with --max-total-mb"):
            open_table(path, limits=ReadLimits(max_part_mb=4, max_total_mb=2, max_ratio=10**6))

    def test_damaged_files(self, tmp_path: Path) -> None:
        """A cut-short archive, a damaged part, a password-protected workbook: one line, exit 4."""
        source = workbook_bytes()
        cut = tmp_path / "cut.xlsx"
        cut.write_bytes(source[: len(source) // 2])
        damaged = tmp_path / "damaged.xlsx"
        data = bytearray(source)
        start = data.find(b"xl/worksheets/sheet1.xml") + len("xl/worksheets/sheet1.xml")
        data[start + 10 : start + 60] = bytes(50)  # the sheet's deflate stream, in its first local entry
        damaged.write_bytes(bytes(data))
        encrypted = tmp_path / "locked.xlsx"
        encrypted.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1000))
        for path, message in ((cut, "not a readable XLSX"), (damaged, "not a readable XLSX"), (encrypted, "password")):
            with pytest.raises(UnreadableFile, match=message) as caught:
                open_table(path)
            assert caught.value.exit_code == 4 and "\n" not in str(caught.value)

    def test_cli_far_cell_and_bomb(self, cli, sqlite_url: str, tmp_path: Path) -> None:
        """Through the ``fupin`` script: no abort (134), no traceback, the limit named, memory small."""
        assert cli("--db", sqlite_url, "init").exit_code == 0
        far = tmp_path / "far.xlsx"
        far.write_bytes(workbook_bytes(("XFD1048576", "x")))
        big = bomb(tmp_path / "bomb.xlsx", 256)
        for path, limit in ((far, "--max-cells"), (big, "--max-ratio")):
            proc, max_rss_mib = run_fupin("--db", sqlite_url, "import", "households", str(path))
            assert proc.returncode == 1, proc.stderr
            assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
            assert limit in proc.stderr and str(path) in proc.stderr
            assert max_rss_mib < 300
        # The option lets the file through to the next check.
        proc, _ = run_fupin("--db", sqlite_url, "import", "households", str(big), "--max-ratio", "100000", "--max-part-mb", "100")
        assert proc.returncode == 1 and "--max-part-mb" in proc.stderr


# -- 3. header rows named as the spreadsheet shows them ---------------------------------


def header_file(path: Path, fmt: str, headers: list[str], title: str | None = None) -> Path:
    write_table(path, fmt, headers, [["530326001001"] * len(headers)], title=title)
    return path


class TestHeaderRows:
    REQUIRED = [c.zh for c in HOUSEHOLDS.columns if c.required]

    @pytest.mark.parametrize(("fmt", "title", "row"), [("csv", None, 1), ("xlsx", None, 1), ("xlsx", "者海镇花名册", 2)])
    def test_missing_column_on_the_header_row(self, store, tmp_path: Path, fmt: str, title: str | None, row: int) -> None:
        """A missing required column is reported on the header's own row, below any title rows."""
        path = header_file(tmp_path / f"h.{fmt}", fmt, self.REQUIRED[1:], title)
        result = import_files(store, "households", [path])
        assert [(e.row, e.column) for e in result.errors] == [(row, "户编号")]
        assert str(result.errors[0]).startswith(f"h.{fmt} row {row} 户编号")

    def test_repeated_column_on_the_header_row(self, store, tmp_path: Path) -> None:
        """The same column under its Chinese and English names: reported on the header row."""
        path = header_file(tmp_path / "h.xlsx", "xlsx", [*self.REQUIRED, "head_name"], title="花名册")
        result = import_files(store, "households", [path])
        assert [(e.row, e.column) for e in result.errors] == [(2, "head_name")]

    def test_json_lines_header_is_line_1(self, store, tmp_path: Path) -> None:
        path = header_file(tmp_path / "h.jsonl", "jsonl", self.REQUIRED[1:])
        assert [e.row for e in import_files(store, "households", [path]).errors] == [1]

    def test_cli_json_one_document(self, cli, sqlite_url: str, tmp_path: Path) -> None:
        """``--json`` prints one JSON document holding the header errors, with their rows."""
        assert cli("--db", sqlite_url, "init").exit_code == 0
        path = header_file(tmp_path / "h.xlsx", "xlsx", self.REQUIRED[1:], title="花名册")
        result = cli("--db", sqlite_url, "import", "households", str(path), "--json")
        assert result.exit_code == 1
        document = json.loads(result.stdout)
        assert [(e["row"], e["column"]) for e in document["errors"]] == [(2, "户编号")]


def test_limits_reach_the_importer(store, tmp_path: Path) -> None:
    """import_files(limits=...) passes the bounds to the reader."""
    path = rewritten(workbook_bytes(), tmp_path / "d.xlsx", sheet_edit(rb'ref="A1:C2"', b'ref="A1:Z100000"'))
    with pytest.raises(FileTooLarge):
        import_files(store, "households", [path])
    result = import_files(store, "households", [path], limits=ReadLimits(max_cells=3_000_000))
    assert not any("cells" in e.reason for e in result.errors)
    assert isinstance(FileTooLarge("x"), FupinError) and FileTooLarge.exit_code == 1
