"""Tables in files: read CSV, XLSX and JSON lines as rows, write them back out.

Reading yields ``(row_number, {header: value})`` whatever the format, with the row
number a user sees when the file is open in a spreadsheet, so that the import engine
can say "row 17". Printed registers put title rows above the header; they are
skipped. CSV and JSON lines are streamed, so memory stays flat as files grow.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import functools
import html
import io
import itertools
import json
import os
import posixpath
import re
import stat
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import IO, Any

import attrs
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from fupin.errors import FupinError, WriteFailed
from fupin.text import display_width

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "FileTooLarge",
    "LossyNumber",
    "CSV_MAX_FIELD",
    "CSV_MAX_LINE",
    "ReadLimits",
    "ShapeError",
    "Table",
    "TableInfo",
    "normalize_cell",
    "UnreadableFile",
    "open_table",
    "require_regular_file",
    "write_table",
]

FORMATS = ("csv", "xlsx", "jsonl")
#: File extension -> format.
EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
#: Name of the hidden sheet that holds the drop-down lists of a template.
OPTIONS_SHEET = "选项"
#: Rows of a template that get the drop-down lists.
TEMPLATE_ROWS = 10_000
DROPDOWN_ERROR = "请从下拉列表中选择 / choose a value from the list"

Row = tuple[int, dict[str, object]]
Rows = Generator[Row, None, None]

_SNIFF_BYTES = 1 << 20
#: The most characters one CSV cell may hold: a questionnaire's answers as JSON take
#: a few hundred KB; a larger cell is refused naming its row (csv's own default is 128 KiB).
CSV_MAX_FIELD = 1 << 20
#: The most characters one physical line of a CSV file may hold; a longer line is refused
#: naming its row before it is held in memory whole (a hostile file may be one 2 GB line).
CSV_MAX_LINE = 16 << 20
# Excel keeps 15 significant digits: from 16 digits on, a number has lost digits.
_LOSSY_FROM = 1e15
# Full-width ASCII forms to ASCII; zero-width space and BOM (pasted from web pages) removed.
_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x200B: None, 0xFEFF: None}
# Bytes that did not decode, as open(..., errors="surrogateescape") leaves them.
_UNDECODABLE = re.compile("[\udc80-\udcff]")


def normalize_cell(value: str) -> str:
    """Strip whitespace and fold full-width ASCII forms to ASCII.

    Whitespace includes the ideographic space U+3000 and the no-break space; zero-width
    spaces and BOMs are removed everywhere. Only U+FF01..U+FF5E are folded (``１２３`` ->
    ``123``, ``（`` -> ``(``, ``：`` -> ``:``); other text, CJK included, is left alone.

    Example:
        ``normalize_cell("\\u3000１１０１０５（旧） ")`` returns ``"110105(旧)"``.
    """
    return value.translate(_FOLD).strip()


class LossyNumber(str):
    """Text of a spreadsheet cell holding a number of 16 or more digits.

    Excel stores numbers as doubles and keeps 15 significant digits, so an 18-digit ID
    number typed as a number has already lost its last digits: the text is what Excel
    shows (``"110105194912310000"``). The import engine should refuse it with "stored as
    a number, the last digits are lost; format the column as text".
    """

    __slots__ = ()


@attrs.frozen
class TableInfo:
    """What was found when a table was opened.

    Attributes:
        path: The file.
        format: ``"csv"``, ``"xlsx"`` or ``"jsonl"``.
        encoding: CSV only: the encoding used (``"utf-8"``, ``"utf-8-sig"``, ``"gb18030"``...).
        sheet: XLSX only: the name of the sheet read.
        header_row: 1-based row number of the header as a spreadsheet shows it; 0 for JSON lines.
        headers: Cleaned header names in file order, columns without a header left out. For
            JSON lines, the keys of the first object.
        header_rows: How many rows the header takes: 2 for an XLSX header of parent cells
            merged over child cells (see `open_table`); the data start at
            ``header_row + header_rows``.
        notices: What the reader found worth saying but not refusing, one line each
            (hidden rows and columns of the sheet read), bilingual.
        last_row: XLSX only: the number of the sheet's last row (for progress); None otherwise.
    """

    path: str
    format: str
    encoding: str | None
    sheet: str | None
    header_row: int
    headers: tuple[str, ...]
    header_rows: int = 1
    notices: tuple[str, ...] = ()
    last_row: int | None = None


class UnreadableFile(FupinError):
    """A file that cannot be read at all: missing, not a regular file, or a broken container.

    Exit status 4 (the environment), as for any file that cannot be read.
    """

    exit_code = 4


class ShapeError(FupinError):
    """A table whose shape would lose data: data under a blank header or beyond the last one,
    a formula without a computed value, a header that cannot be read, a cell or line too long.

    Names the first row concerned as a spreadsheet numbers rows (header rows included)
    and, when there is one, the column (its letter, with its header or "空表头 / blank
    header"). Raised by `open_table` for what it finds before the first row is read
    (the importer reports it as the file's error and skips the file), and while
    iterating for what it finds in the rows of a CSV file (the import stops).

    Attributes:
        path: The file.
        row: The row, 1-based, as a spreadsheet shows it.
        column: The column (empty when the problem is the whole row).
        reason: Why, bilingual.
    """

    def __init__(self, path: str, row: int, column: str, reason: str) -> None:
        where = f", 列 / column {column}" if column else ""
        super().__init__(f"{path}: 第 {row} 行 / row {row}{where}: {reason}")
        self.path, self.row, self.column, self.reason = path, row, column, reason

    def __reduce__(self) -> tuple[Any, ...]:  # travels from the import's parsing process
        return (type(self), (self.path, self.row, self.column, self.reason))


class FileTooLarge(FupinError):
    """An XLSX file goes over one of the `ReadLimits`; the message names the limit and its option."""


@attrs.frozen
class ReadLimits:
    """Bounds an XLSX file must stay within before python-calamine reads it.

    An XLSX file is a zip archive of XML parts. calamine inflates the parts it needs
    whole and holds a sheet as a dense grid from its first to its last cell, so a
    file of a few kilobytes can ask for hundreds of gigabytes. The container and each
    worksheet are checked first with ``zipfile``, streaming, without keeping the
    inflated XML.

    ==========================  ============================  =====================
    limit                       default                       ``fupin import``
    ==========================  ============================  =====================
    inflated size of one part   1024 MiB                      ``--max-part-mb``
    inflated size of all parts  2048 MiB                      ``--max-total-mb``
    inflation ratio of a part   200:1 (parts over 1 MiB)      ``--max-ratio``
    cells of a sheet's grid     max(1,000,000, XML bytes / 4) ``--max-cells``
    rows, columns of a sheet    1,048,576 and 16,384 (Excel)  (fixed)
    ==========================  ============================  =====================

    The cells of a sheet are counted both as its ``<dimension>`` declares them and as
    its cells span them (first to last row, leftmost to rightmost column). A cell
    takes at least 4 bytes of XML, so a grid larger than a quarter of the sheet's XML
    is mostly empty cells that calamine would still allocate; ``max_cells`` lets
    sparse sheets of any size through up to that many cells.

    Attributes:
        max_part_mb: Largest inflated size of one part, in MiB.
        max_total_mb: Largest inflated size of all parts together, in MiB.
        max_ratio: Largest inflated / compressed size of one part over 1 MiB.
        max_cells: Cells of a sheet's grid always allowed, whatever its size.
    """

    max_part_mb: int = 1024
    max_total_mb: int = 2048
    max_ratio: float = 200
    max_cells: int = 1_000_000


class Table:
    """An open table: ``info`` describes it and iterating yields ``(row_number, cells)``.

    ``cells`` maps each header to its value; rows that are entirely blank are skipped
    (their numbers are not reused). Each iteration reads from the first row again. Use
    the table as a context manager so that a file left half read is closed.
    """

    def __init__(self, info: TableInfo, rows: Callable[[], Rows], close: Callable[[], None] | None = None) -> None:
        self.info = info
        self._rows = rows
        self._close = close
        self._iterators: list[Rows] = []

    def __iter__(self) -> Iterator[Row]:
        rows = self._rows()
        self._iterators.append(rows)
        return rows

    def close(self) -> None:
        """Close the file; iterations in progress end."""
        for rows in self._iterators:
            rows.close()
        self._iterators.clear()
        if self._close is not None:
            self._close()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_table(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    is_header: Callable[[Sequence[str]], bool] | None = None,
    max_title_rows: int = 10,
    limits: ReadLimits | None = None,
    known_header: Callable[[str], bool] | None = None,
) -> Table:
    """Open a CSV, XLSX or JSON-lines file as a table of rows.

    The header is the first of the first ``max_title_rows + 1`` non-blank rows for which
    ``is_header`` is true; rows above it are titles. Header names are cleaned with
    `normalize_cell` and embedded line breaks are removed.

    Nothing is dropped without a word: a value under a blank header cell or right of the
    last header is refused (`ShapeError`) naming its column and the first row holding
    one, and so is an XLSX formula without a computed value.

    CSV is streamed. Its encoding, when not given, is UTF-8 with BOM, UTF-16 with BOM,
    else read from the first megabyte: UTF-8 when it decodes as UTF-8, or when its valid
    UTF-8 characters outnumber its undecodable bytes or come first (a UTF-8 file with a
    GBK row: that row is then refused by number), else GB18030 (a superset of GBK and
    GB2312). The delimiter is a comma, a tab or a semicolon, whichever finds the header
    soonest (a comma on a tie). A cell may hold `CSV_MAX_FIELD` characters (1 MiB) and a
    line `CSV_MAX_LINE` (16 MiB); a longer one is refused naming its row, before it is
    held in memory whole.

    XLSX is read with python-calamine, which holds the whole sheet in memory (openpyxl's
    read-only mode streams but is about 12 times slower). Its header may take two rows,
    as on the 建档立卡 forms: when a header cell is merged across the columns of the row
    below (务工情况 over 务工地点 and 务工时间), the row below holds the child headers,
    and cells merged down over both rows (户编号) are their column's header. A child's
    column is named "parent child" (``"务工情况 务工地点"``) unless ``known_header``
    knows the child alone and not the joined name: then the child (``"务工时间"``).
    Hidden rows and columns of the sheet are read like the others and listed in
    ``info.notices``. JSON lines are streamed, one object per line.

    Values are text (stripped; empty -> None), except in JSON lines, where they are kept
    as parsed. In XLSX, numbers become plain text (``3.0`` -> ``"3"``, never scientific
    notation), a number of 16 or more digits a `LossyNumber`, dates ``"YYYY-MM-DD"``,
    date-times ISO date-times and booleans ``"true"``/``"false"``.

    Args:
        path: The file.
        format: ``"csv"``, ``"xlsx"`` or ``"jsonl"``; by default from the extension.
        encoding: CSV only: the encoding, instead of detecting it.
        sheet: XLSX only: a sheet name, or a 1-based index as digits; by default the
            first visible sheet.
        is_header: Says whether a row of cleaned cells is the header. By default: at
            least two non-empty cells, none containing a colon (so that a
            "填报单位: ... 日期: ..." line is not taken for the header).
        max_title_rows: How many non-blank rows may stand above the header.
        limits: XLSX only: the bounds a workbook must stay within before it is read
            (see `ReadLimits`); the defaults by default.
        known_header: XLSX only: says whether a cleaned name is one the caller knows;
            used to name the columns of a two-row header. By default none is known.

    Returns:
        The table, with its header already read.

    Raises:
        UnreadableFile: The file is missing, not a regular file, unreadable, or not a
            sound XLSX container (exit status 4).
        FileTooLarge: An XLSX file goes over one of ``limits``.
        ShapeError: Data would be lost or misread (see above); while iterating a CSV
            file too (a value beyond the header, a cell or line too long).
        FupinError: The file is of an unknown format, has no header, or has a
            duplicate header. While iterating: a row does not decode or (JSON lines)
            is not a JSON object.
    """
    path = str(path)
    format = _format_of(path, format)
    require_regular_file(path)
    is_header = is_header or _default_is_header
    try:
        if format == "csv":
            return _open_csv(path, encoding, is_header, max_title_rows)
        if format == "xlsx":
            return _open_xlsx(path, sheet, is_header, max_title_rows, limits or ReadLimits(), known_header)
        return _open_jsonl(path)
    except OSError as exc:
        raise UnreadableFile(f"{path}: 无法读取 / cannot read: {exc.strerror or exc}") from None


def require_regular_file(path: str | os.PathLike[str]) -> os.stat_result:
    """Refuse at once anything but a regular file (symbolic links followed).

    A named pipe, a device such as ``/dev/zero``, a socket or a directory would make
    a reader wait or read for ever; they are refused before anything opens them.

    Returns:
        The file's ``os.stat`` result.

    Raises:
        UnreadableFile: The file is missing, cannot be looked at, or is not a regular file.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise UnreadableFile(f"{path}: 文件不存在 / no such file") from None
    except OSError as exc:
        raise UnreadableFile(f"{path}: 无法读取 / cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise UnreadableFile(f"{path}: 不是普通文件 / not a regular file ({_file_type(st.st_mode)})")
    return st


def _file_type(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "directory 目录"),
        (stat.S_ISFIFO, "named pipe 命名管道"),
        (stat.S_ISCHR, "character device 字符设备"),
        (stat.S_ISBLK, "block device 块设备"),
        (stat.S_ISSOCK, "socket 套接字"),
    ):
        if test(mode):
            return name
    return "special file 特殊文件"


def write_table(
    target: str | os.PathLike[str] | IO[bytes],
    format: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    dropdowns: Mapping[int, Sequence[str]] | None = None,
    sheet_title: str = "数据",
    title: str | None = None,
) -> int:
    """Write a table to a file or a binary stream.

    CSV is UTF-8 with a BOM (so that Excel shows Chinese text) and ``\\r\\n`` line ends.
    XLSX is streamed unless ``dropdowns`` are given: then it is a template, with the
    columns formatted as text (an 18-digit ID typed in stays whole), each drop-down
    column validated against a list kept on the hidden sheet ``选项``. Strings are
    always written as text, never as numbers or formulas. JSON lines get one object per
    row; dates become ISO strings.

    Args:
        target: A path, or a binary stream such as ``sys.stdout.buffer``.
        format: ``"csv"``, ``"xlsx"`` or ``"jsonl"``.
        headers: The header names.
        rows: Rows of values, one per header; None is an empty cell (null in JSON).
        dropdowns: XLSX only: 0-based column index -> allowed values. Makes a template.
        sheet_title: XLSX only: the name of the data sheet.
        title: CSV and XLSX: a title written in row 1 above the header, as printed
            registers have; `open_table` skips it.

    Returns:
        The number of rows written, header and title not counted.

    Raises:
        FupinError: The format is unknown, the target cannot be written, or a value
            holds a control character that XLSX does not allow.
    """
    if format not in FORMATS:
        raise FupinError(f"未知格式 / unknown format {format!r}; supported: {', '.join(FORMATS)}")
    try:
        if format == "csv":
            return _write_csv(target, headers, rows, title)
        if format == "xlsx":
            return _write_xlsx(target, headers, rows, dropdowns, sheet_title, title)
        return _write_jsonl(target, headers, rows)
    except OSError as exc:
        raise WriteFailed(f"{target}: 无法写入 / cannot write: {exc.strerror or exc}") from None


# -- reading: shared ----------------------------------------------------------------------


def _format_of(path: str, format: str | None) -> str:
    if format is not None:
        if format not in FORMATS:
            raise FupinError(f"未知格式 / unknown format {format!r}; supported: {', '.join(FORMATS)}")
        return format
    extension = os.path.splitext(path)[1].lower()
    if extension in EXTENSIONS:
        return EXTENSIONS[extension]
    hint = "; 请另存为 .xlsx / save it as .xlsx" if extension == ".xls" else ""
    raise FupinError(
        f"{path}: 不支持的文件格式 / unsupported file format {extension or '(no extension)'!r}{hint}; "
        f"supported: {', '.join(EXTENSIONS)}"
    )


@functools.lru_cache(maxsize=1024)
def _clean_header(value: str | None) -> str:
    """A header cell without surrounding space, full-width forms or line breaks."""
    name = ""
    for line in (value or "").splitlines():
        line = normalize_cell(line)
        if not line:
            continue
        # "ID\nnumber" -> "ID number", but "证件\n号码" -> "证件号码"
        ascii_words = name[-1:].isascii() and name[-1:].isalnum() and line[0].isascii() and line[0].isalnum()
        name += (" " if ascii_words else "") + line
    return name


def _default_is_header(cells: Sequence[str]) -> bool:
    filled = [cell for cell in cells if cell]
    return len(filled) >= 2 and not any(":" in cell for cell in filled)


class _NoHeader(FupinError):
    pass


def _find_header(
    path: str,
    rows: Iterable[tuple[int, Sequence[str | None]]],
    is_header: Callable[[Sequence[str]], bool],
    max_title_rows: int,
) -> tuple[int, list[str]]:
    """The row number and cleaned cells of the header."""
    scanned = 0
    first: tuple[int, list[str]] | None = None
    for number, raw in rows:
        cells = [_clean_header(cell) for cell in raw]
        if not any(cells):
            continue
        if is_header(cells):
            return number, cells
        first = first or (number, cells)
        scanned += 1
        if scanned > max_title_rows:
            break
    if first is None:
        raise _NoHeader(f"{path}: 文件是空的, 没有表头 / the file is empty: no header row")
    shown = " | ".join(cell for cell in first[1] if cell)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    raise _NoHeader(
        f"{path}: 前 {scanned} 个非空行中没有表头 / no header row in the first {scanned} non-blank rows "
        f"(row {first[0]}: {shown!r})"
    )


def _columns(path: str, headers: Sequence[str], column_name: Callable[[int], str]) -> list[tuple[int, str]]:
    """(index, name) of the columns that have a header; duplicates refused."""
    seen: dict[str, int] = {}
    for index, name in enumerate(headers):
        if not name:
            continue
        if name in seen:
            where = f"{column_name(seen[name])} and {column_name(index)}"
            raise FupinError(f"{path}: 表头 {name!r} 重复 / duplicate header {name!r} in columns {where}")
        seen[name] = index
    return [(index, name) for name, index in seen.items()]


def _blank(cells: dict[str, object]) -> bool:
    return all(value is None for value in cells.values())


# -- reading: CSV ------------------------------------------------------------------------


def _detect_encoding(path: str) -> str:
    """The encoding of a CSV file, from its BOM or its first megabyte (never the whole file)."""
    with open(path, "rb") as file:
        head = file.read(_SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text"
    # Not final unless the whole file was read: a character cut at the end of the sample is fine.
    text = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(head, final=len(head) < _SNIFF_BYTES)
    bad = _UNDECODABLE.search(text)
    if bad is None:
        return "utf-8"
    # GBK text read as UTF-8 is mostly undecodable bytes, with a rare character of three
    # bytes by chance; a UTF-8 file with a GBK row has many valid characters, or some
    # before the bad row. Such a file is read as UTF-8, so that the bad row is named.
    valid = _WIDE_CHARACTER.findall(text)
    if len(valid) >= len(_UNDECODABLE.findall(text)) or len(_WIDE_CHARACTER.findall(text, 0, bad.start())) >= 2:
        return "utf-8"
    return "gb18030"


# Characters of three or four bytes in UTF-8 (CJK among them); lone surrogates left out.
_WIDE_CHARACTER = re.compile("[\u0800-\ud7ff\ue000-\U0010ffff]")


class _LineTooLong(Exception):
    pass


def _lines(file: IO[str]) -> Iterator[str]:
    """The file's lines; one longer than `CSV_MAX_LINE` is refused before it is held whole."""
    readline = file.readline
    limit = CSV_MAX_LINE + 1
    while line := readline(limit):
        if len(line) == limit and line[-1] not in "\r\n":
            raise _LineTooLong
        yield line


def _csv_reader(file: IO[str], delimiter: str) -> Iterator[list[str]]:
    # csv's own limit on a cell is 128 KiB; a questionnaire's answers as JSON may be larger.
    # The limit is the process's: raised, never lowered.
    if csv.field_size_limit() < CSV_MAX_FIELD:
        csv.field_size_limit(CSV_MAX_FIELD)
    return csv.reader(_lines(file), delimiter=delimiter)


def _csv_records(path: str, file: IO[str], encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Records numbered as a spreadsheet numbers rows: a quoted line break stays in its row."""
    number = 0
    try:
        for number, record in enumerate(_csv_reader(file, delimiter), start=1):
            if _UNDECODABLE.search("".join(record)):
                other = "utf-8" if encoding.startswith("gb") else "gb18030"
                raise FupinError(
                    f"{path}: 第 {number} 行不是有效的 {encoding} 文本 / row {number} is not valid {encoding} text; "
                    f"整个文件是 {other} 编码时用 --encoding {other}, 混用两种编码时请整个另存为 UTF-8 / "
                    f"try --encoding {other} if the whole file is {other}; a file mixing two encodings must be "
                    "saved again, all as UTF-8"
                )
            yield number, record
    except (csv.Error, _LineTooLong) as exc:
        raise _unparsable(path, number + 1, exc) from None


def _unparsable(path: str, number: int, exc: csv.Error | _LineTooLong) -> FupinError:
    if isinstance(exc, _LineTooLong):
        return ShapeError(
            path, number, "", f"这一行超过 {CSV_MAX_LINE} 个字符 / the line is longer than {CSV_MAX_LINE} characters "
            "(16 MiB), the most a CSV line may hold",
        )
    if "field larger than field limit" in str(exc):
        return ShapeError(
            path, number, "", f"有一个单元格超过 {CSV_MAX_FIELD} 个字符 / a cell is longer than {CSV_MAX_FIELD} "
            "characters (1 MiB), the most a CSV cell may hold",
        )
    return FupinError(f"{path}: 第 {number} 行无法解析 / row {number} cannot be parsed: {exc}")


def _csv_column(index: int) -> str:
    """A CSV column by its letter, as a spreadsheet shows it, and its number: ``"D (第 4 列, 空表头 / column 4, blank header)"``."""
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(index + 1)} (第 {index + 1} 列, 空表头 / column {index + 1}, blank header)"


def _open_csv(
    path: str, encoding: str | None, is_header: Callable[[Sequence[str]], bool], max_title_rows: int
) -> Table:
    if encoding is None:
        encoding = _detect_encoding(path)
    else:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise FupinError(f"未知编码 / unknown encoding {encoding!r}") from None

    def reopen() -> IO[str]:
        # Undecodable bytes become lone surrogates, so that the row holding them can be named.
        return open(path, encoding=encoding, errors="surrogateescape", newline="")

    # The delimiter is the one that finds the header soonest; on a tie a comma, then a tab.
    # A delimiter that fails (no header; a comma file read with tabs has long cells) is passed over.
    found: list[tuple[int, list[str], str]] = []
    failures: list[FupinError] = []
    for delimiter in (",", "\t", ";"):
        with reopen() as file:
            try:
                header_row, header = _find_header(
                    path, _csv_records(path, file, encoding, delimiter), is_header, max_title_rows
                )
            except FupinError as exc:
                failures.append(exc)
                continue
        found.append((header_row, header, delimiter))
    if not found:
        raise failures[0]
    header_row, header, delimiter = min(found, key=lambda candidate: candidate[0])
    columns = _columns(path, header, lambda index: str(index + 1))
    width = len(header)
    names = [name for _, name in columns]
    at = [index for index, _ in columns]
    # Usually every header is named: the cells are then the record's first ones, in order.
    leading = at == list(range(len(at)))
    # Columns under a blank header cell: a value there is refused, not dropped.
    blank = [index for index, name in enumerate(header) if not name]

    def refuse(number: int, record: list[str]) -> None:
        index = next(i for i in itertools.chain(blank, range(width, len(record))) if i < len(record) and record[i].strip())
        reason = _unheaded_reason(number == header_row + 1)
        if index >= width:
            used = max(i for i, cell in enumerate(record) if cell.strip()) + 1
            reason = f"第 {number} 行有 {used} 个单元格, 表头只有 {width} 列 / row {number} has {used} cells but the header has {width}; {reason}"
        raise ShapeError(path, number, _csv_column(index), reason)

    def rows() -> Rows:
        # Decoded strictly, with no check per row: a file is undecodable rarely,
        # and then it is read again, checking each row (_csv_records), to name the row.
        with open(path, encoding=encoding, newline="") as file:
            records = enumerate(_csv_reader(file, delimiter), start=1)
            number = header_row
            try:
                for number, record in itertools.islice(records, header_row, None):
                    if len(record) > width and any(cell.strip() for cell in record[width:]):
                        refuse(number, record)
                    if blank and any(record[i].strip() for i in blank if i < len(record)):
                        refuse(number, record)
                    if leading and len(record) >= len(at):
                        values = [cell.strip() or None for cell in record[: len(at)]]
                    else:
                        values = [(record[i].strip() or None) if i < len(record) else None for i in at]
                    if any(values):  # text or None: a row of None only is blank
                        yield number, dict(zip(names, values))
            except UnicodeDecodeError:
                with reopen() as again:  # names the row, or says the file cannot be parsed
                    for _ in _csv_records(path, again, encoding, delimiter):
                        pass
                raise FupinError(f"{path}: 不是有效的 {encoding} 文本 / not valid {encoding} text") from None
            except (csv.Error, _LineTooLong) as exc:
                raise _unparsable(path, number + 1, exc) from None

    info = TableInfo(path, "csv", encoding, None, header_row, tuple(name for _, name in columns))
    return Table(info, rows)


# -- reading: XLSX -----------------------------------------------------------------------


def _number_text(value: float | int) -> str:
    if isinstance(value, int) or (value.is_integer() and abs(value) < _LOSSY_FROM):
        text = str(int(value))
    else:
        # 15 significant digits, as Excel shows them; Decimal avoids scientific notation.
        text = format(Decimal(format(value, ".15g")), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    return LossyNumber(text) if abs(value) >= _LOSSY_FROM else text


def _xlsx_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number_text(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _pick_sheet(path: str, workbook: CalamineWorkbook, sheet: str | None) -> str:
    names = list(workbook.sheet_names)
    if sheet is None:
        visible = [
            m.name
            for m in workbook.sheets_metadata
            if m.visible == SheetVisibleEnum.Visible and m.typ == SheetTypeEnum.WorkSheet
        ]
        return (visible or names)[0]
    if sheet in names:
        return sheet
    if sheet.isdigit() and 1 <= int(sheet) <= len(names):
        return names[int(sheet) - 1]
    raise FupinError(f"{path}: 没有工作表 {sheet!r} / no sheet {sheet!r}; sheets: {', '.join(names)}")


def _open_xlsx(
    path: str,
    sheet: str | None,
    is_header: Callable[[Sequence[str]], bool],
    max_title_rows: int,
    limits: ReadLimits,
    known_header: Callable[[str], bool] | None,
) -> Table:
    # calamine inflates parts whole as it opens the workbook: the container is checked before.
    scans = _check_xlsx(path, limits)
    try:
        workbook = CalamineWorkbook.from_path(path)
    except CalamineError as exc:
        raise FupinError(f"{path}: 不是可读的 XLSX 文件 / not a readable XLSX file: {exc}") from None
    try:
        name = _pick_sheet(path, workbook, sheet)
        try:
            data = workbook.get_sheet_by_name(name)
        except CalamineError as exc:
            raise FupinError(f"{path}: 工作表 {name!r} 无法读取 / sheet {name!r} cannot be read: {exc}") from None
        first_column = data.start[1] if data.start else 0

        def sheet_rows() -> Iterator[tuple[int, list[Any]]]:
            if data.start is None:  # an empty sheet; iter_rows() fails on it
                return iter(())
            # iter_rows() yields the empty rows above the used range too, so the count is the real row number;
            # its columns start at the used range's first column.
            return enumerate(data.iter_rows(), start=1)

        cleaned = ((number, [_xlsx_value(cell) for cell in row]) for number, row in sheet_rows())
        header_row, header = _find_header(path, cleaned, is_header, max_title_rows)
        from openpyxl.utils import get_column_letter

        def letter(index: int) -> str:
            return get_column_letter(first_column + index + 1)

        scan = scans.get(name) or _SheetScan()
        below = next(itertools.islice(sheet_rows(), header_row, None), (0, []))[1]
        header_rows, header = _two_row_header(
            path, header_row, header, [_clean_header(_xlsx_value(cell)) for cell in below],
            [(t, l - first_column - 1, b, r - first_column - 1) for t, l, b, r in scan.merges if t == header_row],
            known_header, letter,
        )
        data_row = header_row + header_rows
        columns = _columns(path, header, letter)
        _refuse_uncomputed(path, scan, header_row, header, first_column)
        width = max(len(header), data.width)
        unheaded = [index for index in range(width) if index >= len(header) or not header[index]]
        if unheaded:
            _refuse_unheaded(path, sheet_rows(), data_row, unheaded, letter, header_rows)
        last_row = data.end[0] + 1 if data.end else 0
        notices = _hidden_notices(scan, (data_row, last_row), (first_column + 1, first_column + width))
    except BaseException:
        workbook.close()
        raise

    def rows() -> Rows:
        for number, row in sheet_rows():
            if number < data_row:
                continue
            cells = {column: _xlsx_value(row[i]) if i < len(row) else None for i, column in columns}
            if not _blank(cells):
                yield number, cells

    info = TableInfo(
        path, "xlsx", None, name, header_row, tuple(column for _, column in columns), header_rows, notices, last_row
    )
    return Table(info, rows, workbook.close)


_MERGE_HINT = "请把表头合并为一行 (每列一个表头) / merge the header into one row, one header per column"


def _two_row_header(
    path: str,
    number: int,
    header: list[str],
    below: list[str],
    spans: list[tuple[int, int, int, int]],
    known: Callable[[str], bool] | None,
    letter: Callable[[int], str],
) -> tuple[int, list[str]]:
    """How many rows the header takes (1 or 2), and its columns' names.

    ``spans`` are the cells merged from the header row ``number``: (top, left, bottom,
    right) with 0-based column indexes. The header takes two rows when a cell is merged
    down over the row below, or when the row below holds names under a cell merged
    across (务工情况 over 务工地点 and 务工时间) and no value under a plain header
    (which would make it a row of data). A child's name is joined to its parent's as
    `open_table` says.
    """
    if any(bottom > number + 1 for _, _, bottom, _ in spans):
        raise ShapeError(path, number, "", f"表头占三行以上 / the header takes more than two rows; {_MERGE_HINT}")
    across = [(left, right) for _, left, _, right in spans if right > left]
    down = any(bottom > number for _, _, bottom, _ in spans)

    def parent(index: int) -> str:
        own = header[index] if index < len(header) else ""
        if own:
            return own
        return next((header[left] for left, right in across if left <= index <= right and 0 <= left < len(header)), "")

    children = [index for index, name in enumerate(below) if name]
    if not down:
        if not any(left <= index <= right for index in children for left, right in across):
            return 1, header
        plain = [i for i in children if i < len(header) and header[i] and not any(l <= i <= r for l, r in across)]
        if plain:  # a value under a header of its own: the row below is data
            return 1, header
    names = []
    for index in range(max(len(header), len(below))):
        child = below[index] if index < len(below) else ""
        own = header[index] if index < len(header) else ""
        above = parent(index)
        if not child or not above:
            # A column under a merged parent without a child of its own has no header (data there is refused).
            names.append(own or child)
            continue
        joined = f"{above} {child}"
        names.append(child if known is not None and not known(joined) and known(child) else joined)
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name and name in seen:
            raise ShapeError(
                path, number, f"{letter(seen[name])}, {letter(index)}",
                f"表头占两行, 两列都叫 {name!r} / the two header rows give two columns the name {name!r}; {_MERGE_HINT}",
            )
        seen[name] = index
    return 2, names


def _refuse_uncomputed(path: str, scan: _SheetScan, header_row: int, header: list[str], first_column: int) -> None:
    """Refuse the first formula at or below the header that has no computed value."""
    from openpyxl.utils import get_column_letter

    found = [(row, column) for row, column in scan.uncomputed if row >= header_row or row == 0]
    if not found:
        return
    row, column = found[0]
    index = column - first_column - 1
    name = header[index] if 0 <= index < len(header) and header[index] else "空表头 / blank header"
    raise ShapeError(
        path, row or header_row, f"{get_column_letter(column)} ({name})" if column else "",
        "公式没有计算结果 / a formula without a computed value (the file was written by a program, not saved by "
        "Excel): 请用 Excel 或 WPS 打开并保存, 让公式算出结果, 或把公式粘贴为数值 / open the file in Excel or WPS "
        "and save it, so that the values are computed, or paste the formulas as values",
    )


def _refuse_unheaded(
    path: str,
    rows: Iterable[tuple[int, list[Any]]],
    data_row: int,
    unheaded: list[int],
    letter: Callable[[int], str],
    header_rows: int,
) -> None:
    """Refuse the first value under a blank header or right of the last header (read again, for these columns only)."""
    for number, row in rows:
        if number < data_row:
            continue
        for index in unheaded:
            value = row[index] if index < len(row) else None
            if value is None or value == "" or (isinstance(value, str) and not value.strip()):
                continue
            raise ShapeError(path, number, f"{letter(index)} (空表头 / blank header)", _unheaded_reason(number == data_row and header_rows == 1))


def _unheaded_reason(first_row: bool) -> str:
    hint = "; 如果表头占两行, 请把它合并为一行 / if the header takes two rows, merge it into one" if first_row else ""
    return (
        "这一列有数据, 却没有表头 / this column holds data but has no header: 请给它一个表头, 或删除这一列 / "
        f"give it a header, or delete the column{hint}"
    )


def _hidden_notices(scan: _SheetScan, rows: tuple[int, int], columns: tuple[int, int]) -> tuple[str, ...]:
    """Lines naming the hidden rows of the data and the hidden columns of the table."""
    from openpyxl.utils import get_column_letter

    notices = []
    hidden = _clip(scan.hidden_rows, *rows)
    if hidden:
        shown = _ranges(hidden, str)
        notices.append(f"隐藏的行 / hidden rows: {shown} (已导入 / imported: 请确认 / please check them)")
    hidden = _clip(scan.hidden_columns, *columns)
    if hidden:
        notices.append(f"隐藏的列 / hidden columns: {_ranges(hidden, get_column_letter)} (按表头读取 / read by their headers)")
    return tuple(notices)


def _clip(ranges: list[list[int]], low: int, high: int) -> list[tuple[int, int]]:
    return [(max(first, low), min(last, high)) for first, last in ranges if first <= high and last >= low]


def _ranges(ranges: list[tuple[int, int]], label: Callable[[int], str], most: int = 20) -> str:
    """``"5-7, 12"``; past ``most`` ranges, the count of the rest."""
    text = ", ".join(label(a) if a == b else f"{label(a)}-{label(b)}" for a, b in ranges[:most])
    if len(ranges) > most:
        rest = sum(b - a + 1 for a, b in ranges[most:])
        text += f" ... (另 {rest} 个 / {rest} more)"
    return text


# -- reading: XLSX bounds -----------------------------------------------------------------

#: Excel's own bounds of a sheet.
EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384
# Parts smaller than this are not held to the ratio: tiny parts of repeated markup compress oddly well and cost nothing.
_RATIO_FROM = 1 << 20
# How much of a sheet's XML is searched for its <dimension>, which comes before the cells.
_DIMENSION_BYTES = 64 << 10
_CHUNK = 1 << 20
# A password-protected workbook is an OLE2 compound file, as an old .xls is, not a zip archive.
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\s[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
_SHEET_DATA = re.compile(rb"<(?:[\w.-]+:)?sheetData[\s/>]")
# A cell's reference, as calamine reads it: a cell's position comes from its r attribute.
_CELL = re.compile(rb"<(?:[\w.-]+:)?c\s[^>]*?(?<=\s)r\s*=\s*[\"']([A-Za-z]{1,9})([0-9]{1,12})[\"']")
# A cell or row without a reference, placed by calamine after the one before it.
_CELL_NO_REF = re.compile(rb"<(?:[\w.-]+:)?c(?:/?>|\s(?![^>]*?(?<=\s)r\s*=)[^>]*>)")
_ROW_NO_REF = re.compile(rb"<(?:[\w.-]+:)?row(?:/?>|\s(?![^>]*?(?<=\s)r\s*=)[^>]*>)")
# A cell as the common writers put it (Excel, WPS, openpyxl, XlsxWriter): the reference first.
_CELL_AT = re.compile(rb'<c r="([A-Z]{1,9})([0-9]{1,12})"')
# A cell tag with a namespace prefix: such a sheet is scanned in full.
_PREFIXED_CELL = re.compile(rb":c[\s/>]")
_ROW = re.compile(rb"<(?:[\w.-]+:)?row\s[^>]*?(?<=\s)r\s*=\s*[\"']([0-9]{1,12})[\"']")
# What the scan notes besides the bounds (_SheetScan): each searched for only in the pieces
# that hold its literal text, so that a plain sheet pays a few substring searches per MiB.
_HIDDEN = re.compile(rb"hidden\s*=\s*[\"'](?:1|true)[\"']")
_ROW_OR_COL = re.compile(rb"<(?:[\w.-]+:)?(row|col)\s[^>]*")
_MERGE = re.compile(rb"<(?:[\w.-]+:)?mergeCell\s[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
# A formula's end followed by no value or an empty one, then the cell's end: no computed value.
# Two patterns, each starting with a literal, are searched faster than one with alternatives.
_NO_VALUE = rb"\s*(<v\s*/>|<v>\s*</v>)?\s*</c>"
_UNCOMPUTED = (re.compile(rb"</f>" + _NO_VALUE), re.compile(rb"<f\s[^>]*/>" + _NO_VALUE))
_NO_VALUE_PREFIXED = rb"\s*(<(?:[\w.-]+:)?v\s*/>|<(?:[\w.-]+:)?v>\s*</(?:[\w.-]+:)?v>)?\s*</(?:[\w.-]+:)?c>"
_UNCOMPUTED_PREFIXED = (
    re.compile(rb"</(?:[\w.-]+:)?f>" + _NO_VALUE_PREFIXED),
    re.compile(rb"<(?:[\w.-]+:)?f\s[^>]*/>" + _NO_VALUE_PREFIXED),
)
_FORMULA = re.compile(rb"<f")
_CELL_TAG = re.compile(rb"<(?:[\w.-]+:)?c(?:\s[^>]*)?>")
_SHEET_TAG = re.compile(rb"<(?:[\w.-]+:)?sheet\s[^>]*>")
_RELATIONSHIP = re.compile(rb"<(?:[\w.-]+:)?Relationship\s[^>]*>")
# How many merges, hidden ranges and formulas without a value a scan keeps.
_MAX_NOTED = 10_000
# The most of a cell cut at a piece's end kept for the next piece (a formula holds 8,192 characters).
_CARRY_BYTES = 64 << 10


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


def _column_letters(number: int) -> bytes:
    letters = b""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = bytes([65 + rest]) + letters
    return letters


def _unusual_or_beyond(number: int) -> re.Pattern[bytes]:
    """A cell tag not written as ``<c r="B7"``, or one whose column is right of column ``number``.

    Searched for, not matched at every cell: almost every piece of a sheet has neither.
    """
    letters = _column_letters(number).decode()
    longer = f"[A-Z]{{{len(letters) + 1},9}}"
    same = [
        f"{letters[:i]}[{chr(ord(letter) + 1)}-Z][A-Z]{{{len(letters) - i - 1}}}"
        for i, letter in enumerate(letters)
        if letter != "Z"
    ]
    beyond = "|".join([longer, *same])
    return re.compile(rf"<c(?:(?! r=\"[A-Z]{{1,9}}[0-9])[\s/>]| r=\"({beyond})[0-9])".encode())


def _parse_reference(reference: bytes) -> tuple[int, int] | None:
    """(row, column) of ``B7``-like text, 1-based; None when it is not a reference."""
    match = re.fullmatch(rb"\$?([A-Za-z]{1,9})\$?([0-9]{1,12})", reference.strip())
    return None if match is None else (int(match[2]), _column_number(match[1]))


def _check_xlsx(path: str, limits: ReadLimits) -> dict[str, _SheetScan]:
    """Refuse an XLSX file whose parts or sheets go over ``limits``, before calamine reads any of it.

    Returns:
        Sheet name -> what the scan of its XML found that calamine does not report
        (merged cells, hidden rows and columns, formulas without a value).
    """
    with open(path, "rb") as file:
        if file.read(len(_OLE2)) == _OLE2:
            raise UnreadableFile(
                f"{path}: 加密的工作簿或旧版 .xls 文件 / a password-protected workbook or an old .xls file: "
                "remove the password, or save it as .xlsx"
            )
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            _check_parts(path, infos, limits)
            # Every sheet is bounded (calamine may be asked for any); the features of all are
            # kept from the same single pass, and the reader uses the chosen sheet's.
            scans = {}
            for info in infos:
                name = info.filename
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    scans[name] = _check_sheet(path, archive, info, limits)
            return {sheet: scans[part] for sheet, part in _sheet_parts(archive).items() if part in scans}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        # RuntimeError: zipfile's "file is encrypted"; NotImplementedError: an unknown compression method.
        raise UnreadableFile(
            f"{path}: 不是可读的 XLSX 文件 / not a readable XLSX file (damaged, cut short or encrypted): {_one_line(exc)}"
        ) from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _check_parts(path: str, infos: list[zipfile.ZipInfo], limits: ReadLimits) -> None:
    """Sizes and inflation ratios as the archive declares them: nothing is inflated."""
    part_limit = limits.max_part_mb << 20
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise UnreadableFile(f"{path}: 部件 {info.filename} 已加密 / part {info.filename} is encrypted")
        size = info.file_size
        total += size
        if size > part_limit:
            raise FileTooLarge(
                f"{path}: 部件 {info.filename} 解压后 {size >> 20} MiB, 超过上限 {limits.max_part_mb} MiB / "
                f"part {info.filename} inflates to {size >> 20} MiB, over the limit of {limits.max_part_mb} MiB "
                f"(raise it with --max-part-mb)"
            )
        ratio = size / max(info.compress_size, 1)
        if size > _RATIO_FROM and ratio > limits.max_ratio:
            raise FileTooLarge(
                f"{path}: 部件 {info.filename} 压缩比 {ratio:.0f}:1, 超过上限 {limits.max_ratio:g}:1 / "
                f"part {info.filename} inflates {ratio:.0f} times, over the limit of {limits.max_ratio:g}:1 "
                f"(raise it with --max-ratio)"
            )
    if total > limits.max_total_mb << 20:
        raise FileTooLarge(
            f"{path}: 解压后共 {total >> 20} MiB, 超过上限 {limits.max_total_mb} MiB / the parts inflate to "
            f"{total >> 20} MiB in all, over the limit of {limits.max_total_mb} MiB (raise it with --max-total-mb)"
        )


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The part's XML in pieces that end before a ``<``, so that no tag is cut in two."""
    with archive.open(info) as part:
        rest = b""
        while block := part.read(_CHUNK):
            block = rest + block
            cut = block.rfind(b"<")
            if cut <= 0 and len(block) < _CHUNK * 16:
                rest = block
                continue
            if cut <= 0:  # one long text or tag: given whole rather than held until the part ends
                rest = b""
                yield block
                continue
            rest = block[cut:]
            yield block[:cut]
        if rest:
            yield rest


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its part, from the workbook and its relationships (both small parts)."""
    try:
        workbook = b"".join(_chunks(archive, archive.getinfo("xl/workbook.xml")))
        rels = b"".join(_chunks(archive, archive.getinfo("xl/_rels/workbook.xml.rels")))
    except KeyError:
        return {}
    targets = {}
    for tag in _RELATIONSHIP.findall(rels):
        rel_id, target = _attribute(tag, b"Id"), _attribute(tag, b"Target")
        if rel_id is not None and target is not None:
            target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
            targets[rel_id] = target
    parts = {}
    for tag in _SHEET_TAG.findall(workbook):
        name, rel_id = _attribute(tag, b"name"), _attribute(tag, rb"(?:[\w.-]+:)?id")
        if name is not None and rel_id in targets:
            parts[name] = targets[rel_id]
    return parts


def _attribute(tag: bytes, name: bytes) -> str | None:
    """The unescaped value of attribute ``name`` (a regex) in a tag's text."""
    found = re.search(rb"\s" + name + rb"\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", tag)
    if found is None:
        return None
    return html.unescape((found[1] if found[1] is not None else found[2]).decode("utf-8", "replace"))


@attrs.define
class _SheetScan:
    """What a sheet's XML says that calamine does not: found in the bounds scan, in the same pass.

    Lists are bounded (`_MAX_NOTED`): a hostile sheet of a million merges costs no memory.
    """

    #: (top row, left column, bottom row, right column), 1-based.
    merges: list[tuple[int, int, int, int]] = attrs.field(factory=list)
    #: Hidden rows and columns as [first, last] ranges, in order.
    hidden_rows: list[list[int]] = attrs.field(factory=list)
    hidden_columns: list[list[int]] = attrs.field(factory=list)
    #: (row, column) of formulas without a computed value; (0, 0) for a cell without a reference.
    uncomputed: list[tuple[int, int]] = attrs.field(factory=list)
    #: The tail of the last piece from its last cell on, which the next piece may complete.
    _carry: bytes = b""

    def feed(self, body: bytes, prefixed: bool = False) -> None:
        """Take note of one piece of the sheet's XML (pieces come in order, cut before a ``<``).

        A plain piece costs two substring searches; ``prefixed`` (tags written ``<x:c``)
        looks for prefixed formulas too.
        """
        # Compiled literals: sre finds them about twice as fast as ``in`` does.
        if _HIDDEN.search(body):
            for found in _HIDDEN.finditer(body):
                self._hidden(body, body.rfind(b"<", 0, found.start()))
        # Merged cells are listed after the rows: only what follows the last row's end is searched.
        cut = body.rfind(b"</row>")
        tail = body[cut:] if cut >= 0 else body
        if b"mergeCell" in tail and len(self.merges) < _MAX_NOTED:
            for reference in _MERGE.findall(tail):
                corners = [_parse_reference(ref) for ref in reference.split(b":")]
                if len(corners) == 2 and all(corners):
                    (top, left), (bottom, right) = corners  # type: ignore[misc]
                    self.merges.append((min(top, bottom), min(left, right), max(top, bottom), max(left, right)))
        carry = self._carry
        if _FORMULA.search(body) or b"<f" in carry or (prefixed and (b":f" in body or b":f" in carry)):
            text = carry + body
            patterns = _UNCOMPUTED_PREFIXED if prefixed else _UNCOMPUTED
            for found in sorted(itertools.chain.from_iterable(p.finditer(text) for p in patterns), key=re.Match.start):
                if found.end() > len(carry) and len(self.uncomputed) < _MAX_NOTED:
                    self._formula(text, found)
        last = body.rfind(b"<c")
        self._carry = body[last:] if 0 <= last and len(body) - last < _CARRY_BYTES else b""

    def _hidden(self, body: bytes, start: int) -> None:
        tag = _ROW_OR_COL.match(body, max(start, 0))
        if tag is None:
            return
        text = tag[0]
        if tag[1] == b"row":
            row = _attribute(text, b"r")
            if row is not None and row.isdigit():
                _add_range(self.hidden_rows, int(row), int(row))
            return
        low, high = _attribute(text, b"min"), _attribute(text, b"max")
        if low is not None and low.isdigit():
            high = high if high is not None and high.isdigit() else low
            _add_range(self.hidden_columns, int(low), min(int(high), EXCEL_COLUMNS))

    def _formula(self, text: bytes, found: re.Match[bytes]) -> None:
        # The cell's tag is a tag or two before the formula's end (<c ...><f>...</f>).
        at, cell = found.start(), None
        for _ in range(4):
            at = text.rfind(b"<", 0, at)
            if at < 0 or (cell := _CELL_TAG.match(text, at)) is not None:
                break
        if cell is None:
            self.uncomputed.append((0, 0))
            return
        if found[1] is not None and _attribute(cell[0], b"t") == "str":
            return  # a computed empty text ("" from an IF) is stored as an empty value
        at = _parse_reference((_attribute(cell[0], b"r") or "").encode())
        self.uncomputed.append(at or (0, 0))


def _add_range(ranges: list[list[int]], first: int, last: int) -> None:
    if ranges and ranges[-1][1] + 1 >= first:
        ranges[-1][1] = max(ranges[-1][1], last)
    elif len(ranges) < _MAX_NOTED:
        ranges.append([first, last])


def _check_sheet(path: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ReadLimits) -> _SheetScan:
    """The sheet's declared dimension, then the grid its cells span, within the cell limits.

    calamine allocates the grid from the sheet's first cell's row to its last cell's
    row and from its leftmost to its rightmost column, whatever the dimension says:
    both are checked. Cells are not matched one by one (that would cost as much as
    reading the sheet): each piece is searched for its first and last cell and for a
    cell right of the rightmost column seen so far. A sheet written otherwise than
    ``<c r="B7" ...>`` (cells without references, namespace prefixes) is scanned in
    full instead (`_check_every_cell`). The same single pass notes what calamine does
    not report (`_SheetScan`): merged cells, hidden rows and columns, formulas without
    a value; it costs about a third more than the bounds alone (two more literal
    searches per MiB of XML).
    """
    allowed = max(limits.max_cells, info.file_size // 4)
    sheet = info.filename

    def refuse_grid(zh: str, en: str, rows: int, columns: int) -> None:
        if rows > EXCEL_ROWS or columns > EXCEL_COLUMNS:
            raise FileTooLarge(
                f"{path}: 工作表 {sheet} {zh} {rows} 行 {columns} 列, 超出 Excel 的 {EXCEL_ROWS} 行 {EXCEL_COLUMNS} 列 / "
                f"sheet {sheet} {en} {rows} rows by {columns} columns, beyond Excel's {EXCEL_ROWS} by {EXCEL_COLUMNS}"
            )
        if rows * columns > allowed:
            raise FileTooLarge(
                f"{path}: 工作表 {sheet} {zh} {rows * columns} 个单元格, 超过上限 {allowed} / sheet {sheet} {en} "
                f"{rows * columns} cells ({rows} rows by {columns} columns), over the limit of {allowed} "
                f"(the larger of --max-cells {limits.max_cells} and the sheet's XML bytes / 4; raise it with --max-cells)"
            )

    first_row = last_row = None
    min_column = max_column = 0
    search = _unusual_or_beyond(0)
    scan = _SheetScan()
    for number, body in enumerate(_chunks(archive, info)):
        scan.feed(body)
        if number == 0:
            head = body[:_DIMENSION_BYTES]
            data_at = _SHEET_DATA.search(head)
            declared = _DIMENSION.search(head, 0, data_at.start() if data_at else len(head))
            corners = [_parse_reference(ref) for ref in declared[1].split(b":")] if declared else []
            if corners and all(corners) and len(corners) <= 2:
                (top, left), (bottom, right) = corners[0], corners[-1]  # type: ignore[misc]
                refuse_grid("声明", "declares", abs(bottom - top) + 1, abs(right - left) + 1)
        if _PREFIXED_CELL.search(body):
            return _check_every_cell(archive, info, refuse_grid)
        at = 0
        while found := search.search(body, at):
            if found[1] is None:  # a cell not written as <c r="B7"
                return _check_every_cell(archive, info, refuse_grid)
            max_column = _column_number(found[1])
            if max_column > EXCEL_COLUMNS:
                break
            search = _unusual_or_beyond(max_column)
            at = found.start()
        first = body.find(b'<c r="')
        if first < 0:
            continue
        if first_row is None:
            first_row, min_column = _CELL_AT.match(body, first).group(2, 1)  # type: ignore[union-attr]
            first_row, min_column = int(first_row), _column_number(min_column)
        if min_column > 1:  # rare: a sheet that does not start in column A
            min_column = min([min_column, *(_column_number(c) for c, _ in _CELL_AT.findall(body))])
        last_row = int(_CELL_AT.match(body, body.rfind(b'<c r="'))[2])  # type: ignore[index]
    if first_row is None or last_row is None:
        return scan
    if last_row < first_row:
        raise FileTooLarge(
            f"{path}: 工作表 {sheet} 的行顺序错乱 (第 {first_row} 行在第 {last_row} 行之前) / sheet {sheet} has its rows "
            f"out of order (row {first_row} comes before row {last_row}); open it in Excel and save it again"
        )
    refuse_grid("的单元格跨", "spans", last_row - first_row + 1, max_column - min_column + 1)
    return scan


def _check_every_cell(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, refuse_grid: Callable[[str, str, int, int], None]
) -> _SheetScan:
    """The grid of a sheet not written as ``<c r="B7"``, counted generously from every cell.

    calamine places a cell without a reference right of the cell before it and a row
    without one below the row before it: the grid is taken to reach as far right as
    the rightmost reference plus every unreferenced cell, and as far down likewise,
    from A1. Generators that write sheets so are rare; this costs a full scan.
    """
    rows = columns = unreferenced_cells = unreferenced_rows = 0
    scan = _SheetScan()
    for body in _chunks(archive, info):
        scan.feed(body, prefixed=True)
        unreferenced_cells += len(_CELL_NO_REF.findall(body))
        unreferenced_rows += len(_ROW_NO_REF.findall(body))
        for letters, row in _CELL.findall(body):
            rows = max(rows, int(row))
            columns = max(columns, _column_number(letters))
        for row in _ROW.findall(body):
            rows = max(rows, int(row))
    refuse_grid("的单元格可达", "may span", rows + unreferenced_rows, max(columns + unreferenced_cells, 1))
    return scan


# -- reading: JSON lines -----------------------------------------------------------------


class RepeatedKey(ValueError):
    """A JSON object gives one key twice (``key``)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's dict for ``json.loads(object_pairs_hook=...)``; raises RepeatedKey for a key given twice.

    Without it json.loads keeps the last of two values silently.
    """
    out = dict(pairs)
    if len(out) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise RepeatedKey(key)
            seen.add(key)
    return out


def _jsonl_objects(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    with open(path, encoding="utf-8-sig", errors="surrogateescape") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            if _UNDECODABLE.search(line):
                raise FupinError(f"{path}: 第 {number} 行不是有效的 UTF-8 / line {number} is not valid UTF-8")
            try:
                value = json.loads(line, object_pairs_hook=unique_object)
            except RepeatedKey as exc:
                raise FupinError(
                    f"{path}: 第 {number} 行的键 {exc.key!r} 出现两次 / line {number}: the key {exc.key!r} appears twice in one object"
                ) from None
            except RecursionError:
                raise FupinError(f"{path}: 第 {number} 行嵌套过深 / line {number} is nested too deeply") from None
            except json.JSONDecodeError as exc:
                raise FupinError(
                    f"{path}: 第 {number} 行不是 JSON / line {number} is not valid JSON: {exc.msg} "
                    f"(column {exc.colno}); JSON lines need one object per line"
                ) from None
            if not isinstance(value, dict):
                raise FupinError(
                    f"{path}: 第 {number} 行不是 JSON 对象 / line {number} is not a JSON object "
                    f"but {type(value).__name__}; JSON lines need one object per line"
                )
            yield number, value


def _open_jsonl(path: str) -> Table:
    headers: tuple[str, ...] = ()
    for _, first in _jsonl_objects(path):
        headers = tuple(dict.fromkeys(name for name in map(_clean_header, first) if name))
        break

    def rows() -> Rows:
        for number, value in _jsonl_objects(path):
            cells: dict[str, object] = {}
            for key, cell in value.items():
                name = _clean_header(key)
                if name in cells:
                    # Two keys that differ only in spacing name one column: which would win is a guess.
                    raise FupinError(f"{path}: 第 {number} 行的键 {name!r} 出现两次 / line {number}: the key {name!r} appears twice in one object")
                if name:
                    cells[name] = (cell.strip() or None) if isinstance(cell, str) else cell
            if not _blank(cells):
                yield number, cells

    return Table(TableInfo(path, "jsonl", None, None, 0, headers), rows)


# -- writing -----------------------------------------------------------------------------


@contextlib.contextmanager
def _text_output(target: str | os.PathLike[str] | IO[bytes], encoding: str) -> Iterator[IO[str]]:
    if isinstance(target, str | os.PathLike):
        with open(target, "w", encoding=encoding, newline="") as file:
            yield file
        return
    file = io.TextIOWrapper(target, encoding=encoding, newline="")
    try:
        yield file
    finally:
        file.flush()
        file.detach()  # the caller's stream stays open


def _checked(rows: Iterable[Sequence[object]], headers: Sequence[str]) -> Iterator[tuple[int, Sequence[object]]]:
    for number, row in enumerate(rows, start=1):
        if len(row) != len(headers):
            raise ValueError(f"row {number} has {len(row)} values for {len(headers)} headers")
        yield number, row


#: A CSV cell starting with one of these is run as a formula by spreadsheet
#: programs (CSV injection); written with a leading apostrophe, it is shown as
#: text. The importer removes that apostrophe again (fupin.io.kinds.CellParser).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(text: str) -> str:
    """``text`` made safe for a CSV cell opened in a spreadsheet: ``"=1+1"`` -> ``"'=1+1"``."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return neutralize(str(value))


def _write_csv(target: Any, headers: Sequence[str], rows: Iterable[Sequence[object]], title: str | None) -> int:
    count = 0
    with _text_output(target, "utf-8-sig") as file:
        writer = csv.writer(file, lineterminator="\r\n")
        if title:
            writer.writerow([title])
        writer.writerow(headers)
        for count, row in _checked(rows, headers):
            writer.writerow([_csv_text(value) for value in row])
    return count


def _json_value(value: object) -> object:
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON: {value!r}")


def _write_jsonl(target: Any, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    count = 0
    with _text_output(target, "utf-8") as file:
        for count, row in _checked(rows, headers):
            file.write(json.dumps(dict(zip(headers, row)), ensure_ascii=False, default=_json_value) + "\n")
    return count


def _xlsx_cell(sheet: Any, value: object, font: Any = None) -> object:
    """The value, or a cell when it needs a font (openpyxl's Font) or must not become a formula."""
    from openpyxl.cell import WriteOnlyCell

    is_formula_like = isinstance(value, str) and value.startswith("=")
    if font is None and not is_formula_like:
        return value
    cell = WriteOnlyCell(sheet, value)
    if is_formula_like:
        cell.data_type = "s"
    if font is not None:
        cell.font = font
    return cell


def _write_xlsx(
    target: Any,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    dropdowns: Mapping[int, Sequence[str]] | None,
    sheet_title: str,
    title: str | None,
) -> int:
    # openpyxl is imported where XLSX is written: most commands never need it, and it costs a tenth of a second to load.
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import IllegalCharacterError

    template = dropdowns is not None
    workbook = openpyxl.Workbook(write_only=not template)
    if template:
        sheet = workbook.active
        sheet.title = sheet_title
    else:
        sheet = workbook.create_sheet(sheet_title)
    header_row = 2 if title else 1
    # Column settings come first: a write-only sheet writes them before the first row.
    for index, header in enumerate(headers):
        options = (dropdowns or {}).get(index, ())
        width = max([display_width(str(header)), *(display_width(str(option)) for option in options)])
        column = sheet.column_dimensions[get_column_letter(index + 1)]
        column.width = min(max(width + 4, 10), 50)
        if template:
            column.number_format = "@"  # text: what is typed in stays as typed
    sheet.freeze_panes = f"A{header_row + 1}"
    if title:
        sheet.append([_xlsx_cell(sheet, title, Font(bold=True, size=14))])
    bold = Font(bold=True)
    sheet.append([_xlsx_cell(sheet, header, bold) for header in headers])
    count = 0
    for count, row in _checked(rows, headers):
        try:
            sheet.append([_xlsx_cell(sheet, value) for value in row])
        except IllegalCharacterError:
            raise FupinError(
                f"第 {count} 行含有 Excel 不允许的控制字符 / row {count} holds a control character XLSX does not allow"
            ) from None
    if template:
        _add_dropdowns(workbook, sheet, dropdowns or {}, header_row + 1)
    workbook.save(target)
    return count


def _add_dropdowns(workbook: Any, sheet: Any, dropdowns: Mapping[int, Sequence[str]], first_row: int) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    # The lists live on a hidden sheet: an inline list over 255 characters breaks Excel.
    options = workbook.create_sheet(OPTIONS_SHEET)
    options.sheet_state = "hidden"
    for number, (index, values) in enumerate(sorted(dropdowns.items()), start=1):
        if not values:
            continue
        letter = get_column_letter(number)
        for row, value in enumerate(values, start=1):
            cell = options.cell(row=row, column=number, value=str(value))
            cell.data_type = "s"  # an option such as "=5" is text, not a formula
        validation = DataValidation(
            type="list",
            formula1=f"'{OPTIONS_SHEET}'!${letter}$1:${letter}${len(values)}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="无效的值 / invalid value",
            error=DROPDOWN_ERROR,
        )
        column = get_column_letter(index + 1)
        validation.add(f"{column}{first_row}:{column}{first_row + TEMPLATE_ROWS - 1}")
        sheet.add_data_validation(validation)
