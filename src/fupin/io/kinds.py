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
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import sqlalchemy as sa

from fupin import model
from fupin.errors import Problem
from fupin.io.files import FORMULA_STARTS, LossyNumber, normalize_cell
from fupin.vocab import Vocabulary, normalize_key

if TYPE_CHECKING:
    from fupin.io.engine import Lookups

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
    """``"2670.5"`` yuan -> 267050 fen, exactly; more than two decimals is refused."""
    whole, point, cents = text.partition(".")
    if whole.isdigit() and whole.isascii() and len(cents) <= 2 and (cents.isdigit() and cents.isascii() or not cents and not point):
        return int(whole) * 100 + int(cents.ljust(2, "0"))  # the usual "2670.50", without Decimal
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueError("不是金额 / not an amount in yuan") from None
    fen = value * 100
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


def _as_int(text: str) -> int:
    try:
        return int(text[:-2] if text.endswith(".0") else text)
    except ValueError:
        raise ValueError("应为整数 / not an integer") from None


def _as_decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError("不是数字 / not a number") from None


def _as_json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise ValueError("不是有效的JSON / not valid JSON") from None
    if not isinstance(value, dict):
        raise ValueError("应为JSON对象 {...} / expected a JSON object {...}")
    return value


def _as_bool(text: str) -> bool:
    folded = text.lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise ValueError("应为 是/否 / expected 是 or 否 (yes/no)")


#: Readers of a cell's (stripped, full-width-folded) text, by column type.
_READERS: dict[str, Callable[[str], Any]] = {
    "code": lambda t: t,
    "phone": lambda t: t,
    "id_number": str.upper,
    "int": _as_int,
    "decimal": _as_decimal,
    "date": lambda t: parse_date(t[:10] if "T" in t else t),
    "bool": _as_bool,
    "yuan": yuan_text_to_fen,
}


class CellParser:
    """Reads cells into typed values.

    Each column gets one compiled reader (:meth:`reader`), so a million rows
    pay for a function call per cell, not for dispatch on the column type;
    vocabulary look-ups are cached per distinct cell text.
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
        else:
            convert = self._converter(column)

            def read(text: str) -> Any:
                if text[0] == "'" and text[1:].startswith(FORMULA_STARTS):
                    text = text[1:]  # neutralised against CSV injection on export: the value is what follows
                return text if convert is None else convert(text)

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

    def _converter(self, column: Column) -> Callable[[str], Any] | None:
        """Stripped, non-empty cell text -> the column's value; None when the text is the value."""
        if column.vocab:
            cache: dict[str, str] = {}
            vocab, list_name, field = self.vocab, column.vocab, column.name

            def convert(text: str) -> str:
                value = cache.get(text)
                if value is None:
                    term = vocab.term(list_name, text, field=field)
                    # Area levels are stored by code (province ... group); the rest by the Chinese label.
                    value = cache[text] = term.code if list_name == "area_level" else term.zh
                return value

        elif column.type == "text":
            convert = None  # stripped text as it is: names keep their characters
        elif column.type == "json":
            convert = _as_json_object  # answers keep their characters (no full-width folding)
        else:
            reader = _READERS["code" if column.type == "list" else column.type]

            def convert(text: str) -> Any:
                return reader(normalize_cell(text) if not text.isascii() else text)

        return convert

    def _compile(self, column: Column) -> Callable[[Any], Any]:
        convert = self._converter(column)

        def one(raw: Any) -> Any:
            if raw is None:
                return None
            if isinstance(raw, str):
                if type(raw) is LossyNumber:
                    raise ValueError(_LOSSY)
                text = raw.strip()
            elif isinstance(raw, dict):
                if column.type != "json":
                    raise ValueError("不应为JSON对象 / unexpected JSON object")
                return raw  # a JSON-lines file gives the object itself
            elif isinstance(raw, bool):
                text = "是" if raw else "否"
            elif isinstance(raw, float) and column.type == "int" and not raw.is_integer():
                raise ValueError("应为整数 / not an integer")
            else:
                text = str(raw)
            if not text:
                return None
            if text[0] == "'" and text[1:].startswith(FORMULA_STARTS):
                text = text[1:]  # neutralised against CSV injection on export: the value is what follows
            return text if convert is None else convert(text)

        if column.type != "list":
            return one

        def many(raw: Any) -> tuple[Any, ...] | None:
            if raw is None:
                return None
            items = raw if isinstance(raw, list) else _SPLIT.split(str(raw))
            values = tuple(v for v in map(one, items) if v is not None)
            return values or None

        return many


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

    def bind(self, store: Any) -> ImportKind:
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

    def update_problems(self, store: Any, lookups: Lookups, old: Mapping[str, Any], record: Any, changes: Mapping[str, Any]) -> list[Problem]:
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

    def update_problems(self, store: Any, lookups: Lookups, old: Mapping[str, Any], record: Any, changes: Mapping[str, Any]) -> list[Problem]:
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
        Column("name", "名称", required=True, aliases=("区划名称",)),
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
        Column("head_name", "户主姓名", required=True, aliases=("户主",)),
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
        Column("house_area_m2", "住房面积(平方米)", "decimal", aliases=("住房面积",)),
        Column("net_income_per_capita_yuan", "人均纯收入(元)", "yuan", field="net_income_per_capita_fen", aliases=("人均纯收入",)),
        Column("bank", "开户银行"),
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
        Column("name", "姓名", required=True),
        Column("sex", "性别", vocab="sex"),
        Column("birth_date", "出生日期", "date"),
        Column("relation", "与户主关系", required=True, vocab="relation"),
        Column("ethnicity", "民族", vocab="ethnicity"),
        Column("education", "文化程度", vocab="education"),
        Column("student_status", "在校生状况", vocab="student_status"),
        Column("health", "健康状况", vocab="health"),
        Column("labour", "劳动技能", vocab="labour"),
        Column("work_status", "务工状况", vocab="work_status"),
        Column("work_months", "务工时间(月)", "int", aliases=("务工时间",)),
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
        Column("name", "单位名称", required=True),
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
        Column("name", "姓名", required=True),
        Column("unit", "单位代码", "code", required=True),
        Column("rank", "职级", required=True, vocab="cadre_rank", aliases=("级别",)),
        Column("title", "职务"),
        Column("sex", "性别", vocab="sex"),
        Column("phone", "联系电话", "phone", personal="phone"),
    ),
    description="Cadres with their rank (厅级, 处级 ...); natural key 干部编号.",
)

CORE_KINDS: tuple[ImportKind, ...] = (AREAS, UNITS, CADRES, HOUSEHOLDS, PERSONS, TAGS)


def template_dropdowns(kind: ImportKind, vocab: Vocabulary, hooks: Any) -> dict[int, list[str]]:
    """Column index -> allowed values, for the drop-down lists of an XLSX template."""
    out: dict[int, list[str]] = {}
    for i, column in enumerate(kind.columns):
        if column.vocab:
            out[i] = [t.zh for t in vocab.terms(column.vocab) if not t.retired]
        elif column.type == "bool":
            out[i] = ["是", "否"]
        elif column.name == "kind" and kind.record_type == "action":
            out[i] = sorted(hooks.action_kinds())
    return out
