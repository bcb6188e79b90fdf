"""The funding section of the yearly report: sums and counts only, no names, no vouchers.

Sums are aggregate figures of the plan's own funds (``aggregates.read``):
owned by its units and naming it, never another plan's or unit's (the
commitments' results count shared funds as their targets say). The section
goes to 二、主要工作及成效 with two charts (the year's money in by source and
out by purpose; money in and out by year), and says what is still due (unpaid
study aid, a budget below the plan's minimum) for 五、下一步工作打算.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from fupin import CheckContext, ReportSection, Status
from fupin.ext import Chart, Series, plan_units

from fupin_funding import aid
from fupin_funding.ledger import FLOWS, INFLOWS, PURPOSES, plan_funds, yuan
from fupin_funding.tables import ENTRIES
from fupin_funding.targets import target_specs

#: English labels of the ledger's codes (the Chinese ones are :data:`~fupin_funding.ledger.PURPOSES`, :data:`~fupin_funding.ledger.FLOWS`).
PURPOSES_EN = {
    "study_aid": "study aid", "festival_support": "Spring Festival support", "foster_reward": "foster-family reward",
    "infrastructure": "infrastructure", "industry": "industry", "training": "training", "general": "general",
}
FLOWS_EN = {"appropriation": "budget appropriations", "donation": "donations", "spending": "project spending", "aid": "aid paid"}


def purpose_label(purpose: str | None, lang: str = "zh") -> str:
    """The reader's word for a purpose code (``"study_aid"`` -> 助学金 / study aid); 未注明 / unspecified for none."""
    if not purpose:
        return "未注明" if lang != "en" else "unspecified"
    return PURPOSES_EN.get(purpose, purpose) if lang == "en" else PURPOSES.get(purpose, purpose)


def flow_label(flow: str, lang: str = "zh") -> str:
    """The reader's word for a flow code (``"donation"`` -> 捐赠收入 / donations)."""
    return FLOWS_EN.get(flow, flow) if lang == "en" else FLOWS.get(flow, flow)


def _as_of(year: int) -> dt.date:
    """The report's date when none is given: a past year's last day, this year's today (as ``fupin report`` dates it)."""
    return min(dt.date.today(), dt.date(year, 12, 31))


def _money(conn: Any, store: Any, funds: list[str], start: dt.date, end: dt.date) -> tuple[dict[str, int], dict[str, int]]:
    """(flow -> fen in, purpose -> fen out) of ``funds`` between ``start`` and ``end``."""
    e = store.table(ENTRIES)
    rows = conn.execute(
        sa.select(e.c.flow, e.c.purpose, sa.func.sum(e.c.amount_fen)).where(
            e.c.fund_code.in_(sorted(set(funds))), e.c.entry_date >= start, e.c.entry_date <= end,
        ).group_by(e.c.flow, e.c.purpose)
    ).all()
    money_in: dict[str, int] = {}
    money_out: dict[str, int] = {}
    for flow, purpose, total in rows:
        if flow in INFLOWS:
            money_in[flow] = money_in.get(flow, 0) + int(total)
        else:
            money_out[purpose or ""] = money_out.get(purpose or "", 0) + int(total)
    return money_in, money_out


def _yuan_value(fen: int) -> float:
    return fen / 100


def sections(store: Any, plan: Any, year: int, as_of: dt.date | None = None) -> list[ReportSection]:
    """The section ``funding.summary``: the year's money in and out, charts, the shortfalls and what is still due.

    What is due, met or not is judged as of ``as_of`` (the report's date), as the core's results of the same report.
    """
    specs = {s.name: s for s in target_specs()}
    as_of = as_of or _as_of(year)
    results = []
    years = [y for y in plan.years() if y <= max(year, plan.period_start.year)]
    with store.reading("aggregates.read") as conn:
        for c in plan.commitments:
            if c.target in specs:
                ctx = CheckContext(store, plan, c, year, as_of, conn, spec=specs[c.target])
                try:
                    results.append((c, specs[c.target].evaluate(ctx)))
                except Exception as exc:  # a report must not fail on one figure
                    results.append((c, ctx.result(Status.NO_DATA, "", "", note=str(exc))))
        # Money of its own funds only: a shared fund's money is mostly its owner's plan's.
        funds = plan_funds(conn, store.metadata, plan, plan_units(conn, plan))
        money_in, money_out = _money(conn, store, funds, dt.date(year, 1, 1), dt.date(year, 12, 31))
        by_year = {y: _money(conn, store, funds, dt.date(y, 1, 1), dt.date(y, 12, 31)) for y in years}
    total_in, total_out = sum(money_in.values()), sum(money_out.values())
    purposes = sorted(money_out, key=lambda p: (-money_out[p], p))
    flows = [f for f in INFLOWS if f in money_in]

    def spent(lang: str) -> str:
        sep = "、" if lang != "en" else ", "
        return sep.join(f"{purpose_label(p, lang)} {yuan(money_out[p])}" for p in purposes)

    def came(lang: str) -> str:
        sep = "、" if lang != "en" else ", "
        return sep.join(f"{flow_label(f, lang)} {yuan(money_in[f])}" for f in flows)

    zh = [f"{year} 年资金到位 {yuan(total_in)} 元" + (f" ({came('zh')})" if flows else "")
          + f", 支出 {yuan(total_out)} 元" + (f": {spent('zh')}" if purposes else "") + "。"]
    en = [f"{year}: {yuan(total_in)} yuan came in" + (f" ({came('en')})" if flows else "")
          + f", {yuan(total_out)} yuan went out" + (f" ({spent('en')})" if purposes else "") + "."]
    short_zh, short_en, next_zh, next_en = [], [], [], []
    for c, r in results:
        if r.status is Status.NOT_MET:
            said = _shortfall(c, r)
            short_zh.append(said[0])
            short_en.append(said[1])
    gap = budget_gap(results, plan, year)
    if gap:
        have, need = gap
        next_zh.append(f"落实 {year} 年专项经费预算缺口 {yuan(need - have)} 元 (已到位 {yuan(have)} 元, 方案要求不少于 {yuan(need)} 元)。")
        next_en.append(f"Find the {yuan(need - have)} yuan missing from the {year} budget ({yuan(have)} yuan in, "
                       f"the plan asks for at least {yuan(need)} yuan).")
    unpaid = unpaid_study_aid(results, plan, year)
    if unpaid:
        n, fen, due = unpaid
        next_zh.append(f"向 {n} 名符合条件的贫困学生发放 {year} 年助学金, 共 {yuan(fen)} 元 (每人 "
                       f"{yuan(fen // n)} 元, 期限 {due.isoformat()})。")
        next_en.append(f"Pay the {year} study aid to {n} eligible students still unpaid, {yuan(fen)} yuan in all "
                       f"({yuan(fen // n)} yuan each, due {due.isoformat()}).")
    charts = (_year_chart(year, money_in, money_out, flows, purposes), _years_chart(year, years, by_year))
    return [ReportSection(
        "funding.summary", "资金投入与使用", "Funds in and out", paragraphs_zh=tuple(zh), paragraphs_en=tuple(en),
        shortfalls_zh=tuple(short_zh), shortfalls_en=tuple(short_en), part="work", charts=charts,
        next_steps_zh=tuple(next_zh), next_steps_en=tuple(next_en),
    )]


def budget_gap(results: list[Any], plan: Any, year: int) -> tuple[int, int] | None:
    """(the year's budget in fen, the plan's minimum) when the budget falls short in a year of the commitment, else None."""
    for c, r in results:
        if c.target == "funding.budget_per_year" and "required_fen" in r.figures and year in (c.params.get("years") or plan.years()):
            have, need = int(r.figures["budget_fen"]), int(r.figures["required_fen"])
            return (have, need) if have < need else None
    return None


def unpaid_study_aid(results: list[Any], plan: Any, year: int) -> tuple[int, int, dt.date] | None:
    """(students eligible and not paid at all, what the aid list pays them in fen, the due day) of ``year``'s study aid, or None."""
    c29 = next((r for c, r in results if c.target == "funding.study_aid" and "missing" in r.figures), None)
    if c29 is None or not int(c29.figures["missing"]):
        return None
    rule = aid.rule(plan, "study_aid", year)
    n = int(c29.figures["missing"])
    each = max(int(aid.settings(plan)["amounts_fen"]["study_aid"]), rule.min_amount_fen)  # what the aid list pays each
    return n, n * each, rule.due


def _shortfall(c: Any, r: Any) -> tuple[str, str]:
    """One unmet funding commitment, in words (its title and, where the figures say it, by how much)."""
    f = r.figures
    if "required_fen" in f and "budget_fen" in f:
        return (f"{c.title('zh')}: 到位 {yuan(int(f['budget_fen']))} 元, 少于要求的 {yuan(int(f['required_fen']))} 元。",
                f"{c.title('en')}: {yuan(int(f['budget_fen']))} yuan in, less than the {yuan(int(f['required_fen']))} yuan required.")
    if "eligible" in f and "paid_on_time" in f:
        n, done = int(f["eligible"]), int(f["paid_on_time"])
        return (f"{c.title('zh')}: 应发 {n} 人 (户), 按时足额发放 {done} 人 (户)。",
                f"{c.title('en')}: {n} eligible, {done} paid in full and on time.")
    return (f"{c.title('zh')}: 本年未达成。", f"{c.title('en')}: not met this year.")


def _year_chart(year: int, money_in: dict[str, int], money_out: dict[str, int], flows: list[str], purposes: list[str]) -> Chart:
    """A stacked bar of two bars: the year's money in by source, out by purpose (yuan)."""
    series = [Series(flow_label(f), flow_label(f, "en"), (_yuan_value(money_in[f]), None), "元", "yuan") for f in flows]
    series += [Series(purpose_label(p), purpose_label(p, "en"), (None, _yuan_value(money_out[p])), "元", "yuan") for p in purposes]
    return Chart(
        "funding.in_out_by_purpose", "stacked_bar", f"{year} 年资金到位与支出", f"Funds in and out, {year}",
        ("到位", "支出"), ("in", "out"), tuple(series),
        note_zh=f"到位 {yuan(sum(money_in.values()))} 元 (按来源), 支出 {yuan(sum(money_out.values()))} 元 (按用途)。",
        note_en=f"{yuan(sum(money_in.values()))} yuan in (by source), {yuan(sum(money_out.values()))} yuan out (by purpose).",
    )


def _years_chart(year: int, years: list[int], by_year: dict[int, tuple[dict[str, int], dict[str, int]]]) -> Chart:
    """Bars of money in and out of the plan's funds, each year of the plan up to ``year`` (yuan)."""
    return Chart(
        "funding.in_out_by_year", "bar", "历年资金到位与支出", "Funds in and out by year",
        tuple(f"{y} 年" for y in years), tuple(str(y) for y in years),
        (Series("到位", "in", tuple(_yuan_value(sum(by_year[y][0].values())) for y in years), "元", "yuan"),
         Series("支出", "out", tuple(_yuan_value(sum(by_year[y][1].values())) for y in years), "元", "yuan")),
        highlight=tuple(i for i, y in enumerate(years) if y == year),
    )
