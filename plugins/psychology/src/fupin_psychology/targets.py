"""The targets of C32 (counselling coverage of special groups) and C33 (social-work cases).

The plugin's parameters come from the plan's ``[plugins.psychology]`` table.
Counts of 1 to 4 persons are shown as ``<5`` in the result's text and figures
(and no share is given for them), so no child can be picked out from a check.
Evidence keys: ``psychology_session:REF``, ``psychology_case:REF``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from fupin import CheckContext, CheckResult, TargetSpec

from fupin_psychology.model import small
from fupin.queries import of_plan, plan_units

from fupin_psychology.records import GroupCoverage, cases_active, coverage
from fupin_psychology.tables import CASES, SESSIONS

DEFAULTS: Mapping[str, Any] = {
    "min_share": 0.8,  # C32: share of each special group counselled (min_per_year sessions) in the year
    "min_cases_per_year": 1,  # C33: social-work cases open in the year with at least one step recorded
}


def settings(plan: Any) -> dict[str, Any]:
    """The plugin's parameters for ``plan``: the defaults, overridden by ``[plugins.psychology]``."""
    return {**DEFAULTS, **dict(plan.plugins.get("psychology", {}) or {})}


def _shown(n: int) -> int | str:
    return n if not 0 < n < 5 else small(n)


def group_text(g: GroupCoverage) -> str:
    """``留守儿童 23/25 (92%)``; small counts as ``<5`` and then no share."""
    c, t = len(g.counselled), len(g.tagged)
    share = f" ({g.share:.0%})" if c >= 5 and t >= 5 else ""
    return f"{g.group} {small(c)}/{small(t)}{share}"


def group_figures(g: GroupCoverage) -> dict[str, Any]:
    c, t = len(g.counselled), len(g.tagged)
    return {"persons": _shown(t), "counselled": _shown(c), "share": round(g.share, 4) if c >= 5 and t >= 5 else None}


def _ever(ctx: CheckContext, table: str) -> bool:
    t = ctx.store.table(table)
    units = plan_units(ctx.conn, ctx.plan)
    return ctx.conn.execute(sa.select(sa.literal(1)).where(of_plan(t, ctx.plan, units)).limit(1)).first() is not None


def counselling_coverage(ctx: CheckContext) -> CheckResult:
    """C32: each special group's share of persons counselled at least ``min_per_year`` times in the year."""
    groups = [ctx.store.vocab.check("person_tag", g, field="groups") for g in ctx.params.get("groups", ())]
    times = int(ctx.params.get("min_per_year", 1))
    need = float(settings(ctx.plan)["min_share"])
    cov = coverage(ctx.conn, ctx.store, ctx.plan, groups, ctx.year_start, ctx.year_end, times)
    short = [g for g, c in cov.items() if c.tagged and c.share < need]
    empty = [g for g, c in cov.items() if not c.tagged]
    evidence = sorted({f"psychology_session:{r}" for c in cov.values() for r in c.sessions})
    note = f"无登记对象 / nobody tagged: {'、'.join(empty)}" if empty else ""
    return ctx.judge(
        bool(groups) and len(empty) < len(groups) and not short,
        f"每群体 >= {need:.0%} 每年疏导 >= {times} 次 / of each group counselled >= {times}x a year: {'、'.join(groups)}",
        ", ".join(group_text(c) for c in cov.values()) + (f" (不足 / short: {'、'.join(short)})" if short else ""),
        evidence, anything_recorded=_ever(ctx, SESSIONS), note=note,
        required_share=need, min_per_year=times, groups={g: group_figures(c) for g, c in cov.items()}, short=short,
    )


def social_work_cases(ctx: CheckContext) -> CheckResult:
    """C33: social-work cases of the plan's households open in the year, each with a step recorded."""
    need = int(settings(ctx.plan)["min_cases_per_year"])
    cases = cases_active(ctx.conn, ctx.store, ctx.plan, ctx.year_start, ctx.year_end)
    counted = [c for c in cases if c.steps]
    opened = sum(1 for c in cases if c.opened >= ctx.year_start)
    closed = sum(1 for c in cases if c.closed is not None and c.closed <= ctx.year_end)
    households = len({c.household for c in counted})
    note = f"{len(cases) - len(counted)} 个个案没有记录步骤, 不计入 / cases without a recorded step, not counted" if len(cases) > len(counted) else ""
    return ctx.judge(
        len(counted) >= need,
        f">= {need} 个社会工作个案 (有工作步骤) / social-work cases with steps taken",
        f"{len(counted)} 个个案 {households} 户 (新开 {opened}, 结案 {closed}) / {len(counted)} cases, {households} households "
        f"({opened} opened, {closed} closed)",
        [f"psychology_case:{c.ref}" for c in counted], anything_recorded=_ever(ctx, CASES), note=note,
        required_cases=need, cases=len(counted), households=households, opened=opened, closed=closed,
        without_steps=len(cases) - len(counted),
    )


def target_specs() -> list[TargetSpec]:
    """The two targets."""
    return [
        TargetSpec("psychology.counselling_coverage", "特殊群体心理疏导覆盖率", "Counselling coverage of special groups",
                   counselling_coverage, params=("groups", "min_per_year")),
        TargetSpec("psychology.social_work_cases", "社会工作个案", "Social-work cases", social_work_cases, params=()),
    ]
