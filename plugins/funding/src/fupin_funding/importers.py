"""Batch import and export: signed aid lists (disbursements), donations, projects.

``funding.disbursements`` reads back the list ``fupin funding aid-list`` wrote,
once signed: every row needs the payment date and the recipient's signature
(a row left unsigned was not paid: delete it, or import with ``--on-error
skip``). ``funding.donations`` takes receipts of the foundation. Both go
through the ledger's rules, row by row: a row on a fund that is neither the
importer's unit's nor granted to it on the row's date, whose 经办人 names
somebody else than the importer, whose 审批人 is the importer or not a user
holding ``funding.approve`` over the fund, that would take a fund below zero
on any day from its date on, or spend restricted money on another purpose, is
refused with its row number, column and reason, and by default the whole file
with it. The voucher or receipt number is the natural key, so re-importing a
file pays nobody twice; a new voucher paying someone already paid for that
programme and year is refused too, and so is a voucher carrying an ID number
(15 or more digits in a row). A posted entry is never changed by an import
(post a correcting entry instead). Exports list only the entries of funds
the exporter reaches.

``funding.projects`` needs each project's owning unit (单位), one the
importer's role reaches for writing; a project counts for the plan it names
(方案) and for plans it is shared with (``fupin funding share``), only in the
plan's villages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from fupin import Problem, ValidationError
from fupin.ext import Column, ModelKind, Reference

from fupin_funding import ledger, scope
from fupin_funding.ledger import Entry, Project
from fupin_funding.tables import ENTRIES, PROJECTS

_COMMON_TAIL = (
    Column("fund_code", "资金账户", "code", required=True, description="funding_funds code"),
    Column("approved_by", "审批人", "text", required=True, description="UNIT:USER, a registered user holding funding.approve (not you)"),
    Column("entered_by", "经办人", "text", description="always the user importing: leave it empty"),
    Column("description", "摘要", "text"),
)


@attrs.define
class EntryKind(ModelKind):
    """Ledger entries of one flow, checked by the ledger's rules and posted with their lines."""

    flow: str = "aid"
    store: Any = None

    def bind(self, store: Any) -> EntryKind:
        return attrs.evolve(self, store=store)

    def build(self, values: dict[str, Any], vocab: Any) -> Entry:
        values = dict(values)
        signed = values.pop("signed", None)
        values.pop("name", None)
        if self.flow == "aid" and not signed:
            raise ValidationError.of("signed", "未签字: 未发放 / not signed, so not paid: delete the row or import with --on-error skip")
        return Entry(flow=self.flow, **values)

    def record_classes(self) -> tuple[type, ...]:
        return (Entry,)

    def compared_fields(self, present: Any) -> set[str] | None:
        # Who entered a stored entry is who posted it, not whoever imports the file again.
        return {c.target for c in present if c.target not in ("signed", "name", "entered_by")}

    def row_condition(self, table: sa.Table) -> sa.ColumnElement[bool] | None:
        """This kind's flow, on the funds the exporter reaches (``actions.read``)."""
        if self.store is None:
            return table.c.flow == self.flow
        with self.store.reading(scope.READ) as conn:
            return sa.and_(table.c.flow == self.flow, scope.funds_condition(self.store, conn, table.c.fund_code))

    def db_row(self, record: Entry) -> dict[str, Any]:
        actor = str(self.store.actor) if self.store is not None else ""
        return ledger.entry_row(record, actor)

    def check_chunk(self, lookups: Any, rows: Sequence[tuple[int, Any]]) -> dict[int, list[Problem]]:
        """The ledger's rules per row (:func:`fupin_funding.ledger.check_entries`), stored vouchers, payments made twice."""
        conn = lookups.conn
        md = self.store.metadata
        e = md.tables[ENTRIES]
        vouchers = [r.voucher for _, r in rows]
        stored, mine = set(), set()
        readable = scope.funds_condition(self.store, conn, e.c.fund_code, reached=scope.reach(self.store, conn, scope.READ))
        for i in range(0, len(vouchers), 500):
            part = e.c.voucher.in_(vouchers[i : i + 500])
            stored.update(conn.execute(sa.select(e.c.voucher).where(part)).scalars())
            mine.update(conn.execute(sa.select(e.c.voucher).where(part, readable)).scalars())
        out: dict[int, list[Problem]] = {}
        for row_no, record in rows:
            if record.voucher in stored - mine:
                # Somebody else's entry: say no more than that the number is taken.
                out[row_no] = [Problem("voucher", "凭证号已被使用 / voucher number already used", record.voucher)]
        fresh = [(n, r) for n, r in rows if n not in out]
        paid = ledger.paid_beneficiaries(conn, md, [r for _, r in fresh if r.voucher not in stored])
        problems, _denied = ledger.check_entries(self.store, conn, fresh, stored=stored, paid=paid)
        out.update(problems)
        return out

    def after_write(self, conn: sa.Connection, inserted: Sequence[tuple[Any, int]], updated: Sequence[tuple[Any, dict, dict]]) -> None:
        if updated:
            vouchers = ", ".join(sorted(old["voucher"] for _, old, _ in updated))
            raise ValidationError.of("voucher", "已过账的凭证不能由导入修改, 请另作更正凭证 / posted entries cannot be changed by an import; post a correcting entry", vouchers)
        ledger.write_lines(conn, self.store.metadata, list(inserted))
        ledger.refuse_negative(conn, self.store.metadata, {r.fund_code for r, _ in inserted})


def _references(*fields: str) -> tuple[Reference, ...]:
    known = {
        "fund_code": Reference("fund_code", "funding_funds", "code", "资金账户 / fund", "fund_code"),
        "person": Reference("person", "persons", "id_number", "人员 / person", "person"),
        "household": Reference("household", "households", "number", "户 / household", "household"),
        "project_code": Reference("project_code", PROJECTS, "code", "项目 / project", "project_code"),
    }
    return tuple(known[f] for f in fields)


def disbursements() -> EntryKind:
    return EntryKind(
        name="funding.disbursements", label_zh="资助发放(签字表)", label_en="Aid disbursements (signed lists)",
        table=ENTRIES, key=("voucher",), record_type="funding.entry", model=Entry, flow="aid",
        write_permission="actions.write", read_permission="actions.read",
        references=_references("fund_code", "person", "household"),
        columns=(
            Column("voucher", "凭证号", "code", required=True),
            Column("programme", "资助项目", "code", required=True, description="study_aid / festival_support / foster_reward"),
            Column("aid_year", "年度", "int", required=True),
            Column("person", "身份证号", "id_number", personal="id"),
            Column("household", "户编号", "code"),
            Column("name", "姓名", "text", import_only=True),
            Column("amount_fen", "金额", "yuan", required=True, aliases=("金额(元)",)),
            Column("entry_date", "发放日期", "date", required=True),
            Column("signed", "领款人签字", "text", import_only=True),
            *_COMMON_TAIL,
        ),
        description="签字后的资助发放表导回为发放记录 / a signed aid list, back as disbursements",
    )


def donations() -> EntryKind:
    return EntryKind(
        name="funding.donations", label_zh="基金会捐赠", label_en="Foundation donations",
        table=ENTRIES, key=("voucher",), record_type="funding.entry", model=Entry, flow="donation",
        write_permission="actions.write", read_permission="actions.read",
        references=_references("fund_code"),
        columns=(
            Column("voucher", "收据号", "code", required=True),
            Column("entry_date", "捐赠日期", "date", required=True),
            Column("donor", "捐赠人", "text", required=True),
            Column("amount_fen", "金额", "yuan", required=True, aliases=("金额(元)",)),
            Column("purpose", "限定用途", "code", description="empty: unrestricted"),
            *_COMMON_TAIL,
        ),
    )


@attrs.define
class ProjectKind(ModelKind):
    """Projects: each owned by a registered unit the importer may write for (a project of no unit is refused)."""

    store: Any = None

    def bind(self, store: Any) -> ProjectKind:
        return attrs.evolve(self, store=store)

    def check_chunk(self, lookups: Any, rows: Sequence[tuple[int, Any]]) -> dict[int, list[Problem]]:
        """A row whose unit the importer's ``actions.write`` does not reach is refused."""
        if self.store is None:
            return {}
        allowed = self.store.access.unit_allowed
        return {n: [Problem("owner_unit", f"单位 {r.owner_unit} 不在你的权限范围内 / unit {r.owner_unit} is outside your scope", r.owner_unit)]
                for n, r in rows if not allowed(scope.WRITE, r.owner_unit)}

    def update_problems(self, store: Any, lookups: Any, old: Any, record: Any, changes: Any) -> list[Problem]:
        """A stored project of a unit the importer does not reach is not changed (nor taken over by naming another unit)."""
        owner = old.get("owner_unit")
        if owner is not None and store.access.unit_allowed(scope.WRITE, owner) or "all" in store.access.scopes(scope.WRITE):
            return []
        return [Problem("owner_unit", f"项目 {old.get('code')} 属于 {old.get('owner_unit')}, 不在你的权限范围内 / "
                                      f"the project belongs to {old.get('owner_unit')}, outside your scope", old.get("owner_unit"))]


def projects() -> ModelKind:
    return ProjectKind(
        name="funding.projects", label_zh="帮扶项目", label_en="Projects",
        table=PROJECTS, key=("code",), record_type="funding.project", model=Project,
        write_permission="actions.write", read_permission="actions.read",
        columns=(
            Column("code", "项目编号", "code", required=True),
            Column("name", "项目名称", "text", required=True),
            Column("area", "类别", "code", required=True, description="water / roads / culture / industry"),
            Column("status", "状态", "code", required=True, description="planned / in_progress / completed / cancelled"),
            Column("start_date", "开始日期", "date", required=True),
            Column("end_date", "结束日期", "date"),
            Column("budget_fen", "预算", "yuan"),
            Column("key_project", "重点项目", "bool"),
            Column("village", "村", "code"),
            Column("crop", "作物", "text"),
            Column("area_mu", "面积(亩)", "decimal"),
            Column("households", "参与户数", "int"),
            Column("contiguous", "连片", "bool"),
            Column("plan_name", "方案", "code", description="the plan it counts for (empty: none until shared)"),
            Column("owner_unit", "单位", "code", required=True, description="the unit that runs and pays for it"),
        ),
        references=(Reference("owner_unit", "units", "code", "单位 / unit", "owner_unit"),),
    )


def import_kinds() -> list[ModelKind]:
    return [disbursements(), donations(), projects()]
