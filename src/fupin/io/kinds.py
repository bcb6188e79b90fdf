"""Import kinds: what a file of one kind of record looks like and how it is stored.

An :class:`ImportKind` names its columns (English name, the Chinese header of
the registration forms, aliases, type, vocabulary), its natural key, its table
and how a row becomes a validated model record. The core kinds are areas,
households, persons, tags, units, cadres and actions; plugins add theirs
through ``fupin_importers``, usually as a :class:`ModelKind` like the core's.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import operator
import re
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import sqlalchemy as sa

from fupin import model
from fupin.errors import Problem
from fupin.io.files import FORMULA_STARTS, LossyNumber, RepeatedKey, normalize_cell, unique_object
from fupin.vocab import Vocabulary, normalize_key

if TYPE_CHECKING:
    from fupin.io.engine import Lookups
    from fupin.store import Store

COLUMN_TYPES = ("text", "code", "int", "decimal", "date", "bool", "yuan", "list", "id_number", "phone", "json")


@attrs.frozen
class Column:
    """One column of an import file.

    Attributes:
        name: the English header, also the record field it fills (unless ``field`` says otherwise).
        zh: the Chinese header as on the registration forms.
        type: how cells are read: ``text``, ``code`` (full-width folded),
            ``int``, ``decimal``, ``date`` (ISO 8601, also 2015/9/1, 2015年9月1日),
            ``bool`` (是/否), ``yuan`` (money in yuan, stored as integer fen),
            ``list`` (values separated by 、 or commas), ``id_number``, ``phone``,
            ``json`` (a JSON object, e.g. questionnaire answers).
        required: a row without a value is refused.
        vocab: the vocabulary list the values come from (drop-down in templates).
        aliases: other headers accepted for this column.
        field: the record field, when it differs from ``name``.
        personal: ``"id"``, ``"phone"``, ``"account"``, ``"answers"`` (ID numbers and
            phones inside questionnaire answers) or ``"beneficiaries"`` (persons' ID
            numbers in a beneficiary list): masked on export unless unmasked.
        description: help text for ``fupin import --list`` and templates.
        max_length: the longest value accepted, in characters (a list: each item);
            None: the length of the table column it is stored in, filled in by
            :func:`limited` when the importer binds the kind.
        minimum: the smallest number accepted (``0``: no negatives), in what is
            stored (fen for ``yuan``); None: as low as the column holds.
        maximum: the largest number accepted (its negative bounds it below unless
            ``minimum`` says otherwise); None: filled in by :func:`limited` from the
            table column (INTEGER, BIGINT, NUMERIC(p, s)) or :data:`MAX_FEN`.
        scale: the most decimals a ``decimal`` accepts; None: from NUMERIC(p, s), else any.
        multiline: text may hold line breaks (paragraphs: findings, notes); None:
            when it is stored in an unbounded TEXT column (see :func:`limited`).
        name_like: a name (of a person, household head, unit ...): may not begin
            with ``= + - @``, which spreadsheets run as a formula.
    """

    name: str
    zh: str
    type: str = attrs.field(default="text", validator=attrs.validators.in_(COLUMN_TYPES))
    required: bool = False
    vocab: str | None = None
    aliases: tuple[str, ...] = ()
    field: str | None = None
    personal: str | None = None
    description: str = ""
    #: Read on import but not written on export (another column carries the value).
    import_only: bool = False
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | Decimal | None = None
    scale: int | None = None
    multiline: bool | None = None
    name_like: bool = False

    @property
    def target(self) -> str:
        """The record field this column fills."""
        return self.field or self.name

    def headers(self) -> tuple[str, ...]:
        """Every header that names this column."""
        return (self.name, self.zh, *self.aliases)


_DATE_FORMS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_TRUE = {"是", "有", "true", "yes", "y", "1", "√"}
_FALSE = {"否", "无", "false", "no", "n", "0", "×"}
_SPLIT = re.compile(r"[、,，;；/]")


#: The longest text accepted where the table column sets no length (TEXT, and
#: values kept inside JSON: findings, answers, details), in characters: several
#: pages. A spreadsheet cell holds at most 32,767.
TEXT_LIMIT = 10_000
#: The largest amount of money accepted, in fen: 100 billion yuan (1000 亿元), above
#: any budget these records hold and far below what BIGINT holds (92 quadrillion yuan).
MAX_FEN = 10**13
#: What INTEGER holds on PostgreSQL; BIGINT (and every SQLite integer) holds 2**63 - 1.
INT_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
#: The largest decimal accepted where the column sets no precision (quantities, details).
NUMBER_LIMIT = 10**15
#: Column types whose cells are read as text (and checked as text: characters, length).
TEXT_TYPES = frozenset({"text", "code", "list", "id_number", "phone"})

# C0 and C1 control characters (but tab, line feed, carriage return), and the
# bidirectional embeddings, overrides and isolates that make text read otherwise
# than it is stored (U+202A-U+202E, U+2066-U+2069).
_HIDDEN = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_BREAKS = "\t\n\r\u2028\u2029"
#: One search per text cell finds any character the column refuses (a name's leading formula sign too).
_REFUSED = {
    (False, False): re.compile(f"[{_HIDDEN}{_BREAKS}]"),
    (False, True): re.compile(f"^[=+\\-@]|[{_HIDDEN}{_BREAKS}]"),
    (True, False): re.compile(f"[{_HIDDEN}]"),
    (True, True): re.compile(f"^[=+\\-@]|[{_HIDDEN}]"),
}


def _text_problem(text: str, limit: int, refused: re.Pattern[str]) -> str:
    """Why ``text`` is refused (the slow path, once a check failed)."""
    if len(text) > limit:
        return f"过长: {len(text)} 字, 最多 {limit} 字 / too long: {len(text)} characters, at most {limit}"
    found = refused.search(text)
    assert found is not None
    char = found.group()
    code = f"U+{ord(char):04X}"
    if found.start() == 0 and char in "=+-@":
        return f"不能以 {char} 开头 (电子表格会当作公式) / must not begin with {char} (spreadsheets run it as a formula)"
    if char in _BREAKS:
        return f"不能换行或含制表符 ({code}) / must be one line, without tabs ({code})"
    if "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069":
        return f"含双向文字控制符 {code} / contains a bidirectional control character ({code})"
    return f"含控制字符 {code} / contains a control character ({code})"


def text_guard(column: Column, limit: int | None = None, *, neutralised: bool = False) -> Callable[[str], str]:
    """The check of ``column``'s text values: the text itself, or ValueError saying why not.

    Refuses control characters (line breaks too unless the column is
    ``multiline``), bidirectional controls, a name's leading ``= + - @``, and
    text longer than ``limit`` (default ``max_length``, else :data:`TEXT_LIMIT`).
    With ``neutralised``, a leading apostrophe before a formula sign (how
    :func:`fupin.io.files.neutralize` exports such values) is removed first.
    """
    limit = limit or column.max_length or TEXT_LIMIT
    refused = _REFUSED[bool(column.multiline), column.name_like]
    search = refused.search
    name_like = column.name_like

    def guard(text: str) -> str:
        if neutralised and text[0] == "'" and text[1:].startswith(FORMULA_STARTS):
            text = text[1:]  # neutralised against CSV injection on export: the value is what follows
        # isprintable() (C, a few ns) is true of almost every cell and of no cell the
        # search would refuse but a name's leading sign: only the rest are searched.
        if len(text) > limit or (name_like and text[0] in "=+-@") or (not text.isprintable() and search(text) is not None):
            raise ValueError(_text_problem(text, limit, refused))
        return text

    return guard


_JSON_TEXT = re.compile(f"[{_HIDDEN}]")
_JSON_DEPTH = 32


def _checked_json(value: Any) -> Any:
    """``value`` (parsed JSON), once every string in it passed the multi-line text checks and every number is finite."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if len(item) > TEXT_LIMIT or _JSON_TEXT.search(item):
                raise ValueError(_text_problem(item, TEXT_LIMIT, _JSON_TEXT))
        elif isinstance(item, dict | list):
            if depth >= _JSON_DEPTH:
                raise ValueError(f"JSON 嵌套过深 / JSON nested deeper than {_JSON_DEPTH} levels")
            if isinstance(item, dict):
                stack.extend((k, depth + 1) for k in item)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError(_NOT_FINITE)
    return value


# Numbers as people write them: digits, grouping commas every three digits, a point.
_GROUPED = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)"
_INT_TEXT = re.compile(rf"[+-]?{_GROUPED}(?:\.0+)?")
_DECIMAL_TEXT = re.compile(rf"[+-]?(?:{_GROUPED}(?:\.[0-9]*)?|\.[0-9]+)")
_EXPONENT = re.compile(r"[+-]?[0-9.,]*[0-9][0-9.,]*e[+-]?[0-9]+")
_NOT_FINITE = "不是数字: 不接受 NaN 或无穷大 / not a number: NaN and infinity are refused"
#: Longer number texts are out of every column's range (and cost int() nothing to refuse).
_NUMBER_CHARS = 40


def _number_problem(text: str, expected: str) -> str:
    """Why ``text`` is not a number, as precisely as can be said."""
    folded = text.lower().lstrip("+-")
    if folded.lstrip("sq").startswith(("nan", "inf")):
        return _NOT_FINITE
    if _EXPONENT.fullmatch(text.lower()):
        return "不接受科学计数法, 请写出完整数字 / exponents (1E+30) are refused: write the number in full"
    if "," in folded and not folded.strip("0123456789.,"):
        return "千分位逗号位置不对 / grouping commas in the wrong place (write 12,000 or 1,200.50)"
    return expected


def _range_problem(value: Any, low: Any, high: Any, shown: Callable[[Any], str] = str) -> str:
    if value > high:
        return f"过大, 最大 {shown(high)} / too large: at most {shown(high)}"
    if low == 0:
        return "不能为负 / must not be negative"
    return f"过小, 最小 {shown(low)} / too small: at least {shown(low)}"


def _bounds(column: Column, default: Any) -> tuple[Any, Any]:
    high = column.maximum if column.maximum is not None else default
    return (column.minimum if column.minimum is not None else -high), high


def parse_date(text: str) -> dt.date:
    """A date as offices write it: 2015-09-01, 2015/9/1, 2015.9.1, 2015年9月1日, 20150901."""
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text.isascii():
        try:
            return dt.date.fromisoformat(text)  # the usual form, at C speed
        except ValueError:
            pass  # 2015-02-30 and the like: the regular expressions say what is wrong
    for form in _DATE_FORMS:
        m = form.match(text)
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
    raise ValueError("不是日期 / not a date (YYYY-MM-DD)")


def yuan_text_to_fen(text: str) -> int:
    """``"2670.5"`` yuan -> 267050 fen, exactly; more than two decimals, exponents, NaN are refused.

    Grouping commas are accepted where they belong (``1,200.50``), nowhere else (``12,00``).
    """
    whole, point, cents = text.partition(".")
    if whole.isdigit() and whole.isascii() and len(whole) < _NUMBER_CHARS and len(cents) <= 2 and (cents.isdigit() and cents.isascii() or not cents and not point):
        return int(whole) * 100 + int(cents.ljust(2, "0"))  # the usual "2670.50", without Decimal
    if not _DECIMAL_TEXT.fullmatch(text):
        raise ValueError(_number_problem(text, "不是金额 / not an amount in yuan"))
    if len(text) > _NUMBER_CHARS:
        raise ValueError(f"金额过大 / too large an amount: at most {MAX_FEN // 100} yuan")
    fen = Decimal(text.replace(",", "")) * 100
    if fen != fen.to_integral_value():
        raise ValueError("金额最多两位小数 / at most two decimals (fen)")
    return int(fen)


def fen_to_yuan_text(fen: int | None) -> str | None:
    """267050 fen -> ``"2670.50"``: the exact inverse of :func:`yuan_text_to_fen`."""
    if fen is None:
        return None
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


_LOSSY = "单元格是数字, 末几位已丢失; 请把该列设为文本 / stored as a number, the last digits are lost; format the column as text"


def _int_reader(column: Column) -> Callable[[str], int]:
    low, high = _bounds(column, BIGINT_MAX)

    def read(text: str) -> int:
        if text.isdigit() and text.isascii() and len(text) < _NUMBER_CHARS:  # the usual cell
            value = int(text)
        elif _INT_TEXT.fullmatch(text):
            if len(text) > _NUMBER_CHARS:  # int() of thousands of digits is slow, and refused anyway
                raise ValueError(_range_problem(-high - 1 if text[0] == "-" else high + 1, low, high))
            value = int(text.partition(".")[0].replace(",", ""))
        else:
            raise ValueError(_number_problem(text, "应为整数 / not an integer"))
        if value > high or value < low:
            raise ValueError(_range_problem(value, low, high))
        return value

    return read


def _yuan_reader(column: Column) -> Callable[[str], int]:
    low, high = _bounds(column, MAX_FEN)

    def read(text: str) -> int:
        fen = yuan_text_to_fen(text)
        if fen > high or fen < low:
            raise ValueError(_range_problem(fen, low, high, fen_to_yuan_text))
        return fen

    return read


def _decimal_reader(column: Column) -> Callable[[str], Decimal]:
    low, high = _bounds(column, Decimal(NUMBER_LIMIT))
    quantum = None if column.scale is None else Decimal(1).scaleb(-column.scale)

    def read(text: str) -> Decimal:
        if not _DECIMAL_TEXT.fullmatch(text):
            raise ValueError(_number_problem(text, "不是数字 / not a number"))
        if len(text) > _NUMBER_CHARS:
            raise ValueError(_range_problem(-high - 1 if text[0] == "-" else high + 1, low, high))
        value = Decimal(text.replace(",", ""))
        if value > high or value < low:
            raise ValueError(_range_problem(value, low, high))
        if quantum is not None and value != value.quantize(quantum):
            raise ValueError(f"最多 {column.scale} 位小数 / at most {column.scale} decimals")
        return value

    return read


def _as_json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text, object_pairs_hook=unique_object)
    except RepeatedKey as exc:
        raise ValueError(f"键 {exc.key!r} 出现两次 / the key {exc.key!r} appears twice") from None
    except RecursionError:
        raise ValueError(f"JSON 嵌套过深 / JSON nested deeper than {_JSON_DEPTH} levels") from None
    except json.JSONDecodeError:
        raise ValueError("不是有效的JSON / not valid JSON") from None
    if not isinstance(value, dict):
        raise ValueError("应为JSON对象 {...} / expected a JSON object {...}")
    return _checked_json(value)


def _as_bool(text: str) -> bool:
    folded = text.lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise ValueError("应为 是/否 / expected 是 or 否 (yes/no)")


#: Readers of a cell's (stripped, full-width-folded) text, by column type: made per column, with its bounds.
_READERS: dict[str, Callable[[Column], Callable[[str], Any]]] = {
    "int": _int_reader,
    "decimal": _decimal_reader,
    "yuan": _yuan_reader,
    "date": lambda _c: lambda t: parse_date(t[:10] if "T" in t else t),
    "bool": lambda _c: _as_bool,
}
#: JSON numbers accepted where text is expected: codes and phones, which spreadsheets and
#: their exports give as numbers; integers only, and only those every JSON writer keeps exact.
_NUMBER_AS_TEXT = frozenset({"code", "phone"})
_EXACT_JSON_INT = 2**53
_NOT_TEXT = {
    dict: "应为文本, 不是JSON对象 / expected text, not a JSON object",
    list: "应为文本, 不是列表 / expected text, not a list",
    bool: "不应为 true/false / true or false is not a value of this column",
}


class CellParser:
    """Reads cells into typed values.

    Each column gets one compiled reader (:meth:`reader`), so a million rows
    pay for a function call per cell, not for dispatch on the column type;
    vocabulary look-ups are cached per distinct cell text. Text is checked
    (:func:`text_guard`) and numbers bounded (:class:`Column` ``minimum``,
    ``maximum``, ``scale``) before anything is written.

    JSON values (of JSON-lines files) are typed strictly: an object only for
    ``json`` columns, a list only for ``list`` columns (of strings), true/false
    only for ``bool`` columns, numbers for numeric columns, and for ``code`` and
    ``phone`` integers below 2**53 (which JSON writers keep exact); everything
    else is refused rather than turned into its Python text.
    """

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self._readers: dict[Column, Callable[[Any], Any]] = {}
        self._text_readers: dict[Column, Callable[[str], Any]] = {}

    def parse(self, column: Column, raw: Any) -> Any:
        """The typed value of one cell, or None for a blank cell. Raises ValueError/ValidationError."""
        return self.reader(column)(raw)

    def reader(self, column: Column) -> Callable[[Any], Any]:
        """The function reading cells of ``column``: raw cell -> typed value or None."""
        found = self._readers.get(column)
        if found is None:
            found = self._readers[column] = self._compile(column)
        return found

    def text_reader(self, column: Column) -> Callable[[str], Any]:
        """The reader of ``column`` for cells that are text, stripped and not empty (a CSV file's).

        The same values and errors as :meth:`reader`, without the checks that
        only other cells need (numbers, booleans, JSON values of spreadsheets
        and JSON lines): a call less per cell, a million rows over.
        """
        found = self._text_readers.get(column)
        if found is None:
            found = self._text_readers[column] = self._compile_text(column)
        return found

    def _compile_text(self, column: Column) -> Callable[[str], Any]:
        if column.type == "json":
            return self.reader(column)
        if column.type == "list":
            read = self.reader(column)  # a tuple of values: kept as it is in the cache below
        elif column.type == "text" and not column.vocab:
            return text_guard(column, neutralised=True)  # the most common cell: one call
        else:
            convert = self._converter(column)

            def read(text: str) -> Any:
                if text[0] == "'" and text[1:].startswith(FORMULA_STARTS):
                    text = text[1:]  # neutralised against CSV injection on export: the value is what follows
                return convert(text)

        if not column.vocab:
            return read
        # A few distinct texts in a million cells: one dictionary look-up per cell.
        known: dict[str, Any] = {}

        def read_term(text: str) -> Any:
            value = known.get(text)
            if value is None:
                value = known[text] = read(text)
            return value

        return read_term

    def _converter(self, column: Column) -> Callable[[str], Any]:
        """Stripped, non-empty cell text -> the column's value (checked: characters, length, range)."""
        if column.vocab:
            # The stored value is the list's own label: the cell may be longer (an alias, the English label).
            guard = text_guard(column, TEXT_LIMIT)
            cache: dict[str, str] = {}
            vocab, list_name, field = self.vocab, column.vocab, column.name

            def convert(text: str) -> str:
                value = cache.get(text)
                if value is None:
                    term = vocab.term(list_name, guard(text), field=field)
                    # Area levels are stored by code (province ... group); the rest by the Chinese label.
                    value = cache[text] = term.code if list_name == "area_level" else term.zh
                return value

            return convert
        guard = text_guard(column)
        if column.type == "text":
            return guard  # stripped text as it is: names keep their characters
        if column.type == "json":
            return _as_json_object  # answers keep their characters (no full-width folding)
        if column.type == "id_number":
            return lambda text: guard((normalize_cell(text) if not text.isascii() else text).upper())
        if column.type in TEXT_TYPES:  # code, phone, list items
            return lambda text: guard(normalize_cell(text) if not text.isascii() else text)
        reader = _READERS[column.type](column)
        return lambda text: reader(normalize_cell(text) if not text.isascii() else text)

    def _compile(self, column: Column) -> Callable[[Any], Any]:
        convert = self._converter(column)
        kind = column.type
        numeric = kind in ("int", "decimal", "yuan") or kind == "bool"

        def one(raw: Any) -> Any:
            if raw is None:
                return None
            if isinstance(raw, str):
                if type(raw) is LossyNumber:
                    # A workbook's number of 16 digits or more ("Infinity" when it is infinite).
                    raise ValueError(_LOSSY if raw[-1].isdigit() else _NOT_FINITE)
                text = raw.strip()
            elif isinstance(raw, dict):
                if kind != "json":
                    raise ValueError(_NOT_TEXT[dict])
                return _checked_json(raw)  # a JSON-lines file gives the object itself
            elif isinstance(raw, bool):
                if kind != "bool":
                    raise ValueError(_NOT_TEXT[bool])
                return raw
            elif isinstance(raw, int | float):
                if isinstance(raw, float) and not math.isfinite(raw):
                    raise ValueError(_NOT_FINITE)
                if not numeric and not (kind in _NUMBER_AS_TEXT and isinstance(raw, int) and abs(raw) < _EXACT_JSON_INT):
                    raise ValueError("应为文本 (JSON 字符串), 不是数字 / expected text (a JSON string), not a number")
                text = str(raw)
            elif isinstance(raw, list):
                raise ValueError(_NOT_TEXT[list])
            else:
                text = str(raw)  # a date or Decimal of a stored row (see Importer._unmask)
            if not text:
                return None
            if text[0] == "'" and text[1:].startswith(FORMULA_STARTS):
                text = text[1:]  # neutralised against CSV injection on export: the value is what follows
            return convert(text)

        if column.type != "list":
            return one

        def many(raw: Any) -> tuple[Any, ...] | None:
            if raw is None:
                return None
            if isinstance(raw, list):
                if not all(type(v) is str or v is None for v in raw):
                    raise ValueError("列表项应为文本 / the items of the list must be text (JSON strings)")
                items = raw
            elif isinstance(raw, str):
                items = _SPLIT.split(raw)
            else:
                raise ValueError("应为列表或以、分隔的文本 / expected a list, or text separated by 、")
            values = tuple(v for v in map(one, items) if v is not None)
            return values or None

        return many


def limited(kind: ImportKind, metadata: sa.MetaData) -> ImportKind:
    """``kind`` with the limits of the table columns its values are stored in, on its columns.

    The schema declares each limit once (``sa.String(50)``, ``sa.Integer``,
    ``sa.Numeric(10, 2)``); here each column that declares none gets it:
    ``max_length`` from the string's length (:data:`TEXT_LIMIT` for TEXT, JSON
    and list items), ``maximum`` from the integer's width (and :data:`MAX_FEN`
    for money), ``maximum`` and ``scale`` from a NUMERIC's precision, and
    ``multiline`` for text stored in TEXT (or inside JSON). A reference stored
    as an id takes the referenced key's column.
    """
    table = metadata.tables.get(kind.table)
    columns = tuple(_limited(c, _stored_in(kind, table, metadata, c)) for c in kind.columns)
    return kind if columns == kind.columns else attrs.evolve(kind, columns=columns)


def _stored_in(kind: ImportKind, table: sa.Table | None, metadata: sa.MetaData, column: Column) -> sa.Column[Any] | None:
    """The table column a column's values are stored in, or None (inside JSON, not stored, or unknown)."""
    if table is None or "." in column.target:
        return None
    for ref in kind.references:
        if ref.field == column.target and ref.id_column:
            referenced = metadata.tables.get(ref.table)
            return None if referenced is None else referenced.c.get(ref.key)
    return table.c.get(getattr(kind, "renames", {}).get(column.target, column.target))


def _limited(column: Column, stored: sa.Column[Any] | None) -> Column:
    type_ = None if stored is None else stored.type
    changes: dict[str, Any] = {}
    if column.type in TEXT_TYPES:
        if column.max_length is None:
            length = getattr(type_, "length", None) if column.type != "list" else None
            changes["max_length"] = length or TEXT_LIMIT
        if column.multiline is None:
            changes["multiline"] = column.type == "text" and (isinstance(type_, sa.Text) or "." in column.target)
    elif column.type in ("int", "yuan") and column.maximum is None and isinstance(type_, sa.Integer):
        width = BIGINT_MAX if isinstance(type_, sa.BigInteger) else 2**15 - 1 if isinstance(type_, sa.SmallInteger) else INT_MAX
        changes["maximum"] = min(width, MAX_FEN) if column.type == "yuan" else width
    elif column.type == "decimal" and isinstance(type_, sa.Numeric) and type_.precision is not None:
        scale = type_.scale or 0
        if column.scale is None:
            changes["scale"] = scale
        if column.maximum is None:
            changes["maximum"] = Decimal(10) ** (type_.precision - scale) - Decimal(1).scaleb(-scale)
    return attrs.evolve(column, **changes) if changes else column


@attrs.frozen
class Reference:
    """A field of a record that must name an existing row (checked in bulk).

    Attributes:
        field: the record field holding the key (``"household"``).
        table: the referenced table name.
        key: its key column (``"number"``).
        id_column: when set, the referenced row's id is stored instead of the key
            (``households.id``), in ``db_column``.
        db_column: the column of this kind's table that stores the reference.
        label: what the key names, for messages (``"户 / household"``).
        where: extra condition on the referenced rows, e.g. ``{"level": "group"}``.
    """

    field: str
    table: str
    key: str
    label: str
    db_column: str
    id_column: str | None = None
    where: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.define
class ImportKind:
    """The base of every import kind; see :class:`ModelKind` for the usual one.

    A kind turns parsed column values into a validated record, and a record into
    the row of its table. The engine does the rest (files, bulk lookups,
    insert/update/unchanged, audit, batches).
    """

    name: str
    label_zh: str
    label_en: str
    table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: tuple[Reference, ...] = ()
    description: str = ""
    record_type: str = ""
    #: What decides whether a record is in an actor's scope: ``(what, field)``
    #: with what one of ``area``, ``group``, ``household``, ``person``, ``unit``,
    #: ``action`` and field the record field naming it; None: not scoped.
    scope: tuple[str, str] | None = None
    #: Permissions needed to import (write) and to export (read) this kind.
    write_permission: str = "registry.write"
    read_permission: str = "registry.read"

    @property
    def plugin(self) -> str:
        """The contributing plugin: the namespace before the dot (``education.internships``), else ``core``."""
        return self.name.split(".", 1)[0] if "." in self.name else "core"

    def column(self, name: str) -> Column:
        """The column called ``name`` (English)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def header_index(self) -> dict[str, Column]:
        """Normalised header spelling -> column."""
        return {normalize_key(h): c for c in self.columns for h in c.headers()}

    def bind(self, store: Store) -> ImportKind:
        """This kind as used with ``store`` (a kind whose columns depend on the plugins overrides it)."""
        return self

    def build(self, values: dict[str, Any], vocab: Vocabulary) -> Any:
        """A validated record from parsed values (field -> value). Raises ValidationError."""
        raise NotImplementedError

    def record_classes(self) -> tuple[type, ...]:
        """The classes of the records :meth:`build` makes (they travel between processes)."""
        return ()

    def db_row(self, record: Any) -> dict[str, Any]:
        """The table row of a record, before references are resolved to ids.

        Keys starting with ``_`` are compared like columns but not written to the
        table (:meth:`after_write` stores them elsewhere).
        """
        raise NotImplementedError

    def db_values(self) -> tuple[tuple[str, ...], Callable[[Any], Sequence[Any]]] | None:
        """A quicker :meth:`db_row` for bulk inserts: (columns, record -> their values in that order), or None.

        The columns are named as :meth:`db_row` names them (references before
        they are resolved to ids). None (the default) means: use :meth:`db_row`.
        """
        return None

    def key_of(self, record: Any) -> tuple[Any, ...]:
        """The natural key of a record."""
        return field_values(self.key)(record)

    def check_chunk(self, lookups: Lookups, rows: Sequence[tuple[int, Any]]) -> dict[int, list[Problem]]:
        """Rules across records (one head per household ...), by row number. None by default."""
        return {}

    def update_problems(self, store: Store, lookups: Lookups, old: Mapping[str, Any], record: Any, changes: Mapping[str, Any]) -> list[Problem]:
        """Why a stored row may not change as ``changes`` says (its table columns), beyond the checks of new rows.

        Called for each row an import would update, with the row as stored; an
        empty list lets the update go on. None by default.
        """
        return []

    def row_condition(self, table: sa.Table) -> sa.ColumnElement[bool] | None:
        """SQL condition on the table for the rows of this kind (when several kinds share a table), or None."""
        return None

    def compared_fields(self, present: Iterable[Column]) -> set[str] | None:
        """Record fields an update may change, given the file's columns; None means every column of :meth:`db_row`."""
        return None

    def enrich_existing(self, conn: sa.Connection, rows: Mapping[Any, dict[str, Any]]) -> None:
        """Add to stored rows the ``_``-prefixed values :meth:`db_row` gives (kept outside the table)."""

    #: Whether :meth:`after_write` needs the ids of inserted rows (then they are numbered before the insert).
    inserted_ids: ClassVar[bool] = True

    def after_write(self, conn: sa.Connection, inserted: Sequence[tuple[Any, int | None]], updated: Sequence[tuple[Any, dict, dict]]) -> None:
        """Extra rows to write once the chunk is stored (status history ...).

        ``inserted`` holds (record, id) pairs, the id None unless
        :attr:`inserted_ids`; ``updated`` holds (record, stored row, changes).
        """

    def after_file(self, conn: sa.Connection, batch_id: int) -> None:
        """Work once a whole file is stored (rows of batch ``batch_id``): derived rows in one statement ..."""

    def export_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Column name -> value for one stored row (as :meth:`db_row` wrote it)."""
        raise NotImplementedError


@functools.cache
def field_values(fields: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving a record's values of ``fields`` as a tuple, by one C-level getter.

    A million rows want no loop over the fields per record (keys, table rows,
    records sent between processes).
    """
    get = operator.attrgetter(*fields)
    return get if len(fields) > 1 else lambda record: (get(record),)


_ROW_PLANS: dict[tuple[type, tuple[tuple[str, str], ...]], tuple[Any, tuple[str, ...], tuple[str, ...]]] = {}


def _row_plan(cls: type, renames: Mapping[str, str]) -> tuple[Any, tuple[str, ...], tuple[str, ...]]:
    """(field values getter, table columns, columns holding tuples) for records of ``cls``.

    attrs.asdict is generic and slow; a million rows want one C-level getter.
    """
    cache_key = (cls, tuple(sorted(renames.items())))
    plan = _ROW_PLANS.get(cache_key)
    if plan is None:
        fields = attrs.fields(cls)
        names = tuple(f.name for f in fields)
        getter = field_values(names)
        columns = tuple(renames.get(n, n) for n in names)
        # Tuples (list fields) are stored as JSON arrays: lists.
        tuples = tuple(renames.get(f.name, f.name) for f in fields if "tuple" in str(f.type))
        plan = _ROW_PLANS[cache_key] = (getter, columns, tuples)
    return plan


@attrs.define
class ModelKind(ImportKind):
    """An import kind for an attrs model class whose fields map onto its table.

    ``renames`` maps record fields to table columns where they differ;
    references with an ``id_column`` are resolved to ids by the engine.
    """

    model: type = object
    renames: Mapping[str, str] = attrs.field(factory=dict)

    def build(self, values: dict[str, Any], vocab: Vocabulary) -> Any:
        return self.model(**values)

    def record_classes(self) -> tuple[type, ...]:
        return (self.model,)

    def compared_fields(self, present: Iterable[Column]) -> set[str] | None:
        # A file without a column leaves that field alone: no column, no change.
        return {c.target for c in present}

    def db_values(self) -> tuple[tuple[str, ...], Callable[[Any], Sequence[Any]]] | None:
        if type(self).db_row is not ModelKind.db_row or type(self).build is not ModelKind.build:
            return None  # a subclass that shapes its records or rows itself
        getter, columns, _tuples = _row_plan(self.model, self.renames)
        return columns, getter

    def db_row(self, record: Any) -> dict[str, Any]:
        getter, columns, tuples = _row_plan(type(record), self.renames)
        row = dict(zip(columns, getter(record)))
        for column in tuples:
            value = row[column]
            if value is not None:
                row[column] = list(value)
        return row

    def export_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for column in self.columns:
            value = row.get(self.renames.get(column.target, column.target))
            if column.type == "yuan":
                value = fen_to_yuan_text(value)
            elif column.type == "list" and value is not None:
                value = "、".join(value)
            elif column.type == "bool" and value is not None:
                value = "是" if value else "否"
            elif isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = format(value.normalize(), "f")
            out[column.name] = value
        return out


# -- the core kinds -------------------------------------------------------------------


class AreaKind(ModelKind):
    """Areas: a parent must exist (in the database or earlier in the file) one level up."""

    def export_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        # Levels are stored by code (province ... group); files speak Chinese (省 ... 村民小组).
        out = super().export_row(row)
        out["level"] = Vocabulary.default().label("area_level", out["level"])
        return out

    def check_chunk(self, lookups: Lookups, rows: Sequence[tuple[int, Any]]) -> dict[int, list[Problem]]:
        out: dict[int, list[Problem]] = {}
        parents = lookups.rows("areas", "code", {a.parent_code for _, a in rows if a.parent_code}, ("level",))
        for row_no, area in rows:
            if area.parent_code:
                parent = parents.get(area.parent_code) or lookups.pending("areas", area.parent_code)
                if parent is None:
                    out[row_no] = [Problem("parent_code", "上级区划未登记 / parent area not registered", area.parent_code)]
                    continue
                level = parent["level"] if isinstance(parent, Mapping) else parent.level
                if not area.is_child_of(model.Area(area.parent_code, "-", level, "0" if level != "province" else None)):
                    out[row_no] = [
                        Problem("parent_code", f"上级应为上一级且代码前缀一致 / parent must be one level up with a matching code ({level})", area.parent_code)
                    ]
            lookups.remember("areas", area.code, area)
        return out


class HouseholdKind(ModelKind):
    """Households: the status history starts at registration, and status changes are dated."""

    inserted_ids: ClassVar[bool] = False  # the first entries are made by after_file

    def after_file(self, conn: sa.Connection, batch_id: int) -> None:
        """Each household the file registered gets its first status entry, copied by the database in one statement."""
        from fupin.storage import schema as S

        h, s = S.households, S.household_status
        registered = sa.select(h.c.id, h.c.status, sa.func.coalesce(h.c.first_identified, dt.date.today()), sa.literal("登记 / registered")).where(
            h.c.import_batch_id == batch_id, ~sa.exists().where(s.c.household_id == h.c.id)
        )
        conn.execute(s.insert().from_select(["household_id", "status", "effective", "reason"], registered))

    def after_write(self, conn: sa.Connection, inserted: Sequence[tuple[Any, int | None]], updated: Sequence[tuple[Any, dict, dict]]) -> None:
        from fupin.storage import bulk
        from fupin.storage import schema as S

        today = dt.date.today()
        history = [
            {"household_id": old["id"], "status": new["status"], "effective": today, "reason": "导入 / imported"}
            for _h, old, new in updated
            if "status" in new and new["status"] != old["status"]
        ]
        bulk.insert_rows(conn, S.household_status, history)


#: Why a person is refused whose ID number is registered where the actor may not read: nothing about that record.
ALREADY_REGISTERED_ELSEWHERE = "已在你权限范围以外登记 / already registered outside your scope"


class PersonKind(ModelKind):
    """Persons: exactly one head (户主) per household, counting those already stored."""

    def check_chunk(self, lookups: Lookups, rows: Sequence[tuple[int, Any]]) -> dict[int, list[Problem]]:
        out: dict[int, list[Problem]] = {}
        # An ID number already registered in another household is another
        # registration of the same person, not an update: refuse it, naming the record.
        # Generators: into an empty table (see Lookups.trusted) the look-ups are skipped and never read them.
        registered = lookups.person_households(p.id_number for _, p in rows)
        for row_no, person in rows if registered else ():
            if person.id_number not in registered:
                continue
            found = registered[person.id_number]
            if found is None:
                out[row_no] = [Problem("id_number", ALREADY_REGISTERED_ELSEWHERE, person.id_number)]
            elif found[0] != person.household:
                number, name = found
                out[row_no] = [Problem("id_number", f"已登记为户 {number} 的 {name} / already registered as {name} of household {number}", person.id_number)]
        if out:
            rows = [(n, p) for n, p in rows if n not in out]
        heads = lookups.existing_heads(p.household for _, p in rows if p.is_head)
        for row_no, person in rows:
            if not person.is_head:
                continue
            previous = lookups.head_in_import.get(person.household)
            existing = heads.get(person.household)
            if previous is not None and previous[1] != person.id_number:
                out[row_no] = [Problem("relation", f"户 {person.household} 已有户主 (第 {previous[0]} 行) / already has a head (row {previous[0]})", person.relation)]
            elif existing is not None and existing[0] != person.id_number:
                out[row_no] = [Problem("relation", f"户 {person.household} 已有户主 {existing[1]} / already has a head", person.relation)]
            else:
                lookups.head_in_import[person.household] = (row_no, person.id_number)
        return out


class UnitKind(ModelKind):
    """Units: moving a unit under another parent needs ``units.reparent`` and may not make a cycle."""

    def update_problems(self, store: Store, lookups: Lookups, old: Mapping[str, Any], record: Any, changes: Mapping[str, Any]) -> list[Problem]:
        if "parent_code" not in changes:
            return []
        from fupin.storage import schema as S

        if not store.access.has("units.reparent"):
            return [Problem("parent_code", f"权限不足 / permission denied: {store.actor} lacks units.reparent (改变上级单位 / moving a unit)", record.parent_code)]
        # Walk up from the new parent, through units stored and those of this file.
        parents = dict(lookups.conn.execute(sa.select(S.units.c.code, S.units.c.parent_code)).all())
        code, seen = record.parent_code, set()
        while code is not None and code not in seen:
            if code == record.code:
                return [Problem("parent_code", f"上级单位不能是本单位或其下级 / a unit cannot be moved under itself or its sub-units", record.parent_code)]
            seen.add(code)
            pending = lookups.pending("units", code)
            code = pending.parent_code if pending is not None else parents.get(code)
        return []


def _tag_build(values: dict[str, Any], vocab: Vocabulary) -> model.Tag:
    return model.Tag(**values)


AREAS = AreaKind(
    name="areas",
    label_zh="行政区划",
    label_en="Administrative areas",
    table="areas",
    key=("code",),
    record_type="area",
    scope=("area", "code"),
    model=model.Area,
    columns=(
        Column("code", "区划代码", "code", required=True, aliases=("代码", "行政区划代码")),
        Column("name", "名称", required=True, aliases=("区划名称",), name_like=True),
        Column("level", "层级", "code", required=True, vocab="area_level", aliases=("级别",)),
        Column("parent_code", "上级区划代码", "code", aliases=("上级代码",)),
    ),
    description="Province down to villager group; parents before children.",
)

HOUSEHOLDS = HouseholdKind(
    name="households",
    label_zh="贫困户",
    label_en="Households (建档立卡)",
    table="households",
    key=("number",),
    record_type="household",
    scope=("group", "group_code"),
    model=model.Household,
    references=(Reference("group_code", "areas", "code", "村民小组 / villager group", "group_code", where={"level": "group"}),),
    columns=(
        Column("number", "户编号", "code", required=True, aliases=("户号",)),
        Column("group_code", "村民小组代码", "code", required=True, aliases=("组代码", "自然村(组)代码")),
        Column("head_name", "户主姓名", required=True, aliases=("户主",), name_like=True),
        Column("ident_standard", "识别标准", vocab="ident_standard"),
        Column("attribute", "贫困户属性", required=True, vocab="household_attribute"),
        Column("main_cause", "主要致贫原因", required=True, vocab="poverty_cause"),
        Column("other_causes", "其他致贫原因", "list", vocab="poverty_cause"),
        Column("status", "脱贫状态", vocab="household_status", aliases=("脱贫属性",)),
        Column("first_identified", "首次识别时间", "date", aliases=("识别时间",)),
        Column("planned_exit_year", "计划脱贫年度", "int"),
        Column("phone", "户联系电话", "phone", aliases=("联系电话",), personal="phone"),
        Column("housing_structure", "住房结构", vocab="housing_structure"),
        Column("dilapidated", "是否危房", "bool", aliases=("危房户",)),
        Column("safe_water", "是否解决安全饮用水", "bool", aliases=("安全饮水",)),
        Column("house_area_m2", "住房面积(平方米)", "decimal", aliases=("住房面积",), minimum=0),
        Column("net_income_per_capita_yuan", "人均纯收入(元)", "yuan", field="net_income_per_capita_fen", aliases=("人均纯收入",), minimum=0),
        Column("bank", "开户银行", name_like=True),
        Column("bank_account", "银行账号", "code", personal="account"),
    ),
    description="The 建档立卡 household card; natural key 户编号.",
)

PERSONS = PersonKind(
    name="persons",
    label_zh="家庭成员",
    label_en="Household members",
    table="persons",
    key=("id_number",),
    record_type="person",
    scope=("household", "household"),
    model=model.Person,
    references=(Reference("household", "households", "number", "户 / household", "household_id", id_column="id"),),
    columns=(
        Column("id_number", "证件号码", "id_number", required=True, aliases=("身份证号", "身份证号码", "公民身份号码"), personal="id"),
        Column("household", "户编号", "code", required=True),
        Column("name", "姓名", required=True, name_like=True),
        Column("sex", "性别", vocab="sex"),
        Column("birth_date", "出生日期", "date"),
        Column("relation", "与户主关系", required=True, vocab="relation"),
        Column("ethnicity", "民族", vocab="ethnicity"),
        Column("education", "文化程度", vocab="education"),
        Column("student_status", "在校生状况", vocab="student_status"),
        Column("health", "健康状况", vocab="health"),
        Column("labour", "劳动技能", vocab="labour"),
        Column("work_status", "务工状况", vocab="work_status"),
        Column("work_months", "务工时间(月)", "int", aliases=("务工时间",), minimum=0),
        Column("phone", "人联系电话", "phone", aliases=("联系电话", "手机号码"), personal="phone"),
    ),
    description="Members with their ID numbers (GB 11643 check character verified); natural key 证件号码.",
)

TAGS = ModelKind(
    name="tags",
    label_zh="人员标签",
    label_en="Person tags",
    table="person_tags",
    key=("id_number", "tag", "start"),
    record_type="tag",
    scope=("person", "id_number"),
    model=model.Tag,
    references=(Reference("id_number", "persons", "id_number", "人员 / person", "person_id", id_column="id"),),
    columns=(
        Column("id_number", "证件号码", "id_number", required=True, aliases=("身份证号",), personal="id"),
        Column("tag", "标签", required=True, vocab="person_tag"),
        Column("start", "开始日期", "date", required=True),
        Column("end", "结束日期", "date"),
        Column("note", "备注"),
    ),
    description="Dated tags (留守儿童, 空巢老人, 孤寡老人 ...); natural key 证件号码 + 标签 + 开始日期.",
)

UNITS = UnitKind(
    name="units",
    label_zh="单位",
    label_en="Units",
    table="units",
    key=("code",),
    record_type="unit",
    scope=("unit", "parent_code"),
    write_permission="units.write",
    read_permission="aggregates.read",
    model=model.Unit,
    references=(
        Reference("parent_code", "units", "code", "上级单位 / parent unit", "parent_code"),
        Reference("area_code", "areas", "code", "区划 / area", "area_code"),
    ),
    columns=(
        Column("code", "单位代码", "code", required=True),
        Column("name", "单位名称", required=True, name_like=True),
        Column("kind", "单位类型", required=True, vocab="unit_kind", aliases=("类型",)),
        Column("parent_code", "上级单位代码", "code"),
        Column("area_code", "所在区划代码", "code"),
    ),
    description="Helping units, their departments, and schools; natural key 单位代码.",
)

CADRES = ModelKind(
    name="cadres",
    label_zh="帮扶干部",
    label_en="Cadres",
    table="cadres",
    key=("code",),
    record_type="cadre",
    scope=("unit", "unit"),
    write_permission="units.write",
    read_permission="aggregates.read",
    model=model.Cadre,
    renames={"unit": "unit_code"},
    references=(Reference("unit", "units", "code", "单位 / unit", "unit_code"),),
    columns=(
        Column("code", "干部编号", "code", required=True, aliases=("工号",)),
        Column("name", "姓名", required=True, name_like=True),
        Column("unit", "单位代码", "code", required=True),
        Column("rank", "职级", required=True, vocab="cadre_rank", aliases=("级别",)),
        Column("title", "职务"),
        Column("sex", "性别", vocab="sex"),
        Column("phone", "联系电话", "phone", personal="phone"),
    ),
    description="Cadres with their rank (厅级, 处级 ...); natural key 干部编号.",
)

CORE_KINDS: tuple[ImportKind, ...] = (AREAS, UNITS, CADRES, HOUSEHOLDS, PERSONS, TAGS)


def unbound_store(hooks: Any) -> Any:
    """What :meth:`ImportKind.bind` needs of a store to give a kind's columns without a database
    (``import --list``, ``template``): the hooks, the merged vocabulary, no actor."""
    return types.SimpleNamespace(hooks=hooks, vocab=hooks.vocabulary(), actor=None)


def describe_import_kinds(hooks: Any) -> list[dict[str, Any]]:
    """Every import kind with the columns its files have (what ``fupin import --list`` shows).

    Each kind is bound as for an import, so a one-kind action import
    (``education.internships``) lists the common columns and its own kind's
    details and quantities, the columns of its template, not every kind's.
    """
    bare = unbound_store(hooks)
    out = []
    for name, kind in sorted(hooks.importers().items()):
        kind = kind.bind(bare)
        out.append({
            "kind": name, "label_zh": kind.label_zh, "label_en": kind.label_en, "key": list(kind.key),
            "description": kind.description,
            "columns": [{"name": c.name, "zh": c.zh, "type": c.type, "required": c.required, "vocab": c.vocab,
                         "aliases": list(c.aliases)} for c in kind.columns],
        })
    return out


def template_dropdowns(kind: ImportKind, vocab: Vocabulary, hooks: Any) -> dict[int, list[str]]:
    """Column index -> allowed values, for the drop-down lists of an XLSX template.

    A list column (several values in one cell, separated by 、) gets none: a
    drop-down would accept one value only and refuse ``语文、数学``.
    """
    out: dict[int, list[str]] = {}
    for i, column in enumerate(kind.columns):
        if column.type == "list":
            continue
        if column.vocab:
            out[i] = [t.zh for t in vocab.terms(column.vocab) if not t.retired]
        elif column.type == "bool":
            out[i] = ["是", "否"]
        elif column.name == "kind" and kind.record_type == "action":
            out[i] = sorted(hooks.action_kinds())
    return out
