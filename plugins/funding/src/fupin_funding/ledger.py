"""The double-entry ledger in integer fen: funds, entries, lines, balances.

Every entry moves ``amount_fen`` into or out of one fund and is posted as two
lines that balance (debit = credit):

- money in (``appropriation`` into a budget fund, ``donation`` into the
  foundation or a restricted fund): debit ``fund``, credit ``income:FLOW``;
- money out (``spending`` on a purpose, ``aid`` to a person or household):
  debit ``expense:PURPOSE``, credit ``fund``.

A fund's balance is the sum of its ``fund`` lines (debit minus credit). An
entry that would take a fund below zero is refused, as is money of a
restricted fund spent on another purpose: nothing is written, and the
error says why. The check and the write happen in one transaction, with the
fund rows locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises
writers), so two clerks cannot overspend a fund between them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from fupin import Problem, ValidationError

from fupin_funding.tables import ENTRIES, FOSTER, FUNDS, LINES, PROJECTS

FUND_KINDS = {"budget": "年度专项预算", "foundation": "基金会", "restricted": "限定用途捐赠"}
FLOWS = {"appropriation": "预算拨款", "donation": "捐赠收入", "spending": "项目支出", "aid": "资助发放"}
INFLOWS = ("appropriation", "donation")
PURPOSES = {
    "study_aid": "助学金", "festival_support": "春节慰问", "foster_reward": "爱心奖励",
    "infrastructure": "基础设施", "industry": "产业发展", "training": "培训", "general": "综合",
}
#: Recurring aid programmes: programme -> (label, per person or household).
PROGRAMMES = {"study_aid": ("助学金", "person"), "festival_support": ("春节送温暖", "person"), "foster_reward": ("收留孤寡老人爱心奖励", "household")}
AREAS = {"water": "水利", "roads": "道路", "culture": "文化", "industry": "产业"}
STATUSES = {"planned": "规划", "in_progress": "在建", "completed": "完工", "cancelled": "取消"}


def _code(labels: dict[str, Any], what: str, optional: bool = False):
    """Converter: a code or its Chinese label -> the code; anything else is refused."""
    back = {(v[0] if isinstance(v, tuple) else v): k for k, v in labels.items()}

    def convert(value: Any) -> Any:
        if value in (None, "") and optional:
            return None
        text = str(value).strip()
        if text in labels:
            return text
        if text in back:
            return back[text]
        raise ValidationError.of(what, f"未知值 / unknown value; known: {', '.join(labels)}", value)

    return convert


def _text(value: Any) -> Any:
    return None if value is None or str(value).strip() == "" else str(value).strip()


def _fen(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError.of("amount_fen", "金额须为整数分 / the amount must be integer fen", value)
    if value <= 0:
        raise ValidationError.of("amount_fen", "金额须大于零 / the amount must be positive", value)
    return value


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError.of("entry_date", "不是日期 / not a date (YYYY-MM-DD)", value) from None


@attrs.frozen
class Fund:
    """A fund: a year's dedicated budget, the foundation, or a restricted donation fund (one purpose)."""

    code: str = attrs.field(converter=_text)
    name: str = attrs.field(converter=_text)
    kind: str = attrs.field(converter=_code(FUND_KINDS, "kind"))
    purpose: str | None = attrs.field(default=None, converter=_code(PURPOSES, "purpose", optional=True))
    year: int | None = None
    plan_name: str | None = None

    def __attrs_post_init__(self) -> None:
        problems = []
        if not self.code:
            problems.append(Problem("code", "必填 / required"))
        if not self.name:
            problems.append(Problem("name", "必填 / required"))
        if self.kind == "budget" and self.year is None:
            problems.append(Problem("year", "年度预算须写明年度 / a budget fund needs its year"))
        if self.kind == "restricted" and self.purpose is None:
            problems.append(Problem("purpose", "限定用途基金须写明用途 / a restricted fund needs its purpose"))
        if self.kind != "restricted" and self.purpose is not None:
            problems.append(Problem("purpose", "只有限定用途基金有用途 / only restricted funds have a purpose", self.purpose))
        if problems:
            raise ValidationError(problems, record=f"fund {self.code}")


@attrs.frozen
class Entry:
    """One ledger entry: money into or out of one fund (see the module docstring).

    ``aid_year`` says which year's programme an aid payment is for; by default the
    year of its date (for the Spring Festival programmes, a payment from October
    on is for the next year's festival).
    """

    voucher: str = attrs.field(converter=_text)
    entry_date: dt.date = attrs.field(converter=_date)
    flow: str = attrs.field(converter=_code(FLOWS, "flow"))
    fund_code: str = attrs.field(converter=_text)
    amount_fen: int = attrs.field(converter=_fen)
    approved_by: str = attrs.field(converter=_text)
    entered_by: str | None = attrs.field(default=None, converter=_text)
    purpose: str | None = attrs.field(default=None, converter=_code(PURPOSES, "purpose", optional=True))
    programme: str | None = attrs.field(default=None, converter=_code(PROGRAMMES, "programme", optional=True))
    aid_year: int | None = None
    person: str | None = attrs.field(default=None, converter=_text)
    household: str | None = attrs.field(default=None, converter=_text)
    project_code: str | None = attrs.field(default=None, converter=_text)
    donor: str | None = attrs.field(default=None, converter=_text)
    description: str = attrs.field(default="", converter=lambda v: _text(v) or "")
    plan_name: str | None = None

    def __attrs_post_init__(self) -> None:
        problems = []
        if not self.voucher:
            problems.append(Problem("voucher", "凭证号/收据号必填 / a voucher or receipt number is required"))
        if not self.fund_code:
            problems.append(Problem("fund_code", "必填 / required"))
        if not self.approved_by:
            problems.append(Problem("approved_by", "审批人必填 / who approved it is required"))
        elif self.entered_by and self.entered_by == self.approved_by:
            problems.append(Problem("approved_by", "经办人不能审批自己的凭证 / the person who enters an entry cannot approve it", self.approved_by))
        if self.flow == "donation" and not self.donor:
            problems.append(Problem("donor", "捐赠须写明捐赠人 / a donation needs its donor"))
        if self.flow == "spending" and not self.purpose:
            problems.append(Problem("purpose", "支出须写明用途 / spending needs its purpose"))
        if self.flow == "aid":
            if not self.programme:
                problems.append(Problem("programme", "资助须写明项目 / aid needs its programme"))
            else:
                if self.purpose not in (None, self.programme):
                    problems.append(Problem("purpose", f"资助用途即项目 {self.programme} / the purpose of aid is its programme", self.purpose))
                per = PROGRAMMES[self.programme][1]
                if per == "person" and not self.person:
                    problems.append(Problem("person", "须写明受助人身份证号 / the person paid is required"))
                if per == "household" and not self.household:
                    problems.append(Problem("household", "须写明受助户编号 / the household paid is required"))
        elif self.programme:
            problems.append(Problem("programme", "只有资助有项目 / only aid has a programme", self.programme))
        if problems:
            raise ValidationError(problems, record=f"entry {self.voucher}")
        if self.flow == "aid":
            object.__setattr__(self, "purpose", self.programme)
            if self.aid_year is None:
                festival = self.programme != "study_aid" and self.entry_date.month >= 10
                object.__setattr__(self, "aid_year", self.entry_date.year + (1 if festival else 0))

    @property
    def inflow(self) -> bool:
        return self.flow in INFLOWS

    def lines(self) -> list[dict[str, Any]]:
        """The two balancing lines (without ``entry_id``)."""
        other = f"income:{self.flow}" if self.inflow else f"expense:{self.purpose}"
        fund_side = {"fund_code": self.fund_code, "account": "fund"}
        other_side = {"fund_code": self.fund_code, "account": other}
        if self.inflow:
            return [fund_side | {"debit_fen": self.amount_fen, "credit_fen": 0}, other_side | {"debit_fen": 0, "credit_fen": self.amount_fen}]
        return [other_side | {"debit_fen": self.amount_fen, "credit_fen": 0}, fund_side | {"debit_fen": 0, "credit_fen": self.amount_fen}]


def yuan(fen: int) -> str:
    """12345 fen -> ``"123.45"``."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


# -- reading ------------------------------------------------------------------------------


def balances(conn: sa.Connection, metadata: sa.MetaData, funds: Iterable[str] | None = None, *, until: dt.date | None = None) -> dict[str, int]:
    """Fund code -> balance in fen: the sum of its ``fund`` lines (every fund, 0 when it has none)."""
    f, ln, e = (metadata.tables[n] for n in (FUNDS, LINES, ENTRIES))
    codes = list(conn.execute(sa.select(f.c.code).where(f.c.code.in_(list(funds)) if funds is not None else sa.true())).scalars())
    out = dict.fromkeys(codes, 0)
    query = sa.select(ln.c.fund_code, sa.func.coalesce(sa.func.sum(ln.c.debit_fen - ln.c.credit_fen), 0)).where(ln.c.account == "fund")
    if funds is not None:
        query = query.where(ln.c.fund_code.in_(codes))
    if until is not None:
        query = query.join(e, e.c.id == ln.c.entry_id).where(e.c.entry_date <= until)
    for code, total in conn.execute(query.group_by(ln.c.fund_code)):
        out[code] = int(total)
    return out


def entry_totals(conn: sa.Connection, metadata: sa.MetaData) -> dict[str, int]:
    """Fund code -> money in minus money out, from the entries themselves (reconciliation)."""
    e = metadata.tables[ENTRIES]
    signed = sa.case((e.c.flow.in_(INFLOWS), e.c.amount_fen), else_=-e.c.amount_fen)
    return {code: int(total) for code, total in conn.execute(sa.select(e.c.fund_code, sa.func.sum(signed)).group_by(e.c.fund_code))}


def unbalanced_entries(conn: sa.Connection, metadata: sa.MetaData) -> list[str]:
    """Vouchers of entries whose lines do not balance (should always be empty)."""
    e, ln = metadata.tables[ENTRIES], metadata.tables[LINES]
    query = (
        sa.select(e.c.voucher).outerjoin(ln, ln.c.entry_id == e.c.id).group_by(e.c.id, e.c.voucher)
        .having(sa.or_(sa.func.coalesce(sa.func.sum(ln.c.debit_fen), 0) != sa.func.coalesce(sa.func.sum(ln.c.credit_fen), 0),
                       sa.func.count(ln.c.id) == 0))
    )
    return list(conn.execute(query).scalars())


# -- checking and writing -----------------------------------------------------------------


def _lock_funds(conn: sa.Connection, metadata: sa.MetaData, codes: Sequence[str]) -> dict[str, Any]:
    f = metadata.tables[FUNDS]
    query = sa.select(f).where(f.c.code.in_(sorted(set(codes)))).order_by(f.c.code)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return {r.code: r for r in conn.execute(query)}


def check_entries(conn: sa.Connection, metadata: sa.MetaData, rows: Sequence[tuple[int, Entry]], *, stored: set[str] = frozenset()) -> dict[int, list[Problem]]:
    """Row number -> why the entry is refused: unknown fund, wrong kind of fund, restricted
    purpose, overspending (taking the earlier accepted rows into account, in order).

    Entries whose voucher is in ``stored`` (already posted: a re-import) are not counted again.
    Locks the funds' rows until the transaction ends.
    """
    funds = _lock_funds(conn, metadata, [e.fund_code for _, e in rows])
    balance = balances(conn, metadata, list(funds))
    out: dict[int, list[Problem]] = {}
    for row_no, entry in rows:
        problems = []
        fund = funds.get(entry.fund_code)
        if fund is None:
            out[row_no] = [Problem("fund_code", "资金账户不存在 / no such fund", entry.fund_code)]
            continue
        if entry.flow == "appropriation" and fund.kind != "budget":
            problems.append(Problem("fund_code", "预算拨款只能进入年度预算账户 / appropriations go into a budget fund", entry.fund_code))
        if entry.flow == "donation":
            if fund.kind == "budget":
                problems.append(Problem("fund_code", "捐赠不能进入年度预算账户 / donations go to the foundation or a restricted fund", entry.fund_code))
            if entry.purpose and fund.purpose != entry.purpose:
                problems.append(Problem("purpose", f"限定用途捐赠须进入用途为 {entry.purpose} 的限定基金 / a restricted donation goes into a restricted fund of its purpose", entry.purpose))
        if not entry.inflow and fund.kind == "restricted" and entry.purpose != fund.purpose:
            problems.append(Problem(
                "purpose",
                f"限定用途资金只能用于 {PURPOSES[fund.purpose]} ({fund.purpose}) / restricted money of {fund.code} may be spent only on {fund.purpose}, not {entry.purpose}",
                entry.purpose,
            ))
        if not problems and entry.voucher not in stored:
            if entry.inflow:
                balance[fund.code] += entry.amount_fen
            elif balance[fund.code] < entry.amount_fen:
                problems.append(Problem(
                    "amount_fen",
                    f"余额不足 / overspend refused: {fund.code} holds {yuan(balance[fund.code])} yuan, the entry takes {yuan(entry.amount_fen)} yuan",
                    entry.amount_fen,
                ))
            else:
                balance[fund.code] -= entry.amount_fen
        if problems:
            out[row_no] = problems
    return out


def reference_problems(conn: sa.Connection, metadata: sa.MetaData, entry: Entry) -> list[Problem]:
    """Persons, households and projects an entry names must exist."""
    t = metadata.tables
    problems = []
    for value, table, column, label, field in (
        (entry.person, "persons", "id_number", "人员 / person", "person"),
        (entry.household, "households", "number", "户 / household", "household"),
        (entry.project_code, PROJECTS, "code", "项目 / project", "project_code"),
    ):
        if value and conn.execute(sa.select(t[table].c[column]).where(t[table].c[column] == value)).first() is None:
            problems.append(Problem(field, f"{label} 未登记 / not registered", value))
    return problems


def entry_row(entry: Entry, entered_by: str) -> dict[str, Any]:
    row = attrs.asdict(entry)
    row["entered_by"] = entry.entered_by or entered_by
    return row


def write_lines(conn: sa.Connection, metadata: sa.MetaData, entries: Sequence[tuple[Entry, int]]) -> None:
    """The balancing lines of entries just inserted (entry, id)."""
    rows = [line | {"entry_id": entry_id} for entry, entry_id in entries for line in entry.lines()]
    if rows:
        conn.execute(metadata.tables[LINES].insert(), rows)


def post(store: Any, entry: Entry) -> int:
    """Post one entry (needs ``actions.write``): checked, written with its lines and audited, or refused whole."""
    return post_many(store, [entry])[0]


def post_many(store: Any, entries: Sequence[Entry]) -> list[int]:
    """Post entries in order, in one transaction: all are written, or (any refused) none."""
    store.access.require("actions.write", "记账 / ledger entry")
    md = store.metadata
    e = md.tables[ENTRIES]
    ids = []
    with store.transaction() as conn:
        problems = check_entries(conn, md, list(enumerate(entries)))
        vouchers = [x.voucher for x in entries]
        used = set(conn.execute(sa.select(e.c.voucher).where(e.c.voucher.in_(vouchers))).scalars())
        seen: set[str] = set()
        for n, entry in enumerate(entries):
            more = reference_problems(conn, md, entry)
            if entry.voucher in used or entry.voucher in seen:
                more.append(Problem("voucher", "凭证号已使用 / voucher number already used", entry.voucher))
            seen.add(entry.voucher)
            if more:
                problems.setdefault(n, []).extend(more)
        if problems:
            first = min(problems)
            raise ValidationError(problems[first], record=f"entry {entries[first].voucher}")
        for entry in entries:
            row = entry_row(entry, str(store.actor))
            entry_id = conn.execute(e.insert().values(**row)).inserted_primary_key[0]
            write_lines(conn, md, [(entry, entry_id)])
            store.audit_event("insert", ENTRIES, entry.voucher, {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()})
            ids.append(entry_id)
    return ids


def add_fund(store: Any, fund: Fund) -> None:
    """Open a fund (needs ``actions.write``)."""
    store.access.require("actions.write", "开设资金账户 / open a fund")
    f = store.metadata.tables[FUNDS]
    with store.transaction() as conn:
        if conn.execute(sa.select(f.c.code).where(f.c.code == fund.code)).first() is not None:
            raise ValidationError.of("code", "资金账户已存在 / fund already exists", fund.code)
        row = attrs.asdict(fund)
        conn.execute(f.insert().values(**row))
        store.audit_event("insert", FUNDS, fund.code, row)


@attrs.frozen
class Project:
    """A project the plan funds: infrastructure (water, roads, culture) or industry (a crop, its area in 亩, households)."""

    code: str = attrs.field(converter=_text)
    name: str = attrs.field(converter=_text)
    area: str = attrs.field(converter=_code(AREAS, "area"))
    status: str = attrs.field(converter=_code(STATUSES, "status"))
    start_date: dt.date = attrs.field(converter=_date)
    budget_fen: int = attrs.field(default=0, converter=lambda v: 0 if v is None else v)
    key_project: bool = attrs.field(default=False, converter=lambda v: bool(v))
    end_date: dt.date | None = attrs.field(default=None, converter=lambda v: None if v in (None, "") else _date(v))
    village: str | None = None
    crop: str | None = attrs.field(default=None, converter=_text)
    area_mu: Any = None
    households: int | None = None
    contiguous: bool | None = None
    plan_name: str | None = None

    def __attrs_post_init__(self) -> None:
        problems = []
        if not self.code or not self.name:
            problems.append(Problem("code", "编号和名称必填 / code and name are required"))
        if isinstance(self.budget_fen, bool) or not isinstance(self.budget_fen, int) or self.budget_fen < 0:
            problems.append(Problem("budget_fen", "预算须为非负整数分 / the budget must be integer fen >= 0", self.budget_fen))
        if self.area == "industry" and not self.crop:
            problems.append(Problem("crop", "产业项目须写明作物 / an industry project needs its crop"))
        if self.area_mu is not None and self.area_mu < 0:
            problems.append(Problem("area_mu", "面积不能为负 / area cannot be negative", self.area_mu))
        if problems:
            raise ValidationError(problems, record=f"project {self.code}")


def add_project(store: Any, project: Project) -> None:
    """Register a project (needs ``actions.write``)."""
    store.access.require("actions.write", "登记项目 / register a project")
    p = store.metadata.tables[PROJECTS]
    with store.transaction() as conn:
        if conn.execute(sa.select(p.c.code).where(p.c.code == project.code)).first() is not None:
            raise ValidationError.of("code", "项目已存在 / project already exists", project.code)
        row = attrs.asdict(project)
        conn.execute(p.insert().values(**row))
        store.audit_event("insert", PROJECTS, project.code, {k: str(v) if v is not None else None for k, v in row.items()})


def add_foster_home(store: Any, elder: str, household: str, start: dt.date, end: dt.date | None = None, note: str = "") -> None:
    """Record that ``household`` took in the 孤寡老人 ``elder`` from ``start`` (needs ``registry.write``)."""
    store.access.require("registry.write", "登记收留家庭 / record a foster family")
    t = store.metadata.tables
    with store.transaction() as conn:
        problems = []
        if conn.execute(sa.select(t["persons"].c.id).where(t["persons"].c.id_number == elder)).first() is None:
            problems.append(Problem("elder", "人员未登记 / person not registered", elder))
        if conn.execute(sa.select(t["households"].c.id).where(t["households"].c.number == household)).first() is None:
            problems.append(Problem("household", "户未登记 / household not registered", household))
        if problems:
            raise ValidationError(problems, record=f"foster home {elder}")
        row = {"elder": elder, "household": household, "start": start, "end": end, "note": note}
        conn.execute(t[FOSTER].insert().values(**row))
        store.audit_event("insert", FOSTER, f"{elder}/{household}", {k: str(v) if v is not None else None for k, v in row.items()})


def spending_by_purpose(conn: sa.Connection, metadata: sa.MetaData, start: dt.date, end: dt.date, fund_kinds: Iterable[str] | None = None) -> dict[str, int]:
    """Purpose -> fen spent (spending and aid) between ``start`` and ``end``."""
    e, f = metadata.tables[ENTRIES], metadata.tables[FUNDS]
    query = (
        sa.select(e.c.purpose, sa.func.sum(e.c.amount_fen)).join(f, f.c.code == e.c.fund_code)
        .where(~e.c.flow.in_(INFLOWS), e.c.entry_date >= start, e.c.entry_date <= end)
    )
    if fund_kinds is not None:
        query = query.where(f.c.kind.in_(list(fund_kinds)))
    out: dict[str, int] = defaultdict(int)
    for purpose, total in conn.execute(query.group_by(e.c.purpose)):
        out[purpose] += int(total)
    return dict(out)
