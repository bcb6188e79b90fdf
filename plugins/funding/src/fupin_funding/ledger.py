"""The double-entry ledger in integer fen: funds, entries, lines, balances.

Every entry moves ``amount_fen`` into or out of one fund and is posted as two
lines that balance (debit = credit):

- money in (``appropriation`` into a budget fund, ``donation`` into the
  foundation or a restricted fund): debit ``fund``, credit ``income:FLOW``;
- money out (``spending`` on a purpose, ``aid`` to a person or household):
  debit ``expense:PURPOSE``, credit ``fund``.

A fund's balance is the sum of its ``fund`` lines (debit minus credit). An
entry that would take a fund below zero on any day from its date on is
refused (a back-dated withdrawal is checked against every later day, not
today's balance), as is money of a restricted fund spent on another purpose:
nothing is written, and the error says why. The check and the write happen
in one transaction, with the fund rows locked (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite serialises writers), so two clerks cannot overspend a
fund between them.

Every fund belongs to a unit; only that unit, its plan office, and units it
granted the fund to may book on it, and only they see it (:mod:`fupin_funding.scope`).
The clerk who books an entry (经办人) is always the actor; someone else who
holds ``funding.approve`` over the fund approves it (审批人). Voucher numbers
carry no personal data.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from fupin import Problem, ValidationError
from fupin.ext import AccessDenied

from fupin_funding import scope
from fupin_funding.scope import READ, WRITE
from fupin_funding.tables import ENTRIES, FOSTER, FUNDS, GRANTS, LINES, PROJECTS, SHARES

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


def _user(value: Any) -> Any:
    text = _text(value)
    return None if text is None else scope.normalise_user(text)


#: An ID number, or anything as long as one (a voucher must not carry personal data).
LONG_DIGITS = re.compile(r"\d{15,}")


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
    #: The unit whose money it is (default: the plan's helping unit, else the actor's unit).
    owner_unit: str | None = attrs.field(default=None, converter=_text)

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

    ``approved_by`` is the registered user (``UNIT:USER``) who approved it;
    ``entered_by`` need not be given: it is always the actor who posts the
    entry (one naming somebody else is refused).
    """

    voucher: str = attrs.field(converter=_text)
    entry_date: dt.date = attrs.field(converter=_date)
    flow: str = attrs.field(converter=_code(FLOWS, "flow"))
    fund_code: str = attrs.field(converter=_text)
    amount_fen: int = attrs.field(converter=_fen)
    approved_by: str = attrs.field(converter=_user)
    entered_by: str | None = attrs.field(default=None, converter=_user)
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
        elif LONG_DIGITS.search(self.voucher):
            problems.append(Problem("voucher", "凭证号不能含身份证号或15位以上的数字 / a voucher must not carry an ID number "
                                               "(or any run of 15 or more digits)"))
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
#
# The functions taking a connection read the funds they are given and nothing
# else: they serve code that has already decided which funds count (the
# targets count the plan's funds as aggregate figures). What a person reads
# goes through the functions taking the store, which show only the funds the
# actor reaches (scope.fund_condition).


def balances(conn: sa.Connection, metadata: sa.MetaData, funds: Iterable[str], *, until: dt.date | None = None) -> dict[str, int]:
    """Fund code -> balance in fen of each of ``funds``: the sum of its ``fund`` lines (0 when it has none)."""
    f, ln, e = (metadata.tables[n] for n in (FUNDS, LINES, ENTRIES))
    codes = list(conn.execute(sa.select(f.c.code).where(f.c.code.in_(sorted(set(funds))))).scalars())
    out = dict.fromkeys(codes, 0)
    query = sa.select(ln.c.fund_code, sa.func.coalesce(sa.func.sum(ln.c.debit_fen - ln.c.credit_fen), 0)).where(
        ln.c.account == "fund", ln.c.fund_code.in_(codes))
    if until is not None:
        query = query.join(e, e.c.id == ln.c.entry_id).where(e.c.entry_date <= until)
    for code, total in conn.execute(query.group_by(ln.c.fund_code)):
        out[code] = int(total)
    return out


def entry_totals(conn: sa.Connection, metadata: sa.MetaData, funds: Iterable[str]) -> dict[str, int]:
    """Fund code -> money in minus money out, from the entries themselves (reconciliation), for ``funds``."""
    e = metadata.tables[ENTRIES]
    signed = sa.case((e.c.flow.in_(INFLOWS), e.c.amount_fen), else_=-e.c.amount_fen)
    query = sa.select(e.c.fund_code, sa.func.sum(signed)).where(e.c.fund_code.in_(sorted(set(funds)))).group_by(e.c.fund_code)
    return {code: int(total) for code, total in conn.execute(query)}


def unbalanced_entries(conn: sa.Connection, metadata: sa.MetaData, funds: Iterable[str]) -> list[str]:
    """Vouchers of entries on ``funds`` whose lines do not balance (should always be empty)."""
    e, ln = metadata.tables[ENTRIES], metadata.tables[LINES]
    query = (
        sa.select(e.c.voucher).outerjoin(ln, ln.c.entry_id == e.c.id).where(e.c.fund_code.in_(sorted(set(funds))))
        .group_by(e.c.id, e.c.voucher)
        .having(sa.or_(sa.func.coalesce(sa.func.sum(ln.c.debit_fen), 0) != sa.func.coalesce(sa.func.sum(ln.c.credit_fen), 0),
                       sa.func.count(ln.c.id) == 0))
    )
    return list(conn.execute(query).scalars())


def running_balances(conn: sa.Connection, metadata: sa.MetaData, funds: Iterable[str]) -> dict[str, list[tuple[dt.date, int]]]:
    """Fund code -> [(day, balance at the end of that day)] for every day with entries, in date order.

    Summed in the database: the day's movements per fund, then their running
    sum by date (a window function), so a fund's whole history is never read.
    """
    daily = _daily(metadata, funds)
    query = sa.select(
        daily.c.fund_code, daily.c.day, sa.func.sum(daily.c.delta).over(partition_by=daily.c.fund_code, order_by=daily.c.day),
    ).order_by(daily.c.fund_code, daily.c.day)
    out: dict[str, list[tuple[dt.date, int]]] = {}
    for code, day, balance in conn.execute(query):
        out.setdefault(code, []).append((day, int(balance)))
    return out


def negative_days(conn: sa.Connection, metadata: sa.MetaData, funds: Iterable[str]) -> list[tuple[str, dt.date, int]]:
    """(fund, day, balance) of every day a fund of ``funds`` stands below zero: the rule the ledger keeps (always empty)."""
    daily = _daily(metadata, funds)
    running = sa.select(
        daily.c.fund_code, daily.c.day, sa.func.sum(daily.c.delta).over(partition_by=daily.c.fund_code, order_by=daily.c.day).label("balance"),
    ).subquery()
    query = sa.select(running).where(running.c.balance < 0).order_by(running.c.fund_code, running.c.day)
    return [(code, day, int(balance)) for code, day, balance in conn.execute(query)]


def _daily(metadata: sa.MetaData, funds: Iterable[str]) -> sa.Subquery:
    """fund_code, day, delta: each fund's net movement per day."""
    e, ln = metadata.tables[ENTRIES], metadata.tables[LINES]
    return (
        sa.select(ln.c.fund_code, e.c.entry_date.label("day"), sa.func.sum(ln.c.debit_fen - ln.c.credit_fen).label("delta"))
        .join(e, e.c.id == ln.c.entry_id)
        .where(ln.c.account == "fund", ln.c.fund_code.in_(sorted(set(funds))))
        .group_by(ln.c.fund_code, e.c.entry_date)
        .subquery("daily")
    )


def fund_balances(store: Any, *, until: dt.date | None = None) -> list[dict[str, Any]]:
    """The funds the actor reaches (needs ``actions.read``), each with its balance, reconciled with its entries.

    Each row: ``fund``, ``name``, ``kind``, ``purpose``, ``year``, ``owner``,
    ``balance_fen`` and ``reconciled`` (the lines' sum equals the entries' sum).
    """
    f = store.table(FUNDS)
    with store.reading(READ) as conn:
        funds = conn.execute(sa.select(f).where(scope.fund_condition(store, conn, READ)).order_by(f.c.kind, f.c.code)).all()
        codes = [r.code for r in funds]
        held = balances(conn, store.metadata, codes, until=until)
        totals = entry_totals(conn, store.metadata, codes)
    return [{"fund": r.code, "name": r.name, "kind": r.kind, "purpose": r.purpose, "year": r.year, "owner": r.owner_unit,
             "balance_fen": held.get(r.code, 0), "reconciled": until is not None or held.get(r.code, 0) == totals.get(r.code, 0)}
            for r in funds]


def unbalanced(store: Any) -> list[str]:
    """Vouchers of entries whose lines do not balance, on the funds the actor reaches (needs ``actions.read``)."""
    f = store.table(FUNDS)
    with store.reading(READ) as conn:
        codes = conn.execute(sa.select(f.c.code).where(scope.fund_condition(store, conn, READ))).scalars().all()
        return unbalanced_entries(conn, store.metadata, codes)


def entries(store: Any, start: dt.date, end: dt.date, *, flow: str | None = None) -> list[Any]:
    """Entries dated ``start`` to ``end`` on the funds the actor reaches (needs ``actions.read``), in date order."""
    e = store.table(ENTRIES)
    with store.reading(READ) as conn:
        query = sa.select(e).where(e.c.entry_date >= start, e.c.entry_date <= end, scope.funds_condition(store, conn, e.c.fund_code, READ))
        if flow is not None:
            query = query.where(e.c.flow == flow)
        return conn.execute(query.order_by(e.c.entry_date, e.c.id)).all()


# -- checking and writing -----------------------------------------------------------------


def _lock_funds(conn: sa.Connection, metadata: sa.MetaData, codes: Sequence[str]) -> dict[str, Any]:
    f = metadata.tables[FUNDS]
    query = sa.select(f).where(f.c.code.in_(sorted(set(codes)))).order_by(f.c.code)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return {r.code: r for r in conn.execute(query)}


class _Timeline:
    """One fund's balance at the end of each day that matters, as entries are added: adding from a
    day on and the lowest balance from a day on, each in O(log n) (a segment tree with lazy adds)."""

    def __init__(self, stored: list[tuple[dt.date, int]], days: Iterable[dt.date]) -> None:
        self.days = sorted({d for d, _ in stored} | set(days))
        at = [d for d, _ in stored]
        # A day between two stored ones holds the balance of the last stored day before it.
        values = [stored[i - 1][1] if (i := bisect.bisect_right(at, d)) else 0 for d in self.days]
        n = self.n = len(self.days)
        self.low, self.where, self.lazy = [0] * (4 * n), [0] * (4 * n), [0] * (4 * n)
        self._build(1, 0, n - 1, values)

    def _build(self, node: int, lo: int, hi: int, values: list[int]) -> None:
        if lo == hi:
            self.low[node], self.where[node] = values[lo], lo
            return
        mid = (lo + hi) // 2
        self._build(2 * node, lo, mid, values)
        self._build(2 * node + 1, mid + 1, hi, values)
        self._pull(node)

    def _pull(self, node: int) -> None:
        best = 2 * node if self.low[2 * node] <= self.low[2 * node + 1] else 2 * node + 1
        self.low[node], self.where[node] = self.low[best] + self.lazy[node], self.where[best]

    def add(self, day: dt.date, fen: int) -> None:
        """Every balance from ``day`` on changes by ``fen``."""
        self._add(1, 0, self.n - 1, bisect.bisect_left(self.days, day), fen)

    def _add(self, node: int, lo: int, hi: int, start: int, fen: int) -> None:
        if hi < start:
            return
        if start <= lo:
            self.low[node] += fen
            self.lazy[node] += fen
            return
        mid = (lo + hi) // 2
        self._add(2 * node, lo, mid, start, fen)
        self._add(2 * node + 1, mid + 1, hi, start, fen)
        self._pull(node)

    def lowest(self, day: dt.date) -> tuple[int, dt.date]:
        """The lowest balance from ``day`` on, and the first day it stands there."""
        low, at = self._lowest(1, 0, self.n - 1, bisect.bisect_left(self.days, day))
        return low, self.days[at]

    def _lowest(self, node: int, lo: int, hi: int, start: int) -> tuple[int, int]:
        if start <= lo:
            return self.low[node], self.where[node]
        mid = (lo + hi) // 2
        right = self._lowest(2 * node + 1, mid + 1, hi, start)
        if start <= mid:
            left = self._lowest(2 * node, lo, mid, start)
            right = left if left[0] <= right[0] else right
        return right[0] + self.lazy[node], right[1]


def check_entries(
    store: Any, conn: sa.Connection, rows: Sequence[tuple[int, Entry]], *, stored: set[str] = frozenset(),
    paid: set[tuple[str, int, str, str | None]] | None = None,
) -> tuple[dict[int, list[Problem]], dict[int, str]]:
    """Why each entry is refused: (row number -> problems, row number -> why the actor may not book it).

    Refused: an unknown fund; a fund the actor's unit neither owns nor was
    granted on the entry's date (the second dict: permission denied); an
    ``entered_by`` that is not the actor; an approver who is the actor, not a
    registered user holding ``funding.approve`` over the fund's owner; the
    wrong kind of fund; restricted money on another purpose; a fund that would
    stand below zero on any day from the entry's date on (taking the earlier
    accepted rows into account, in order). Entries whose voucher is in
    ``stored`` (already posted: a re-import) are neither checked nor counted
    again. With ``paid`` (the :func:`beneficiary` of every aid payment made),
    an aid entry paying someone already paid is refused too, and each
    accepted one is added to it. Locks the funds' rows until the transaction ends.
    """
    md = store.metadata
    funds = _lock_funds(conn, md, [e.fund_code for _, e in rows])
    grants = scope.grants_of(conn, md, funds)
    may = scope.reach(store, conn, WRITE)
    approvers = scope.Approvers(store, conn)
    actor = str(store.actor)
    fresh = [(n, e) for n, e in rows if e.voucher not in stored]
    history = running_balances(conn, md, funds)
    days: dict[str, set[dt.date]] = defaultdict(set)
    for _, entry in fresh:
        days[entry.fund_code].add(entry.entry_date)
    timelines = {code: _Timeline(history.get(code, []), ds) for code, ds in days.items() if code in funds}
    out: dict[int, list[Problem]] = {}
    denied: dict[int, str] = {}
    for row_no, entry in fresh:
        fund = funds.get(entry.fund_code)
        if fund is None:
            out[row_no] = [Problem("fund_code", "资金账户不存在 / no such fund", entry.fund_code)]
            continue
        if not (may.owns(fund.owner_unit) or may.granted(grants.get(fund.code, ()), entry.entry_date)):
            denied[row_no] = scope.denied_reason(fund, entry.entry_date)
            out[row_no] = [Problem("fund_code", f"权限不足 / permission denied: {actor} lacks {WRITE} ({denied[row_no]})", entry.fund_code)]
            continue
        problems = []
        if entry.entered_by is not None and entry.entered_by != actor:
            problems.append(Problem("entered_by", f"经办人即记账者本人 ({actor}), 不能填写他人 / the clerk is always the user "
                                                  f"recording the entry ({actor}): leave it empty", entry.entered_by))
        approver = approvers.problem(entry.approved_by, fund.owner_unit, fund.code)
        if approver is not None:
            problems.append(approver)
        problems += _fund_problems(entry, fund)
        if paid is not None and entry.flow == "aid" and beneficiary(entry) in paid:
            field, key = beneficiary(entry)[2:]
            problems.append(Problem(field, f"{entry.aid_year} 年{PROGRAMMES[entry.programme][0]}已发放, 不能重复发放 / already paid for "
                                           f"{entry.programme} {entry.aid_year}", key))
        if not problems:
            timeline = timelines[fund.code]
            if entry.inflow:
                timeline.add(entry.entry_date, entry.amount_fen)
            else:
                low, day = timeline.lowest(entry.entry_date)
                if low < entry.amount_fen:
                    problems.append(Problem(
                        "amount_fen",
                        f"余额不足 / overspend refused: {fund.code} holds {yuan(low)} yuan on {day}, the entry of "
                        f"{entry.entry_date} takes {yuan(entry.amount_fen)} yuan",
                        entry.amount_fen,
                    ))
                else:
                    timeline.add(entry.entry_date, -entry.amount_fen)
        if problems:
            out[row_no] = problems
        elif paid is not None and entry.flow == "aid":
            paid.add(beneficiary(entry))
    return out, denied


def beneficiary(entry: Entry) -> tuple[str, int, str, str | None]:
    """(programme, aid year, ``person`` or ``household``, whom) of an aid entry: one payment each."""
    field = "person" if PROGRAMMES[entry.programme][1] == "person" else "household"
    return (entry.programme, entry.aid_year, field, getattr(entry, field))


def paid_beneficiaries(conn: sa.Connection, metadata: sa.MetaData, entries: Iterable[Entry]) -> set[tuple[str, int, str, str | None]]:
    """The :func:`beneficiary` of every stored aid payment to the persons and households ``entries`` pay."""
    e = metadata.tables[ENTRIES]
    wanted = [beneficiary(x) for x in entries if x.flow == "aid" and x.programme]
    out: set[tuple[str, int, str, str | None]] = set()
    for field in ("person", "household"):
        keys = sorted({key for _, _, f, key in wanted if f == field and key})
        for i in range(0, len(keys), 500):
            query = sa.select(e.c.programme, e.c.aid_year, e.c[field]).where(e.c.flow == "aid", e.c[field].in_(keys[i : i + 500]))
            out.update((programme, year, field, key) for programme, year, key in conn.execute(query))
    return out


def _fund_problems(entry: Entry, fund: Any) -> list[Problem]:
    """The kind of fund an entry may go into, and what restricted money may be spent on."""
    problems = []
    if entry.flow == "appropriation" and fund.kind != "budget":
        problems.append(Problem("fund_code", "预算拨款只能进入年度预算账户 / appropriations go into a budget fund", entry.fund_code))
    elif entry.flow == "appropriation" and fund.year is not None and entry.entry_date.year != fund.year:
        # A year's budget is money entered in that year: a top-up dated years later is not that year's budget.
        problems.append(Problem("entry_date", f"{fund.year} 年预算的拨款须在 {fund.year} 年内入账 / an appropriation into the "
                                              f"{fund.year} budget fund {fund.code} is dated in {fund.year}", entry.entry_date))
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
    return problems


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


def entry_row(entry: Entry, actor: str) -> dict[str, Any]:
    """The table row of an entry posted by ``actor`` (``UNIT:USER``), who is always its clerk (经办人)."""
    row = attrs.asdict(entry)
    row["entered_by"] = actor
    return row


def write_lines(conn: sa.Connection, metadata: sa.MetaData, entries: Sequence[tuple[Entry, int]]) -> None:
    """The balancing lines of entries just inserted (entry, id)."""
    rows = [line | {"entry_id": entry_id} for entry, entry_id in entries for line in entry.lines()]
    if rows:
        conn.execute(metadata.tables[LINES].insert(), rows)


def refuse_negative(conn: sa.Connection, metadata: sa.MetaData, funds: Iterable[str]) -> None:
    """Raise if a fund of ``funds`` stands below zero on some day: what the checks before the write promise, asked of the database itself."""
    below = negative_days(conn, metadata, funds)
    if below:
        code, day, balance = below[0]
        raise ValidationError.of("amount_fen", f"余额不足 / overspend refused: {code} would stand at {yuan(balance)} yuan on {day}", balance)


def post(store: Any, entry: Entry) -> int:
    """Post one entry (needs ``actions.write`` on the fund): checked, written with its lines and audited, or refused whole."""
    return post_many(store, [entry])[0]


def post_many(store: Any, entries: Sequence[Entry]) -> list[int]:
    """Post entries in order, in one transaction: all are written, or (any refused) none.

    Raises :class:`~fupin.access.AccessDenied` when the actor may not book on
    a fund (neither its unit's nor granted to it on the entry's date), and
    :class:`~fupin.ValidationError` for any other reason
    (:func:`check_entries`).
    """
    md = store.metadata
    e = md.tables[ENTRIES]
    ids = []
    with store.transaction(WRITE) as conn:
        problems, denied = check_entries(store, conn, list(enumerate(entries)))
        if denied:
            first = min(denied)
            raise AccessDenied(store.actor, WRITE, f"{entries[first].voucher}: {denied[first]}")
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
        actor = str(store.actor)
        for entry in entries:
            row = entry_row(entry, actor)
            entry_id = conn.execute(e.insert().values(**row)).inserted_primary_key[0]
            write_lines(conn, md, [(entry, entry_id)])
            store.audit_event("insert", ENTRIES, entry.voucher, {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()})
            ids.append(entry_id)
        refuse_negative(conn, md, {x.fund_code for x in entries})
    return ids


def add_fund(store: Any, fund: Fund) -> None:
    """Open a fund (needs ``actions.write`` over its owner).

    Its owner is ``fund.owner_unit``, else the helping unit of its plan; a fund
    naming neither is refused. The owner must be a registered unit the actor's
    role reaches. The fund counts for its plan (``plan_name``) only, and for
    plans it is shared with (:func:`share`); a fund of no plan counts for none
    until shared.
    """
    f = store.metadata.tables[FUNDS]
    with store.transaction(WRITE) as conn:
        owner = _owner(store, conn, fund.owner_unit, fund.plan_name, f"fund {fund.code}")
        if conn.execute(sa.select(f.c.code).where(f.c.code == fund.code)).first() is not None:
            raise ValidationError.of("code", "资金账户已存在 / fund already exists", fund.code)
        row = attrs.asdict(fund) | {"owner_unit": owner}
        conn.execute(f.insert().values(**row))
        store.audit_event("insert", FUNDS, fund.code, row)


def _owner(store: Any, conn: sa.Connection, owner: str | None, plan_name: str | None, record: str) -> str:
    """The owning unit of a new fund or project: ``owner``, else its plan's helping unit; registered and in the actor's reach."""
    if owner is None and plan_name:
        plans = store.table("plans")
        owner = conn.execute(sa.select(plans.c.helping_unit).where(plans.c.name == plan_name)).scalar()
    if owner is None:
        raise ValidationError([Problem("owner_unit", "须写明所属单位 (或所属方案) / the owning unit is required (or a stored plan to take it from)")],
                              record=record)
    units = store.table("units")
    if conn.execute(sa.select(units.c.code).where(units.c.code == owner)).first() is None:
        raise ValidationError.of("owner_unit", "单位未登记 / unit not registered", owner)
    if not store.access.unit_allowed(WRITE, owner):
        raise AccessDenied(store.actor, WRITE, f"单位 {owner} 不在权限范围内 / unit {owner} outside your scope")
    return owner


def grant(store: Any, fund_code: str, unit_code: str, *, start: dt.date | None = None, end: dt.date | None = None) -> None:
    """Let unit ``unit_code`` (a department) book on fund ``fund_code`` from ``start`` (default today) to ``end`` (default: open).

    Only the owner grants: the actor needs ``actions.write`` over the fund's
    owning unit (its own unit tree, its plan office, or scope ``all``); a
    unit that was itself granted the fund cannot pass it on. Audited.
    """
    start = start or dt.date.today()
    if end is not None and end < start:
        raise ValidationError.of("end", f"结束日期早于开始日期 {start} / the grant ends before it starts ({start})", end)
    g, units = store.table(GRANTS), store.table("units")
    with store.transaction(WRITE) as conn:
        fund = _lock_funds(conn, store.metadata, [fund_code]).get(fund_code)
        if fund is None:
            raise ValidationError.of("fund_code", "资金账户不存在 / no such fund", fund_code)
        if not scope.reach(store, conn, WRITE).owns(fund.owner_unit):
            raise AccessDenied(store.actor, WRITE, f"只有账户所属单位 {fund.owner_unit} 可以授权 / only the owner of fund {fund_code} grants it")
        if conn.execute(sa.select(units.c.code).where(units.c.code == unit_code)).first() is None:
            raise ValidationError.of("unit_code", "单位未登记 / unit not registered", unit_code)
        if unit_code == fund.owner_unit:
            raise ValidationError.of("unit_code", "该单位即账户所属单位, 无须授权 / the unit owns the fund already", unit_code)
        if conn.execute(sa.select(g.c.id).where(g.c.fund_code == fund_code, g.c.unit_code == unit_code, g.c.start == start)).first():
            raise ValidationError.of("start", "同日已有此授权 / this grant already starts on that day", start)
        row = {"fund_code": fund_code, "unit_code": unit_code, "granted_by": str(store.actor), "start": start, "end": end}
        conn.execute(g.insert().values(**row))
        store.audit_event("insert", GRANTS, f"{fund_code}/{unit_code}", {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()})


def voucher_numbers(conn: sa.Connection, metadata: sa.MetaData, stem: str, count: int) -> list[str]:
    """``count`` new voucher numbers ``STEM000123`` after the largest of that form already used.

    Aid vouchers are ``ZXJ2017-QJNU-000001``: programme prefix, year, the
    paying unit, a sequence; never an ID number, a name or a phone.
    """
    e = metadata.tables[ENTRIES]
    used = conn.execute(sa.select(e.c.voucher).where(e.c.voucher.startswith(stem, autoescape=True))).scalars()
    last = max((int(v[len(stem):]) for v in used if re.fullmatch(r"\d{6}", v[len(stem):])), default=0)
    return [f"{stem}{n:06d}" for n in range(last + 1, last + 1 + count)]


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
    #: The unit that runs and pays for it (default: the helping unit of its plan; one of the two is required).
    owner_unit: str | None = attrs.field(default=None, converter=_text)

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
    """Register a project (needs ``actions.write`` over its owner).

    Its owner is ``project.owner_unit``, else the helping unit of its plan; a
    project naming neither is refused. It counts for its plan only, and for
    plans it is shared with (:func:`share`).
    """
    p = store.metadata.tables[PROJECTS]
    with store.transaction(WRITE) as conn:
        owner = _owner(store, conn, project.owner_unit, project.plan_name, f"project {project.code}")
        if conn.execute(sa.select(p.c.code).where(p.c.code == project.code)).first() is not None:
            raise ValidationError.of("code", "项目已存在 / project already exists", project.code)
        row = attrs.asdict(project) | {"owner_unit": owner}
        conn.execute(p.insert().values(**row))
        store.audit_event("insert", PROJECTS, project.code, {k: str(v) if v is not None else None for k, v in row.items()})


def add_foster_home(store: Any, elder: str, household: str, start: dt.date, end: dt.date | None = None, note: str = "") -> None:
    """Record that ``household`` took in the 孤寡老人 ``elder`` from ``start`` (needs ``registry.write``)."""
    t = store.metadata.tables
    with store.transaction("registry.write") as conn:
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


def plan_funds(conn: sa.Connection, metadata: sa.MetaData, plan: Any, units: Iterable[str]) -> list[str]:
    """Codes of the plan's own funds: owned by one of the plan's ``units`` *and* naming the plan.

    A fund of no plan, or owned by another helping unit, never counts as the
    plan's own, whatever its plan column says; it counts only when shared
    with the plan (:func:`shared_with`).
    """
    f = metadata.tables[FUNDS]
    query = sa.select(f.c.code).where(f.c.plan_name == plan.name, f.c.owner_unit.in_(sorted(set(units)))).order_by(f.c.code)
    return list(conn.execute(query).scalars())


def shared_with(conn: sa.Connection, metadata: sa.MetaData, plan: Any, what: str = "fund") -> dict[str, int]:
    """Fund (``what="fund"``) or project (``"project"``) code -> the amount in fen shared with ``plan`` (:func:`share`)."""
    s = metadata.tables[SHARES]
    column = s.c.fund_code if what == "fund" else s.c.project_code
    query = sa.select(column, sa.func.sum(s.c.amount_fen)).where(s.c.plan_name == plan.name, column.is_not(None)).group_by(column)
    return {code: int(total) for code, total in conn.execute(query)}


def of_plan(column: sa.ColumnElement[Any], plan: Any) -> sa.ColumnElement[bool]:
    """SQL: a record's ``plan_name`` names no plan or ``plan`` (an entry naming another plan is that plan's)."""
    return sa.or_(column.is_(None), column == plan.name)


def share(store: Any, plan_name: str, amount_fen: int, *, fund: str | None = None, project: str | None = None,
          on: dt.date | None = None, note: str = "") -> None:
    """Share ``fund`` or ``project`` with the plan ``plan_name``: ``amount_fen`` of it is that plan's (audited).

    Only the owner shares (``actions.write`` over the fund's or project's
    owning unit); the plan must be stored. A plan counts a shared budget
    fund up to the amount, a shared project with the amount as its budget
    (a record that is the plan's own already counts in full, never twice).
    """
    if (fund is None) == (project is None):
        raise ValidationError.of("fund", "须指定资金账户或项目之一 / give a fund or a project, not both", fund or project)
    amount_fen = _fen(amount_fen)
    t = store.metadata.tables
    table, code, field = (t[FUNDS], fund, "fund_code") if fund is not None else (t[PROJECTS], project, "project_code")
    with store.transaction(WRITE) as conn:
        row = conn.execute(sa.select(table).where(table.c.code == code)).first()
        if row is None:
            raise ValidationError.of(field, "不存在 / no such fund or project", code)
        if not (store.access.unit_allowed(WRITE, row.owner_unit) if row.owner_unit else "all" in store.access.scopes(WRITE)):
            raise AccessDenied(store.actor, WRITE, f"只有所属单位 {row.owner_unit} 可以共享 / only the owner of {code} shares it")
        plans = store.table("plans")
        if conn.execute(sa.select(plans.c.name).where(plans.c.name == plan_name)).first() is None:
            raise ValidationError.of("plan_name", "方案未保存 / no such plan", plan_name)
        values = {"plan_name": plan_name, field: code, "amount_fen": amount_fen, "shared_by": str(store.actor),
                  "shared_on": on or dt.date.today(), "note": note}
        conn.execute(t[SHARES].insert().values(**values))
        store.audit_event("insert", SHARES, f"{code}/{plan_name}", {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()})


def spending_by_purpose(conn: sa.Connection, metadata: sa.MetaData, start: dt.date, end: dt.date, funds: Iterable[str]) -> dict[str, int]:
    """Purpose -> fen spent (spending and aid) from ``funds`` between ``start`` and ``end``."""
    e = metadata.tables[ENTRIES]
    query = (
        sa.select(e.c.purpose, sa.func.sum(e.c.amount_fen))
        .where(~e.c.flow.in_(INFLOWS), e.c.entry_date >= start, e.c.entry_date <= end, e.c.fund_code.in_(sorted(set(funds))))
    )
    out: dict[str, int] = defaultdict(int)
    for purpose, total in conn.execute(query.group_by(e.c.purpose)):
        out[purpose] += int(total)
    return dict(out)
