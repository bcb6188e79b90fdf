"""The targets of C02, C05, C18, C19 and C28 to C31, counted from the ledger and the projects.

Evidence keys: ``funding_entry:VOUCHER`` and ``funding_project:CODE``.

The figures count every fund of the plan (aggregate figures, ``aggregates.read``):
the funds naming the plan and those of its units naming none. The evidence
names only the entries of funds the reader reaches (``actions.read``, see
:mod:`fupin_funding.scope`); the others are counted in one item,
``funding_entry:(N 条在权限范围外 / N outside your scope)``, so that every
reader gets the same status and figures but only their own units' vouchers.
"""

from __future__ import annotations

from typing import Any

import attrs
import sqlalchemy as sa

from fupin import CheckContext, CheckResult, PlanError, Status, TargetSpec

from fupin_funding import aid, scope
from fupin_funding.ledger import AREAS, INFLOWS, balances, plan_funds, yuan
from fupin_funding.tables import ENTRIES, FUNDS, PROJECTS

CROPS = {"blueberry": "蓝莓", "tobacco": "烤烟", "potato": "马铃薯", "walnut": "核桃"}


def _t(ctx: CheckContext, name: str) -> sa.Table:
    return ctx.store.table(name)


def _of_plan(table: sa.Table, ctx: CheckContext) -> sa.ColumnElement[bool]:
    return sa.or_(table.c.plan_name.is_(None), table.c.plan_name == ctx.plan.name)


def _funds(ctx: CheckContext) -> list[str]:
    """The plan's funds (read once per check)."""
    if "funding.funds" not in ctx.cache:
        ctx.cache["funding.funds"] = plan_funds(ctx.conn, ctx.store.metadata, ctx.plan, ctx.units())
    return ctx.cache["funding.funds"]


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
    """C02: appropriations into the year's budget funds >= min_amount_fen."""
    need = int(ctx.params.get("min_amount_fen", 0))
    years = list(ctx.params.get("years", ctx.plan.years()))
    e, f = _t(ctx, ENTRIES), _t(ctx, FUNDS)
    base = sa.select(e.c.voucher, e.c.amount_fen, f.c.year).join(f, f.c.code == e.c.fund_code).where(
        e.c.flow == "appropriation", f.c.kind == "budget", f.c.code.in_(_funds(ctx)))
    rows = ctx.conn.execute(base.where(f.c.year == ctx.year).order_by(e.c.entry_date, e.c.voucher)).all()
    total = sum(int(r.amount_fen) for r in rows)
    if ctx.year not in years:
        return ctx.result(Status.NOT_YET_DUE, f">= {yuan(need)} 元", f"{yuan(total)} 元", note=f"{ctx.year} 不在承诺年度内 / not a year of the commitment")
    ever = ctx.conn.execute(base.limit(1)).first() is not None
    funds = list(ctx.conn.execute(sa.select(f.c.code).where(f.c.kind == "budget", f.c.year == ctx.year, f.c.code.in_(_funds(ctx)))).scalars())
    spent = ctx.conn.execute(
        sa.select(e.c.purpose, sa.func.sum(e.c.amount_fen)).where(e.c.fund_code.in_(funds), ~e.c.flow.in_(INFLOWS)).group_by(e.c.purpose)
    ).all() if funds else []
    return visible(ctx, ctx.judge(
        total >= need, f">= {yuan(need)} 元 / yuan", f"{yuan(total)} 元 / yuan", [f"funding_entry:{r.voucher}" for r in rows],
        anything_recorded=ever, budget_fen=total, required_fen=need,
        spent_by_purpose_fen={p: int(s) for p, s in spent}, balance_fen=sum(balances(ctx.conn, ctx.store.metadata, funds).values()) if funds else 0,
    ))


def _projects(ctx: CheckContext, *where: Any) -> list[Any]:
    p = _t(ctx, PROJECTS)
    return ctx.conn.execute(
        sa.select(p).where(_of_plan(p, ctx), p.c.status != "cancelled", p.c.start_date <= ctx.year_end, *where).order_by(p.c.code)
    ).all()


def _spent_on(ctx: CheckContext, codes: list[str]) -> dict[str, int]:
    e = _t(ctx, ENTRIES)
    if not codes:
        return {}
    rows = ctx.conn.execute(
        sa.select(e.c.project_code, sa.func.sum(e.c.amount_fen)).where(e.c.project_code.in_(codes), e.c.entry_date <= ctx.year_end).group_by(e.c.project_code)
    ).all()
    return {c: int(s) for c, s in rows}


def key_projects(ctx: CheckContext) -> CheckResult:
    """C05: between min and max key projects (not cancelled) by the year's end."""
    lo, hi = int(ctx.params.get("min", 1)), int(ctx.params.get("max", 2))
    p = _t(ctx, PROJECTS)
    rows = _projects(ctx, p.c.key_project.is_(True))
    ever = ctx.conn.execute(sa.select(p.c.code).where(_of_plan(p, ctx)).limit(1)).first() is not None
    return ctx.judge(
        lo <= len(rows) <= hi, f"{lo}–{hi} 个重点项目 / key projects", str(len(rows)), [f"funding_project:{r.code}" for r in rows],
        anything_recorded=ever, key_projects=[r.code for r in rows],
    )


def infrastructure_projects(ctx: CheckContext) -> CheckResult:
    """C18: at least one project with a budget and a status in every named area (water, roads, culture)."""
    areas = list(ctx.params.get("areas", ["water", "roads", "culture"]))
    p = _t(ctx, PROJECTS)
    rows = _projects(ctx, p.c.area.in_(areas), p.c.budget_fen > 0)
    by_area = {a: [r for r in rows if r.area == a] for a in areas}
    lacking = [a for a, rs in by_area.items() if not rs]
    spent = _spent_on(ctx, [r.code for r in rows])
    ever = ctx.conn.execute(sa.select(p.c.code).where(_of_plan(p, ctx), p.c.area.in_(areas)).limit(1)).first() is not None
    actual = ", ".join(f"{AREAS.get(a, a)} {len(rs)}" for a, rs in by_area.items())
    return ctx.judge(
        not lacking, "每类至少1个有预算和状态的项目 / a budgeted project in each area: " + "、".join(AREAS.get(a, a) for a in areas), actual,
        [f"funding_project:{r.code}" for r in rows], anything_recorded=ever,
        note=("缺 / missing: " + "、".join(AREAS.get(a, a) for a in lacking)) if lacking else "",
        projects={r.code: {"area": r.area, "status": r.status, "budget_fen": int(r.budget_fen), "spent_fen": spent.get(r.code, 0)} for r in rows},
    )


def _crop_names(crop: str) -> set[str]:
    return {crop, CROPS.get(crop, crop)}


def industry_projects(ctx: CheckContext) -> CheckResult:
    """C19: an industry project per named crop, contiguous if asked, with its area (亩) and households."""
    crops = list(ctx.params.get("crops", []))
    contiguous = bool(ctx.params.get("contiguous", False))
    p = _t(ctx, PROJECTS)
    rows = _projects(ctx, p.c.area == "industry")
    good, lacking = [], []
    for crop in crops:
        found = [r for r in rows if r.crop in _crop_names(crop) and (r.area_mu or 0) > 0 and (r.households or 0) > 0
                 and (r.contiguous or not contiguous)]
        good += found
        if not found:
            lacking.append(CROPS.get(crop, crop))
    area_mu = sum((r.area_mu for r in good), start=0)
    households = sum(r.households for r in good)
    keep = "、".join(CROPS.get(k, k) for k in ctx.params.get("keep", []))
    ever = bool(rows)
    return ctx.judge(
        not lacking, "连片示范种植 / contiguous demonstration: " + "、".join(CROPS.get(c, c) for c in crops),
        f"{area_mu} 亩, {households} 户 / households", [f"funding_project:{r.code}" for r in good], anything_recorded=ever,
        note=_join(("缺 / missing: " + "、".join(lacking)) if lacking else "", f"保留传统产业 {keep} (不计量) / traditional crops kept, not measured" if keep else ""),
        area_mu=str(area_mu), households=households,
    )


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def foundation(ctx: CheckContext) -> CheckResult:
    """C28: donations into the foundation (and its restricted funds) and aid out of it in the year; the balance."""
    e, f = _t(ctx, ENTRIES), _t(ctx, FUNDS)
    kinds = ("foundation", "restricted")
    funds = list(ctx.conn.execute(sa.select(f.c.code).where(f.c.kind.in_(kinds), f.c.code.in_(_funds(ctx)))).scalars())
    rows = ctx.conn.execute(
        sa.select(e.c.voucher, e.c.flow, e.c.amount_fen).where(e.c.fund_code.in_(funds), e.c.entry_date >= ctx.year_start, e.c.entry_date <= ctx.year_end)
        .order_by(e.c.entry_date, e.c.voucher)
    ).all() if funds else []
    donations = [r for r in rows if r.flow == "donation"]
    out = [r for r in rows if r.flow not in INFLOWS]
    din, dout = sum(int(r.amount_fen) for r in donations), sum(int(r.amount_fen) for r in out)
    flows = list(ctx.params.get("flows", ["donation_in", "aid_out"]))
    ok = ("donation_in" not in flows or din > 0) and ("aid_out" not in flows or dout > 0)
    ever = bool(funds) and ctx.conn.execute(sa.select(e.c.id).where(e.c.fund_code.in_(funds)).limit(1)).first() is not None
    balance = sum(balances(ctx.conn, ctx.store.metadata, funds, until=ctx.year_end).values()) if funds else 0
    return visible(ctx, ctx.judge(
        ok, "捐赠收入 > 0 且资助支出 > 0 / donations in and aid out", f"收入 {yuan(din)}, 支出 {yuan(dout)}, 余额 {yuan(balance)} 元",
        [f"funding_entry:{r.voucher}" for r in rows], anything_recorded=ever,
        donations_in_fen=din, aid_out_fen=dout, balance_fen=balance, donations=len(donations), payments=len(out),
    ))


def recurring(programme: str):
    """C29 to C31: every eligible person (household) paid by the programme's due day."""

    def evaluate(ctx: CheckContext) -> CheckResult:
        per = "人" if programme != "foster_reward" else "户"
        try:
            day = aid.due_day(ctx.plan, programme, ctx.year)
        except PlanError as exc:
            return ctx.result(Status.NO_DATA, "", "", note=f"{exc}")
        if not ctx.plan.period_start <= day <= ctx.plan.period_end:
            return ctx.result(Status.NOT_YET_DUE, f"{day} 前全部发放 / all paid by {day}", "",
                              note=f"{ctx.year} 年的发放日 {day} 不在方案期内 / the {ctx.year} due day falls outside the plan period")
        found = aid.payments(ctx.conn, ctx.store, ctx.plan, programme, ctx.year)
        e = _t(ctx, ENTRIES)
        ever = ctx.conn.execute(sa.select(e.c.id).where(e.c.flow == "aid", e.c.programme == programme).limit(1)).first() is not None
        note = _join(
            f"{found.paid_late} {per}逾期发放 / paid after {day}" if found.paid_late else "",
            f"{found.strangers} 笔发给不符合条件者, 未计入 / payments to people not eligible on {day}, not counted" if found.strangers else "",
        )
        return visible(ctx, ctx.judge(
            bool(found.eligible) and found.paid_on_time == found.eligible, f"{found.eligible} {per}, {day} 前 / by {day}",
            f"{found.paid_on_time} {per}", found.evidence, deadline=day, anything_recorded=ever, note=note,
            due=day.isoformat(), eligible=found.eligible, paid_on_time=found.paid_on_time, paid_late=found.paid_late,
            missing=found.missing, amount_fen=found.amount_fen,
        ))

    return evaluate


def target_specs() -> list[TargetSpec]:
    return [
        TargetSpec("funding.budget_per_year", "每年定点扶贫专项经费预算", "Dedicated budget per year", budget_per_year, ("min_amount_fen", "years")),
        TargetSpec("funding.key_projects", "重点扶持项目", "Key projects", key_projects, ("min", "max")),
        TargetSpec("funding.infrastructure_projects", "基础设施项目", "Infrastructure projects", infrastructure_projects, ("areas",)),
        TargetSpec("funding.industry_projects", "产业结构调整项目", "Industry projects", industry_projects, ("crops", "contiguous", "keep")),
        TargetSpec("funding.foundation", "基金会筹款与资助", "Foundation: donations and aid", foundation, ("flows",)),
        TargetSpec("funding.study_aid", "8月底贫困学生助学金", "Study aid by the end of August", recurring("study_aid"), ("due", "beneficiary_tag", "per")),
        TargetSpec("funding.festival_visits", "春节前孤寡老人送温暖", "Spring Festival support to elderly living alone", recurring("festival_support"), ("before", "beneficiary_tag", "per")),
        TargetSpec("funding.foster_family_reward", "收留孤寡老人家庭爱心奖励", "Reward to families taking in elderly", recurring("foster_reward"), ("before", "beneficiary_tag", "per")),
    ]


__all__ = ["target_specs"]
