"""The import kind for support actions of every registered kind.

A file of actions has the common columns (记录编号 as natural key, 帮扶类型,
dates, unit, plan, helpers, beneficiaries, amount in yuan) and, for the
kinds it holds, their quantities (``quantities.hours``) and details
(``details.topic``) columns; both come from the registered action kinds, so
a plugin's kind imports with no import code of its own.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from fupin.actions import ActionKind, SupportAction, action_row, reference_problems
from fupin.errors import Problem, ValidationError
from fupin.io.kinds import Column, ImportKind, fen_to_yuan_text
from fupin.storage import schema as S
from fupin.vocab import Vocabulary

if TYPE_CHECKING:
    from fupin.io.engine import Lookups
    from fupin.store import Store

#: Chinese headers of the usual quantities; others are shown by their name.
QUANTITY_LABELS = {"hours": "学时", "people": "人数", "days": "天数", "samples": "样本数", "sessions": "场次"}

COMMON = (
    Column("ref", "记录编号", "code", required=True, aliases=("台账编号",), description="the unit's own number for the action"),
    Column("kind", "帮扶类型", "code", required=True, aliases=("类型",)),
    Column("start", "开始日期", "date", required=True, aliases=("日期",)),
    Column("end", "结束日期", "date"),
    Column("unit", "登记单位", "code", required=True, aliases=("单位代码",)),
    Column("plan", "方案", "code"),
    Column("title", "事项", aliases=("标题",)),
    Column("helpers", "帮扶干部", "list", description="cadre codes, separated by 、"),
    Column("beneficiaries", "受益对象", "list", personal="beneficiaries", description="household:户编号、person:证件号码、unit:单位代码、village:区划代码"),
    Column("amount_yuan", "金额(元)", "yuan", field="amount_fen", aliases=("金额",), minimum=0),
)


def _column_type(annotation: Any) -> str:
    """The import column type for a details field's annotation."""
    if isinstance(annotation, str):
        annotation = {"int": int, "str": str, "bool": bool, "dt.date": dt.date, "date": dt.date}.get(annotation, annotation)
    origin = typing.get_origin(annotation)
    if origin in (tuple, list) or (isinstance(annotation, str) and annotation.startswith(("tuple", "list"))):
        return "list"
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _column_type(args[0]) if len(args) == 1 else "text"
    return {int: "int", bool: "bool", dt.date: "date", Decimal: "decimal"}.get(annotation, "text")


def detail_columns(kinds: Mapping[str, ActionKind]) -> list[Column]:
    """``details.FIELD`` and ``quantities.NAME`` columns for every kind (fields shared by name)."""
    details: dict[str, Column] = {}
    quantities: dict[str, Column] = {}
    headers: set[str] = set(QUANTITY_LABELS.values()) | {c.zh for c in COMMON}
    for kind in kinds.values():
        for name in kind.quantities:
            quantities.setdefault(
                name, Column(f"quantities.{name}", QUANTITY_LABELS.get(name, name), "decimal", aliases=(name,), minimum=0)
            )
        if kind.details is None:
            continue
        hints = typing.get_type_hints(kind.details)
        for field in attrs.fields(kind.details):
            if field.name in details:
                continue
            zh = field.metadata.get("zh", field.name)
            if zh in headers:
                # Two kinds (two plugins) used one Chinese label for different fields: name the kind too.
                zh = f"{zh}({kind.label_zh})"
            headers.add(zh)
            # metadata={"vocab": "LIST"}: the values come from a vocabulary list (checked, drop-down in templates).
            details[field.name] = Column(f"details.{field.name}", zh, _column_type(hints.get(field.name, str)), aliases=(field.name,),
                                         vocab=field.metadata.get("vocab"))
    return [*quantities.values(), *details.values()]


@attrs.define
class ActionsKind(ImportKind):
    """Support actions; bind it to a store's action kinds with :meth:`for_kinds`."""

    action_kinds: Mapping[str, ActionKind] = attrs.field(factory=dict)
    #: Only these action kinds (a plugin's own import kind, e.g. ``education.internships``); empty: every kind.
    only: tuple[str, ...] = ()

    def bind(self, store: Store) -> ActionsKind:
        kinds = store.hooks.action_kinds()
        return self.for_kinds({k: v for k, v in kinds.items() if k in self.only} if self.only else kinds)

    def for_kinds(self, kinds: Mapping[str, ActionKind]) -> ActionsKind:
        """This kind with the columns of ``kinds`` (the registered action kinds)."""
        common = COMMON
        if len(self.only) == 1:
            # A file of one kind of action needs no kind column.
            common = tuple(attrs.evolve(c, required=False) if c.name == "kind" else c for c in COMMON)
        return attrs.evolve(self, columns=(*common, *detail_columns(kinds)), action_kinds=dict(kinds))

    def row_condition(self, table: sa.Table) -> sa.ColumnElement[bool] | None:
        return table.c.kind.in_(self.only) if self.only else None

    def build(self, values: dict[str, Any], vocab: Vocabulary) -> SupportAction:
        name = values.pop("kind", None) or (self.only[0] if len(self.only) == 1 else None)
        kind = self.action_kinds.get(name)
        if kind is None:
            known = ", ".join(sorted(self.action_kinds))
            raise ValidationError.of("kind", f"未知的帮扶类型 / unknown action kind; known: {known}", name)
        details = {k.split(".", 1)[1]: v for k, v in list(values.items()) if k.startswith("details.")}
        quantities = {k.split(".", 1)[1]: v for k, v in list(values.items()) if k.startswith("quantities.")}
        for k in [k for k in values if "." in k]:
            del values[k]
        allowed = {f.name for f in attrs.fields(kind.details)} if kind.details else set()
        stray = sorted(set(details) - allowed)
        if stray:
            raise ValidationError([Problem(f"details.{k}", f"类型 {name} 没有此项 / not a detail of this kind") for k in stray])
        return SupportAction.new(
            kind,
            details=details or None,
            quantities=quantities,
            beneficiaries=values.pop("beneficiaries", ()),
            vocab=vocab,
            **values,
        )

    def record_classes(self) -> tuple[type, ...]:
        return (SupportAction, *(k.details for k in self.action_kinds.values() if k.details is not None))

    def check_chunk(self, lookups: Lookups, rows: Sequence[tuple[int, Any]]) -> dict[int, list[Problem]]:
        wanted: dict[str, set[str]] = {}
        for _, a in rows:
            wanted.setdefault("unit", set()).add(a.unit)
            if a.plan:
                wanted.setdefault("plan", set()).add(a.plan)
            wanted.setdefault("cadre", set()).update(a.helpers)
            for b in a.beneficiaries:
                wanted.setdefault(b.type, set()).add(b.ref)
        found = {}
        for what, keys in wanted.items():
            table, key = _REFERENCE_TABLES[what]
            found[what] = set(lookups.rows(table, key, keys))
        out: dict[int, list[Problem]] = {}
        for row_no, action in rows:
            problems = reference_problems(action, lambda what, keys: keys & found.get(what, set()))
            if problems:
                out[row_no] = problems
        return out

    def db_row(self, record: SupportAction) -> dict[str, Any]:
        return action_row(record) | {
            "_helpers": sorted(record.helpers),
            "_beneficiaries": sorted(str(b) for b in record.beneficiaries),
        }

    def enrich_existing(self, conn: sa.Connection, rows: Mapping[Any, dict[str, Any]]) -> None:
        ids = {r["id"]: r for r in rows.values()}
        for r in ids.values():
            r["_helpers"], r["_beneficiaries"] = [], []
        id_list = list(ids)
        for i in range(0, len(id_list), 900):
            part = id_list[i : i + 900]
            for aid, code in conn.execute(sa.select(S.action_helpers.c.action_id, S.action_helpers.c.cadre_code).where(S.action_helpers.c.action_id.in_(part))):
                ids[aid]["_helpers"].append(code)
            for aid, typ, ref in conn.execute(
                sa.select(S.action_beneficiaries.c.action_id, S.action_beneficiaries.c.type, S.action_beneficiaries.c.ref).where(S.action_beneficiaries.c.action_id.in_(part))
            ):
                ids[aid]["_beneficiaries"].append(f"{typ}:{ref}")
        for r in ids.values():
            r["_helpers"].sort()
            r["_beneficiaries"].sort()

    def after_write(self, conn: sa.Connection, inserted: Sequence[tuple[Any, int]], updated: Sequence[tuple[Any, dict, dict]]) -> None:
        links: list[tuple[int, Any]] = list(inserted)
        for record, old, diff in updated:
            if "_helpers" in diff or "_beneficiaries" in diff:
                conn.execute(S.action_helpers.delete().where(S.action_helpers.c.action_id == old["id"]))
                conn.execute(S.action_beneficiaries.delete().where(S.action_beneficiaries.c.action_id == old["id"]))
                links.append((record, old["id"]))
        helpers = [{"action_id": aid, "cadre_code": c} for a, aid in links for c in a.helpers]
        bens = [{"action_id": aid, "type": b.type, "ref": b.ref} for a, aid in links for b in a.beneficiaries]
        if helpers:
            conn.execute(S.action_helpers.insert(), helpers)
        if bens:
            conn.execute(S.action_beneficiaries.insert(), bens)

    def export_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        out = {
            "ref": row["ref"],
            "kind": row["kind"],
            "start": row["start_date"].isoformat(),
            "end": row["end_date"].isoformat(),
            "unit": row["unit_code"],
            "plan": row["plan_name"],
            "title": row["title"] or None,
            "helpers": "、".join(row.get("_helpers", [])) or None,
            "beneficiaries": "、".join(row.get("_beneficiaries", [])) or None,
            "amount_yuan": fen_to_yuan_text(row["amount_fen"]),
        }
        for name, value in (row["quantities"] or {}).items():
            out[f"quantities.{name}"] = value
        for name, value in (row["details"] or {}).items():
            out[f"details.{name}"] = "、".join(map(str, value)) if isinstance(value, list) else value
        return out


_REFERENCE_TABLES = {
    "unit": ("units", "code"),
    "plan": ("plans", "name"),
    "cadre": ("cadres", "code"),
    "household": ("households", "number"),
    "person": ("persons", "id_number"),
    "village": ("areas", "code"),
}

ACTIONS = ActionsKind(
    name="actions",
    label_zh="帮扶记录",
    label_en="Support actions",
    table="support_actions",
    columns=COMMON,
    key=("ref",),
    record_type="action",
    scope=("action", "unit"),
    write_permission="actions.write",
    read_permission="actions.read",
    description="Support actions of any registered kind; natural key 记录编号 (the unit's ledger number).",
)


def actions_of(kind: str, *, name: str | None = None, label_zh: str = "", label_en: str = "", description: str = "") -> ActionsKind:
    """An import kind for the support actions of one action kind (a plugin's batch files).

    Its files have the common action columns plus the kind's details and
    quantities (no kind column needed); export writes only actions of that
    kind. Return it from ``fupin_importers``::

        @hookimpl
        def fupin_importers():
            return [actions_of("education.internship", name="education.internships", label_zh="教育实习")]
    """
    return attrs.evolve(
        ACTIONS, name=name or kind, label_zh=label_zh or kind, label_en=label_en or kind, only=(kind,),
        description=description or f"Support actions of kind {kind}; natural key 记录编号.",
    )
