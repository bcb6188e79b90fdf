"""The targets of C02, C05, C18, C19 and C28 to C31, counted from the ledger and the projects.

Evidence keys: ``funding_entry:VOUCHER`` and ``funding_project:CODE``.

**Whose records count** (issue #16: many plans in one database). A plan's
*own* funds and projects are those owned by one of its units (its helping
unit and the units below it) *and* naming the plan; a fund or project of
another unit, of another plan or of no plan counts only when its owner shared
it with the plan (``funding_shares``, :func:`fupin_funding.ledger.share`),
and then only with the amount shared. An entry naming another plan never
counts. Each target's docstring says what else counts and what does not.

The figures count every such record (aggregate figures, ``aggregates.read``).
The evidence names only the entries of funds the reader reaches
(``actions.read``, see :mod:`fupin_funding.scope`); the others are counted in
one item, ``funding_entry:(N 条在权限范围外 / N outside your scope)``, so that
every reader gets the same status and figures but only their own units' vouchers.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import attrs
import sqlalchemy as sa

from fupin import CheckContext, CheckResult, PlanError, Status, TargetSpec
from fupin.ext import Param, plan_villages_condition

from fupin_funding import aid, scope
from fupin_funding.ledger import AREAS, INFLOWS, balances, of_plan, plan_funds, shared_with, yuan
from fupin_funding.tables import ENTRIES, FUNDS, PROJECTS

CROPS = {"blueberry": "蓝莓", "tobacco": "烤烟", "potato": "马铃薯", "walnut": "核桃"}
CROPS_EN = {"blueberry": "blueberries", "tobacco": "tobacco", "potato": "potatoes", "walnut": "walnuts"}
#: The project areas (:data:`fupin_funding.ledger.AREAS`) in English.
AREAS_EN = {"water": "water", "roads": "roads", "culture": "culture", "industry": "industry"}
#: Projects below this budget do not count when the plan sets no minimum (the plan office's choice, in the plan file).
MIN_PROJECT_FEN = 1_000_000


def _t(ctx: CheckContext, name: str) -> sa.Table:
    return ctx.store.table(name)


def _funds(ctx: CheckContext) -> list[str]:
    """The plan's own funds (read once per check)."""
    if "funding.funds" not in ctx.cache:
        ctx.cache["funding.funds"] = plan_funds(ctx.conn, ctx.store.metadata, ctx.plan, ctx.units())
    return ctx.cache["funding.funds"]


def _shared(ctx: CheckContext, what: str = "fund") -> dict[str, int]:
    """Funds (or projects) shared with the plan -> the amount shared (read once per check)."""
    if f"funding.shared.{what}" not in ctx.cache:
        ctx.cache[f"funding.shared.{what}"] = shared_with(ctx.conn, ctx.store.metadata, ctx.plan, what)
    return ctx.cache[f"funding.shared.{what}"]


def _all_funds(ctx: CheckContext) -> list[str]:
    """The plan's own funds and those shared with it."""
    return sorted(set(_funds(ctx)) | set(_shared(ctx)))


def visible(ctx: CheckContext, result: CheckResult) -> CheckResult:
    """``result`` with its ``funding_entry:`` evidence cut to the funds the reader reaches (see the module docstring)."""
    vouchers = [k.split(":", 1)[1] for k in result.evidence if k.startswith("funding_entry:")]
    if not vouchers:
        return result
    if "funding.reach" not in ctx.cache:
        ctx.cache["funding.reach"] = scope.reach(ctx.store, ctx.conn, scope.READ)
    reached = ctx.cache["funding.reach"]
    if reached.everything:
        return result
    e = _t(ctx, ENTRIES)
    mine = scope.funds_condition(ctx.store, ctx.conn, e.c.fund_code, reached=reached)
    shown: set[str] = set()
    for i in range(0, len(vouchers), 500):
        shown.update(ctx.conn.execute(sa.select(e.c.voucher).where(e.c.voucher.in_(vouchers[i : i + 500]), mine)).scalars())
    hidden = sum(1 for v in vouchers if v not in shown)
    if not hidden:
        return result
    kept = [k for k in result.evidence if not k.startswith("funding_entry:") or k.split(":", 1)[1] in shown]
    kept.append(f"funding_entry:({hidden} 条在权限范围外 / {hidden} outside your scope)")
    return attrs.evolve(result, evidence=tuple(kept))


def budget_per_year(ctx: CheckContext) -> CheckResult:
    """C02: the year's dedicated budget >= ``min_amount_fen``.

    Counts: appropriations into the plan's own budget fund of the year (owned
    by one of its units and naming the plan), *dated* in that calendar year
    (1 January to 31 December: the budget of a year is money entered in it,
    never a top-up dated later, never the fund's year label alone); a budget
    fund of the year shared with the plan counts the same way, up to the
    amount shared. Does not count: another unit's fund or a fund of another
    plan or of no plan (unless shared), appropriations dated outside the
    year, entries naming another plan, donations and spending.
    """
    need = int(ctx.param("min_amount_fen"))
    years = list(ctx.param("years") or ctx.plan.years())
    e, f = _t(ctx, ENTRIES), _t(ctx, FUNDS)
    shared = _shared(ctx)
    base = sa.select(e.c.voucher, e.c.amount_fen, e.c.entry_date, f.c.code, f.c.year).join(f, f.c.code == e.c.fund_code).where(
        e.c.flow == "appropriation", f.c.kind == "budget", f.c.code.in_(_all_funds(ctx)), of_plan(e.c.plan_name, ctx.plan))
    rows = ctx.conn.execute(base.where(f.c.year == ctx.year).order_by(e.c.entry_date, e.c.voucher)).all()
    inside = [r for r in rows if r.entry_date.year == ctx.year]
    outside = len(rows) - len(inside)
    by_fund: dict[str, int] = {}
    for r in inside:
        by_fund[r.code] = by_fund.get(r.code, 0) + int(r.amount_fen)
    total = sum(min(v, shared[c]) if c in shared and c not in _funds(ctx) else v for c, v in by_fund.items())
    note = f"{outside} 笔拨款不在 {ctx.year} 年内入账, 未计入" if outside else ""
    note_en = f"{outside} appropriations dated outside {ctx.year}, not counted" if outside else ""
    if ctx.year not in years:
        return ctx.result(Status.NOT_YET_DUE, f"至少 {yuan(need)} 元", f"{yuan(total)} 元", note=f"{ctx.year} 不在承诺年度内",
                          required_en=f"at least {yuan(need)} yuan", actual_en=f"{yuan(total)} yuan", note_en=f"{ctx.year} is not a year of the commitment")
    ever = ctx.conn.execute(base.limit(1)).first() is not None
    funds = list(ctx.conn.execute(sa.select(f.c.code).where(f.c.kind == "budget", f.c.year == ctx.year, f.c.code.in_(_all_funds(ctx)))).scalars())
    spent = ctx.conn.execute(
        sa.select(e.c.purpose, sa.func.sum(e.c.amount_fen)).where(e.c.fund_code.in_(funds), ~e.c.flow.in_(INFLOWS)).group_by(e.c.purpose)
    ).all() if funds else []
    return visible(ctx, ctx.judge(
        total >= need, f"至少 {yuan(need)} 元", f"{yuan(total)} 元", [f"funding_entry:{r.voucher}" for r in inside],
        required_en=f"at least {yuan(need)} yuan", actual_en=f"{yuan(total)} yuan",
        anything_recorded=ever, note=note, note_en=note_en, budget_fen=total, required_fen=need,
        spent_by_purpose_fen={p: int(s) for p, s in spent}, balance_fen=sum(balances(ctx.conn, ctx.store.metadata, funds).values()) if funds else 0,
    ))


@attrs.frozen
class _Projects:
    """The plan's projects of a kind for the year: those that count, and why the others do not."""

    counted: list[Any]  # rows, each with ``amount_fen`` (the budget, or the amount shared) and ``spent_fen``
    elsewhere: int  # not in the plan's villages
    small: int  # amount below the minimum
    unspent: int  # no spending recorded by the year's end
    ever: bool  # any project of the plan of this kind at all

    def note(self, min_fen: int) -> str:
        """Why projects did not count, if any did not (in Chinese)."""
        return _join(
            f"{self.elsewhere} 个项目不在本方案的村, 未计入" if self.elsewhere else "",
            f"{self.small} 个项目金额低于 {yuan(min_fen)} 元, 未计入" if self.small else "",
            f"{self.unspent} 个项目未记录支出, 未计入" if self.unspent else "",
        )

    def note_en(self, min_fen: int) -> str:
        """Why projects did not count, if any did not (in English)."""
        return _join(
            f"{self.elsewhere} projects outside the plan's villages, not counted" if self.elsewhere else "",
            f"{self.small} projects below {yuan(min_fen)} yuan, not counted" if self.small else "",
            f"{self.unspent} projects with no spending recorded, not counted" if self.unspent else "",
        )


def _projects(ctx: CheckContext, min_fen: int, *where: Any) -> _Projects:
    """The plan's projects (own or shared, see the module docstring) started by the year's end and not cancelled,
    matching ``where``; those that count are in the plan's villages, of at least ``min_fen`` (the budget, or
    for a shared project the amount shared), with spending recorded by the year's end out of the plan's funds
    or the project owner's."""
    p, e, f = _t(ctx, PROJECTS), _t(ctx, ENTRIES), _t(ctx, FUNDS)
    shared = _shared(ctx, "project")
    own = sa.and_(p.c.plan_name == ctx.plan.name, p.c.owner_unit.in_(ctx.units()))
    mine = sa.or_(own, p.c.code.in_(sorted(shared)))
    ever = ctx.conn.execute(sa.select(p.c.code).where(mine, *where).limit(1)).first() is not None
    rows = ctx.conn.execute(
        sa.select(p, own.label("own")).where(mine, p.c.status != "cancelled", p.c.start_date <= ctx.year_end, *where).order_by(p.c.code)
    ).all()
    codes = [r.code for r in rows]
    spent: dict[str, int] = {}
    if codes:
        query = (
            sa.select(e.c.project_code, sa.func.sum(e.c.amount_fen)).join(f, f.c.code == e.c.fund_code).join(p, p.c.code == e.c.project_code)
            .where(e.c.project_code.in_(codes), e.c.flow == "spending", e.c.entry_date <= ctx.year_end, of_plan(e.c.plan_name, ctx.plan),
                   sa.or_(f.c.code.in_(_all_funds(ctx)), f.c.owner_unit == p.c.owner_unit))
            .group_by(e.c.project_code)
        )
        spent = {c: int(s) for c, s in ctx.conn.execute(query)}
    villages = {v.code for v in ctx.plan.villages}
    counted, elsewhere, small, unspent = [], 0, 0, 0
    for r in rows:
        amount = int(r.budget_fen) if r.own else shared[r.code]
        if r.village not in villages:
            elsewhere += 1
        elif amount < min_fen:
            small += 1
        elif not spent.get(r.code):
            unspent += 1
        else:
            counted.append(_row(r, amount, spent[r.code]))
    return _Projects(counted, elsewhere, small, unspent, ever)


def _row(r: Any, amount: int, spent: int) -> SimpleNamespace:
    """A project row with what the plan counts of it: ``amount_fen`` (its budget, or the amount shared) and ``spent_fen``."""
    return SimpleNamespace(**r._mapping, amount_fen=amount, spent_fen=spent)


def key_projects(ctx: CheckContext) -> CheckResult:
    """C05: between ``min`` and ``max`` key projects by the year's end.

    Counts: projects flagged key, of the plan (own, or shared with it), not
    cancelled, started by the year's end, in one of the plan's villages, of at
    least ``min_amount_fen`` (the budget; for a shared project the amount
    shared) and with spending recorded on them by the year's end. Does not
    count: a project of another unit, plan or none (unless shared), in
    another village or none, below the minimum, or with nothing spent.
    """
    lo, hi, min_fen = int(ctx.param("min")), int(ctx.param("max")), int(ctx.param("min_amount_fen"))
    p = _t(ctx, PROJECTS)
    found = _projects(ctx, min_fen, p.c.key_project.is_(True))
    rows = found.counted
    return ctx.judge(
        lo <= len(rows) <= hi, f"{lo}–{hi} 个重点项目 (每个至少 {yuan(min_fen)} 元)", str(len(rows)),
        [f"funding_project:{r.code}" for r in rows], anything_recorded=found.ever, note=found.note(min_fen), note_en=found.note_en(min_fen),
        required_en=f"{lo} to {hi} key projects (each at least {yuan(min_fen)} yuan)", actual_en=str(len(rows)),
        key_projects=[r.code for r in rows],
    )


def infrastructure_projects(ctx: CheckContext) -> CheckResult:
    """C18: at least one project in every named area (``areas``: water, roads, culture).

    Counts, per area: projects of the plan (own, or shared with it), not
    cancelled, started by the year's end, in one of the plan's villages, of
    at least ``min_amount_fen`` (the budget; for a shared project the amount
    shared), with spending recorded by the year's end. Does not count:
    another unit's, plan's or no plan's project (unless shared), one in
    another village, below the minimum, or with nothing spent.
    """
    areas = list(ctx.param("areas"))
    min_fen = int(ctx.param("min_amount_fen"))
    p = _t(ctx, PROJECTS)
    found = _projects(ctx, min_fen, p.c.area.in_(areas))
    rows = found.counted
    by_area = {a: [r for r in rows if r.area == a] for a in areas}
    lacking = [a for a, rs in by_area.items() if not rs]
    actual = ", ".join(f"{AREAS.get(a, a)} {len(rs)}" for a, rs in by_area.items())
    return ctx.judge(
        not lacking, "、".join(AREAS.get(a, a) for a in areas) + "每类至少 1 个有预算、有支出的项目", actual,
        [f"funding_project:{r.code}" for r in rows], anything_recorded=found.ever,
        required_en="a budgeted project with spending in each area: " + ", ".join(AREAS_EN.get(a, a) for a in areas),
        actual_en=", ".join(f"{AREAS_EN.get(a, a)} {len(rs)}" for a, rs in by_area.items()),
        note=_join(("缺" + "、".join(AREAS.get(a, a) for a in lacking)) if lacking else "", found.note(min_fen)),
        note_en=_join(("none in " + ", ".join(AREAS_EN.get(a, a) for a in lacking)) if lacking else "", found.note_en(min_fen)),
        projects={r.code: {"area": r.area, "status": r.status, "budget_fen": int(r.amount_fen), "spent_fen": r.spent_fen} for r in rows},
    )


def _crop_names(crop: str) -> set[str]:
    return {crop, CROPS.get(crop, crop)}


def industry_projects(ctx: CheckContext) -> CheckResult:
    """C19: an industry project per named crop (``crops``), contiguous if ``contiguous``, with its area (亩) and households.

    Counts: industry projects of the plan (own, or shared with it), not
    cancelled, started by the year's end, in one of the plan's villages, of at
    least ``min_amount_fen``, with spending recorded by the year's end, of a
    named crop, with an area and households (and contiguous when asked).
    The crops to ``keep`` (tobacco) are named in the note, not measured.
    """
    crops = list(ctx.param("crops"))
    contiguous = bool(ctx.param("contiguous"))
    keep_crops = list(ctx.param("keep"))
    min_fen = int(ctx.param("min_amount_fen"))
    p = _t(ctx, PROJECTS)
    found = _projects(ctx, min_fen, p.c.area == "industry")
    good, lacking = [], []
    for crop in crops:
        hits = [r for r in found.counted if r.crop in _crop_names(crop) and (r.area_mu or 0) > 0 and (r.households or 0) > 0
                and (r.contiguous or not contiguous)]
        good += hits
        if not hits:
            lacking.append(crop)
    area_mu = sum((Decimal(r.area_mu) for r in good), start=Decimal(0))
    households = sum(r.households for r in good)
    keep = "、".join(CROPS.get(k, k) for k in keep_crops)
    keep_en = ", ".join(CROPS_EN.get(k, k) for k in keep_crops)
    return ctx.judge(
        not lacking, "、".join(CROPS.get(c, c) for c in crops) + ("连片示范种植" if contiguous else "示范种植"),
        f"{area_mu} 亩, {households} 户", [f"funding_project:{r.code}" for r in good], anything_recorded=found.ever,
        required_en=("contiguous " if contiguous else "") + "demonstration plantations of " + ", ".join(CROPS_EN.get(c, c) for c in crops),
        actual_en=f"{area_mu} mu, {households} households",
        note=_join(("缺" + "、".join(CROPS.get(c, c) for c in lacking)) if lacking else "", found.note(min_fen),
                   f"保留传统产业 {keep} (不计量)" if keep else ""),
        note_en=_join(("none of " + ", ".join(CROPS_EN.get(c, c) for c in lacking)) if lacking else "", found.note_en(min_fen),
                      f"traditional crops kept: {keep_en} (not measured)" if keep else ""),
        area_mu=str(area_mu), households=households,
    )


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _to_plan_villages(ctx: CheckContext, e: sa.Table) -> sa.ColumnElement[bool]:
    """SQL on entries: aid to a person or household of the plan's villages, or spending on a project in them."""
    h, per, p = _t(ctx, "households"), _t(ctx, "persons"), _t(ctx, PROJECTS)
    in_villages = plan_villages_condition(ctx.plan)
    return sa.or_(
        e.c.household.in_(sa.select(h.c.number).where(in_villages)),
        e.c.person.in_(sa.select(per.c.id_number).join(h, h.c.id == per.c.household_id).where(in_villages)),
        e.c.project_code.in_(sa.select(p.c.code).where(p.c.village.in_(sorted(v.code for v in ctx.plan.villages)))),
    )


def foundation(ctx: CheckContext) -> CheckResult:
    """C28: donations into the foundation and aid out of it in the year (``flows``); the balance.

    Counts: donations dated in the year into the plan's own foundation and
    restricted funds (a shared one's up to the amount shared); aid and
    spending out of them dated in the year *to the plan's villages* (aid to a
    person or household of them, spending on a project in them). Does not
    count: another unit's, plan's or no plan's foundation (unless shared),
    entries naming another plan, money out to anyone outside the plan's villages.
    """
    flows = list(ctx.param("flows"))
    e, f = _t(ctx, ENTRIES), _t(ctx, FUNDS)
    kinds = ("foundation", "restricted")
    shared = _shared(ctx)
    funds = list(ctx.conn.execute(sa.select(f.c.code).where(f.c.kind.in_(kinds), f.c.code.in_(_all_funds(ctx)))).scalars())
    in_year = sa.and_(e.c.fund_code.in_(funds), e.c.entry_date >= ctx.year_start, e.c.entry_date <= ctx.year_end, of_plan(e.c.plan_name, ctx.plan))
    rows = ctx.conn.execute(
        sa.select(e.c.voucher, e.c.flow, e.c.amount_fen, e.c.fund_code).where(
            in_year, sa.or_(e.c.flow == "donation", sa.and_(~e.c.flow.in_(INFLOWS), _to_plan_villages(ctx, e))))
        .order_by(e.c.entry_date, e.c.voucher)
    ).all() if funds else []
    donations = [r for r in rows if r.flow == "donation"]
    out = [r for r in rows if r.flow not in INFLOWS]
    by_fund: dict[str, int] = {}
    for r in donations:
        by_fund[r.fund_code] = by_fund.get(r.fund_code, 0) + int(r.amount_fen)
    own = set(_funds(ctx))
    din = sum(v if c in own else min(v, shared.get(c, 0)) for c, v in by_fund.items())
    dout = sum(int(r.amount_fen) for r in out)
    ok = ("donation_in" not in flows or din > 0) and ("aid_out" not in flows or dout > 0)
    ever = bool(funds) and ctx.conn.execute(sa.select(e.c.id).where(e.c.fund_code.in_(funds)).limit(1)).first() is not None
    balance = sum(balances(ctx.conn, ctx.store.metadata, funds, until=ctx.year_end).values()) if funds else 0
    return visible(ctx, ctx.judge(
        ok, "有捐赠收入且有资助支出", f"收入 {yuan(din)} 元, 支出 {yuan(dout)} 元, 余额 {yuan(balance)} 元",
        [f"funding_entry:{r.voucher}" for r in rows], anything_recorded=ever, required_en="donations received and aid paid out",
        actual_en=f"{yuan(din)} yuan in, {yuan(dout)} yuan out, balance {yuan(balance)} yuan",
        donations_in_fen=din, aid_out_fen=dout, balance_fen=balance, donations=len(donations), payments=len(out),
    ))


def recurring(programme: str):
    """C29 to C31: every eligible person (household) paid by the programme's due day (see :mod:`fupin_funding.aid`)."""

    def evaluate(ctx: CheckContext) -> CheckResult:
        """Counts: payments of the plan (its own or shared funds, naming no other plan) for the programme and
        year, dated inside the window (``window_days`` up to the due day), to beneficiaries eligible on the
        due day (``beneficiary_tag``, in the plan's villages), adding up to ``min_amount_fen`` each.
        Does not count: payments of another plan or unit, before the window, after the due day, below
        the minimum, or to anyone not eligible."""
        params = {name: ctx.param(name) for name in aid.PARAMS[programme]}
        per = "人" if programme != "foster_reward" else "户"
        try:
            rule = aid.rule(ctx.plan, programme, ctx.year, params)
        except PlanError as exc:
            return ctx.result(Status.NO_DATA, "", "", note=f"方案的发放规则有误: {exc}", note_en=f"the plan's payment rule is wrong: {exc}")
        day = rule.due
        if not ctx.plan.period_start <= day <= ctx.plan.period_end:
            return ctx.result(Status.NOT_YET_DUE, f"{day} 前全部发放", "", required_en=f"all paid by {day}",
                              note=f"{ctx.year} 年的发放日 {day} 不在方案期内", note_en=f"the {ctx.year} due day {day} falls outside the plan period")
        funds = _all_funds(ctx)
        found = aid.payments(ctx.conn, ctx.store, ctx.plan, programme, ctx.year, funds=funds, rule_=rule)
        e = _t(ctx, ENTRIES)
        ever = ctx.conn.execute(sa.select(e.c.id).where(e.c.flow == "aid", e.c.programme == programme, e.c.fund_code.in_(funds),
                                                        of_plan(e.c.plan_name, ctx.plan)).limit(1)).first() is not None
        per_en = "people" if programme != "foster_reward" else "households"
        note = _join(
            f"{found.paid_late} {per}逾期发放" if found.paid_late else "",
            f"{found.paid_early} {per}仅在 {rule.earliest} 前发放, 未计入" if found.paid_early else "",
            f"{found.paid_short} {per}发放不足 {yuan(rule.min_amount_fen)} 元, 未计入" if found.paid_short else "",
            f"{found.strangers} 笔发给不符合条件者, 未计入" if found.strangers else "",
        )
        note_en = _join(
            f"{found.paid_late} {per_en} paid after {day}" if found.paid_late else "",
            f"{found.paid_early} {per_en} paid only before {rule.earliest}, not counted" if found.paid_early else "",
            f"{found.paid_short} {per_en} paid less than {yuan(rule.min_amount_fen)} yuan, not counted" if found.paid_short else "",
            f"{found.strangers} payments to people not eligible on {day}, not counted" if found.strangers else "",
        )
        return visible(ctx, ctx.judge(
            bool(found.eligible) and found.paid_on_time == found.eligible,
            f"{found.eligible} {per}, {rule.earliest} 至 {day} 间每{per}至少 {yuan(rule.min_amount_fen)} 元",
            f"{found.paid_on_time} {per}", found.evidence, deadline=day, anything_recorded=ever, note=note, note_en=note_en,
            required_en=f"{found.eligible} {per_en}, each paid at least {yuan(rule.min_amount_fen)} yuan from {rule.earliest} to {day}",
            actual_en=f"{found.paid_on_time} {per_en} paid in time",
            due=day.isoformat(), earliest=rule.earliest.isoformat(), eligible=found.eligible, paid_on_time=found.paid_on_time,
            paid_late=found.paid_late, paid_early=found.paid_early, paid_short=found.paid_short,
            missing=found.missing, amount_fen=found.amount_fen,
        ))

    return evaluate


def _min_fen(default: int, what_zh: str, what_en: str) -> Param:
    return Param("min_amount_fen", "fen", default=default, zh=f"{what_zh}的最低金额 (分)", en=f"the least amount in fen of {what_en}")


def _aid_params(programme: str, who_zh: str, who_en: str) -> tuple[Param, ...]:
    d = aid.PARAMS[programme]
    when = (Param("due", "string", default=d["due"], zh="每年发放截止日 (MM-DD)", en="the yearly due day (MM-DD)") if "due" in d else
            Param("before", "string", default=d["before"], zh="在方案日历的该事件前一天前发放 (如 spring_festival)",
                  en="paid by the day before this event of the plan's [calendar] (e.g. spring_festival)"))
    return (
        when,
        Param("beneficiary_tag", "string", default=d["beneficiary_tag"], zh=f"使{who_zh}符合条件的人员标签", en=f"the person tag that makes {who_en} eligible"),
        Param("per", "string", default=d["per"], zh="按人 (person) 或按户 (household) 发放", en="paid per person or per household"),
        _min_fen(d["min_amount_fen"], f"每{'户' if d['per'] == 'household' else '人'}每年资助", "each beneficiary's payments in the window"),
        Param("window_days", "positive", default=d["window_days"], zh="截止日前多少天内 (含截止日) 的发放计入",
              en="payments count when dated within this many days up to and including the due day"),
    )


def target_specs() -> list[TargetSpec]:
    """The funding targets and their typed parameters."""
    projects_min = _min_fen(MIN_PROJECT_FEN, "计入项目", "a project that counts (its budget, or the amount shared)")
    return [
        TargetSpec("funding.budget_per_year", "每年定点扶贫专项经费预算", "Dedicated budget per year", budget_per_year, (
            Param("min_amount_fen", "fen", required=True, zh="每年预算的最低金额 (分)", en="the least budget of each year, in fen"),
            Param("years", "integers", zh="承诺的年度 (默认: 方案期的每一年)", en="the years the commitment covers (default: every year of the plan)"),
        )),
        TargetSpec("funding.key_projects", "重点扶持项目", "Key projects", key_projects, (
            Param("min", "count", default=1, zh="重点项目的最少个数", en="the fewest key projects"),
            Param("max", "positive", default=2, zh="重点项目的最多个数", en="the most key projects"),
            projects_min,
        )),
        TargetSpec("funding.infrastructure_projects", "基础设施项目", "Infrastructure projects", infrastructure_projects, (
            Param("areas", "strings", default=["water", "roads", "culture"], zh="每类至少一个项目: water 水利, roads 道路, culture 文化",
                  en="areas that each need a project: water, roads, culture"),
            projects_min,
        )),
        TargetSpec("funding.industry_projects", "产业结构调整项目", "Industry projects", industry_projects, (
            Param("crops", "strings", required=True, zh="须有示范种植项目的作物 (blueberry 蓝莓 ...)", en="crops that each need a demonstration project"),
            Param("contiguous", "boolean", default=False, zh="须为连片种植", en="the planting must be contiguous"),
            Param("keep", "strings", default=[], zh="保留的传统产业 (只在说明中列出, 不计量)", en="traditional crops kept (named in the note, not measured)"),
            projects_min,
        )),
        TargetSpec("funding.foundation", "基金会筹款与资助", "Foundation: donations and aid", foundation, (
            Param("flows", "strings", default=["donation_in", "aid_out"], zh="当年须有的资金流: donation_in 捐赠收入, aid_out 资助支出",
                  en="flows the year needs: donation_in, aid_out"),
        )),
        TargetSpec("funding.study_aid", "8月底贫困学生助学金", "Study aid by the end of August", recurring("study_aid"),
                   _aid_params("study_aid", "在校生", "an in-school member of a poor household")),
        TargetSpec("funding.festival_visits", "春节前孤寡老人送温暖", "Spring Festival support to elderly living alone", recurring("festival_support"),
                   _aid_params("festival_support", "孤寡老人", "an elderly person living alone")),
        TargetSpec("funding.foster_family_reward", "收留孤寡老人家庭爱心奖励", "Reward to families taking in elderly", recurring("foster_reward"),
                   _aid_params("foster_reward", "所收留的孤寡老人", "the elderly person a family took in")),
    ]


__all__ = ["target_specs"]
