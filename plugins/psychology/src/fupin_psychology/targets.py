"""The targets of C32 (counselling coverage of special groups) and C33 (social-work cases).

Every parameter is the commitment's (``params = { ... }`` in the plan file),
declared with its type and meaning in :func:`target_specs` and validated when
the plan is loaded. Only records one of the plan's units registered naming the
plan count (:func:`fupin.queries.own_records`), about persons and households of
the plan's villages, dated inside the year checked.

Counts of 1 to 4 persons are shown as ``<5`` in the result's text and figures
(and no share is given for them), so no child can be picked out from a check.
Evidence keys: ``psychology_session:REF``, ``psychology_case:REF``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from fupin import CheckContext, CheckResult, TargetSpec
from fupin.ext import Param, own_records

from fupin_psychology.model import small
from fupin_psychology.records import GroupCoverage, SessionRule, cases_active, coverage, step_dates
from fupin_psychology.tables import CASES, SESSIONS

#: Why a session was not counted, for the note.
REFUSED = {
    "mode": ("方式不计入", "held in a way the plan does not count"),
    "short": ("时长不足或未记录", "shorter than the plan's minimum or without a duration"),
    "crowded": ("人数超过团体上限", "listing more persons than a group may have"),
}


def _en(ctx: CheckContext, list_name: str, label: str) -> str:
    """The English label of a vocabulary entry named by its Chinese label (留守儿童 -> left-behind children)."""
    try:
        term = ctx.store.vocab.find(list_name, label)
    except KeyError:
        term = None
    return term.en.replace("_", " ") if term is not None else label


def _shown(n: int) -> int | str:
    return n if not 0 < n < 5 else small(n)


def group_text(g: GroupCoverage, name: str = "") -> str:
    """``留守儿童 23/25 (92%)``; small counts as ``<5`` and then no share. ``name``: the group in another language."""
    c, t = len(g.counselled), len(g.tagged)
    share = f" ({g.share:.0%})" if c >= 5 and t >= 5 else ""
    return f"{name or g.group} {small(c)}/{small(t)}{share}"


def group_figures(g: GroupCoverage) -> dict[str, Any]:
    """The JSON figures of one group: persons on the roster, counselled, share (None for small counts)."""
    c, t = len(g.counselled), len(g.tagged)
    return {"persons": _shown(t), "counselled": _shown(c), "share": round(g.share, 4) if c >= 5 and t >= 5 else None}


def _ever(ctx: CheckContext, table: str) -> bool:
    t = ctx.store.table(table)
    return ctx.conn.execute(sa.select(sa.literal(1)).where(own_records(t, ctx.plan, ctx.units())).limit(1)).first() is not None


def session_rule(ctx: CheckContext) -> SessionRule:
    """The plan's rule of what session counts (``modes``, ``min_minutes``, ``max_group_size``)."""
    modes = tuple(ctx.store.vocab.check("psychology_mode", m, field="modes") for m in ctx.param("modes"))
    return SessionRule(modes, int(ctx.param("min_minutes")), int(ctx.param("max_group_size")))


def counselling_coverage(ctx: CheckContext) -> CheckResult:
    """C32: each special group's share of persons counselled at least ``min_per_year`` times in the year.

    Counts: sessions registered by one of the plan's units naming the plan,
    dated in the year, held in one of ``modes`` (individual, group or home
    visit; a phone call does not count unless the plan lists it), lasting at
    least ``min_minutes`` and listing at most ``max_group_size`` persons; for a
    person of the plan's villages who holds the group's tag on the session's
    day. A group is covered when ``min_share`` of the persons holding its tag
    in the year are counselled.

    Does not count: sessions of other units or plans, of another year, phone
    calls, sessions without a duration or shorter than the minimum, sessions
    listing a crowd, persons of other villages or without the tag that day.
    """
    groups = [ctx.store.vocab.check("person_tag", g, field="groups") for g in ctx.param("groups")]
    times = int(ctx.param("min_per_year"))
    need = float(ctx.param("min_share"))
    rule = session_rule(ctx)
    cov, refused = coverage(ctx.conn, ctx.store, ctx.plan, groups, ctx.year_start, ctx.year_end, times, rule)
    short = [g for g, c in cov.items() if c.tagged and c.share < need]
    empty = [g for g, c in cov.items() if not c.tagged]
    evidence = sorted({f"psychology_session:{r}" for c in cov.values() for r in c.sessions})
    en = lambda values, list_name="person_tag": ", ".join(_en(ctx, list_name, v) for v in values)  # noqa: E731
    notes = [(f"无登记对象: {'、'.join(empty)}", f"nobody on the roster: {en(empty)}")] if empty else []
    notes += [(f"{n} 次疏导{REFUSED[why][0]}, 不计入", f"{n} sessions {REFUSED[why][1]}, not counted") for why, n in sorted(refused.items())]
    return ctx.judge(
        bool(groups) and len(empty) < len(groups) and not short,
        f"{'、'.join(groups)}: 每群体至少 {need:.0%} 的人每年疏导至少 {times} 次 (每次至少 {rule.min_minutes} 分钟, 至多 {rule.max_group_size} 人; "
        f"{'、'.join(rule.modes)})",
        ", ".join(group_text(c) for c in cov.values()) + (f" (不足: {'、'.join(short)})" if short else ""),
        evidence, anything_recorded=_ever(ctx, SESSIONS), note="; ".join(n[0] for n in notes), note_en="; ".join(n[1] for n in notes),
        required_en=f"{en(groups)}: at least {need:.0%} of each group counselled at least {times} time(s) a year (each at least "
        f"{rule.min_minutes} minutes, at most {rule.max_group_size} persons; {en(rule.modes, 'psychology_mode')})",
        actual_en=", ".join(group_text(c, _en(ctx, "person_tag", g)) for g, c in cov.items()) + (f" (short: {en(short)})" if short else ""),
        required_share=need, min_per_year=times, groups={g: group_figures(c) for g, c in cov.items()}, short=short,
        not_counted=dict(sorted(refused.items())),
    )


def social_work_cases(ctx: CheckContext) -> CheckResult:
    """C33: social-work cases of the plan's households with a step taken in the year.

    Counts: a case registered by one of the plan's units naming the plan, of a
    household of the plan's villages, open at some time in the year, with at
    least one step dated inside the year (steps are written ``YYYY-MM-DD what``).
    At least ``min_cases`` such cases a year.

    Does not count: cases of other units, plans or villages; a case with no
    step, only undated steps or steps of other years (an open case nobody works
    on); a case opened after the year or closed before it.
    """
    need = int(ctx.param("min_cases"))
    cases = cases_active(ctx.conn, ctx.store, ctx.plan, ctx.year_start, ctx.year_end)
    counted = [c for c in cases if any(ctx.year_start <= d <= ctx.year_end for d in step_dates(c.steps))]
    opened = sum(1 for c in cases if c.opened >= ctx.year_start)
    closed = sum(1 for c in cases if c.closed is not None and c.closed <= ctx.year_end)
    households = len({c.household for c in counted})
    idle = len(cases) - len(counted)
    return ctx.judge(
        len(counted) >= need,
        f"至少 {need} 个社会工作个案 (本年有工作步骤)",
        f"{len(counted)} 个个案 {households} 户 (新开 {opened}, 结案 {closed})",
        [f"psychology_case:{c.ref}" for c in counted], anything_recorded=_ever(ctx, CASES),
        note=f"{idle} 个个案本年没有记录日期的工作步骤, 不计入" if idle else "",
        note_en=f"{idle} cases without a dated step in the year, not counted" if idle else "",
        required_en=f"at least {need} social-work case(s) with a step taken in the year",
        actual_en=f"{len(counted)} cases, {households} households ({opened} opened, {closed} closed)",
        required_cases=need, cases=len(counted), households=households, opened=opened, closed=closed,
        without_steps=idle,
    )


def target_specs() -> list[TargetSpec]:
    """The two targets, with their typed parameters."""
    return [
        TargetSpec("psychology.counselling_coverage", "特殊群体心理疏导覆盖率", "Counselling coverage of special groups",
                   counselling_coverage, params=(
                       Param("groups", "strings", required=True, zh="特殊帮扶群体 (人员标签, 如 留守儿童、空巢老人)",
                             en="the special groups, as person tags (left-behind children, empty-nest elderly ...)"),
                       Param("min_per_year", "positive", default=1, zh="每人每年至少疏导次数", en="sessions per person per year"),
                       Param("min_share", "number", default=0.8, zh="每个群体中至少疏导到的比例 (0 到 1)",
                             en="share of each group counselled at least min_per_year times (0 to 1)"),
                       Param("min_minutes", "positive", default=20, zh="一次疏导的最短时长 (分钟)",
                             en="the shortest session that counts, in minutes"),
                       Param("max_group_size", "positive", default=12, zh="一次疏导 (团体辅导) 的最多人数",
                             en="the most persons one (group) session may list and still count"),
                       Param("modes", "strings", default=("个别疏导", "团体辅导", "入户走访"),
                             zh="计入的疏导方式 (psychology_mode: 个别疏导、团体辅导、入户走访、电话)",
                             en="the ways of counselling that count (psychology_mode: individual, group, home_visit, phone)"),
                   )),
        TargetSpec("psychology.social_work_cases", "社会工作个案", "Social-work cases", social_work_cases, params=(
            Param("min_cases", "count", default=1, zh="每年至少有工作步骤的个案数",
                  en="social-work cases with a step taken in the year, at least"),
        )),
    ]


def settings(plan: Any) -> dict[str, Any]:
    """The C32 parameters of ``plan`` with their defaults (for the report, which has no check context)."""
    spec = target_specs()[0]
    c32 = next((c for c in plan.commitments if c.target == spec.name), None)
    given = dict(c32.params) if c32 is not None else {}
    return {p.name: given.get(p.name, p.default) for p in spec.params}
