"""The commitment targets of the stream: C17, C20, C21 and C22.

Each reads its figures from :mod:`fupin_training.queries` and lets
``ctx.judge`` apply the one status rule. Every parameter is the
commitment's (``params = { ... }`` in the plan file), declared with its type
and meaning in :func:`targets` and validated when the plan is loaded.

Every target counts only actions one of the plan's units registered naming
the plan (:func:`fupin.queries.own_records`), about the plan's villages, dated
inside the year (sessions) or in force in it (a training plan, a project).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from fupin import CheckContext, CheckResult, TargetSpec
from fupin.ext import Param

from fupin_training import catalogue as cat
from fupin_training import queries as q
from fupin_training.kinds import AGRI_SESSION, PARTY_FORMATS, PARTY_TRAINING, RESEARCH_PROJECT, SKILL_ASSESSMENT, TRAINING_PLAN


def _t(ctx: CheckContext) -> q.Tables:
    return q.Tables.of(ctx.store)


def _keys(refs: Any) -> list[str]:
    return [f"action:{r}" for r in refs]


def agri_courses(ctx: CheckContext) -> CheckResult:
    """C20: at least ``min_sessions`` sessions of each technique area the commitment's ``topics`` name, in the year.

    Counts: a session (``training.agri_session``) of the plan's units naming the
    plan, held in the year in the plan's villages (a village beneficiary, a
    villager group or attendees of them), of at least ``min_hours`` hours with
    at least ``min_attendees`` named attendees.

    Does not count: sessions of other units or plans, of another year or
    village, shorter or with fewer named attendees than the minimum.
    """
    t, units = _t(ctx), ctx.units()
    need = int(ctx.param("min_sessions"))
    min_hours, min_people = float(ctx.param("min_hours")), int(ctx.param("min_attendees"))
    topics = list(ctx.param("topics") or cat.codes(cat.AREAS))
    by_area = q.sessions_by_area(ctx.conn, t, ctx.plan, units, ctx.year_start, ctx.year_end, min_hours, min_people)
    people = q.attendees(ctx.conn, t, ctx.plan, units, ctx.year_start, ctx.year_end, min_hours, min_people)
    vocab = ctx.store.vocab
    short = [a for a in topics if by_area.get(a, q.AreaFigures(a)).sessions < need]
    actual = ", ".join(f"{cat.area_label(vocab, a)} {by_area.get(a, q.AreaFigures(a)).sessions}" for a in topics)
    actual_en = ", ".join(f"{cat.area_label(vocab, a, 'en')} {by_area.get(a, q.AreaFigures(a)).sessions}" for a in topics)
    others = sum(f.sessions for a, f in by_area.items() if a not in topics)
    if others:
        actual += f", 其他 {others}"
        actual_en += f", other {others}"
    attendances = sum(f.attendances for f in by_area.values())
    hours = sum((f.hours for f in by_area.values()), Decimal(0))  # a Decimal even with no session
    actual += f" 场; 出勤 {attendances} 人次 ({people} 人), {hours.normalize():f} 学时"
    actual_en += f" sessions; {attendances} attendances ({people} people), {hours.normalize():f} hours"
    return ctx.judge(
        not short, f"每个领域每年至少 {need} 场 (每场至少 {min_hours:g} 学时、{min_people} 人): "
        + "、".join(cat.area_label(vocab, a) for a in topics), actual,
        _keys(ref for f in by_area.values() for ref in f.refs),
        note=f"无培训的领域: {'、'.join(cat.area_label(vocab, a) for a in short)}" if short else "",
        note_en=f"areas without a session: {', '.join(cat.area_label(vocab, a, 'en') for a in short)}" if short else "",
        required_en=f"at least {need} session(s) a year in each area (each of at least {min_hours:g} hours and {min_people} people): "
        + ", ".join(cat.area_label(vocab, a, "en") for a in topics), actual_en=actual_en,
        anything_recorded=bool(by_area) or q.any_recorded(ctx.conn, t, ctx.plan, units, AGRI_SESSION),
        sessions={a: by_area.get(a, q.AreaFigures(a)).sessions for a in topics}, required_per_area=need,
        attendances=attendances, attendees=people, hours=float(hours), short_areas=short,
    )


def household_skills(ctx: CheckContext) -> CheckResult:
    """C21: every counted poor household masters at least ``min_skills`` techniques (``max_skills`` is reported too).

    Measured at the year's end; due at the end of the plan (a year before
    its last is not yet due unless already complete). A person masters a
    technique by a passed assessment, or by ``skill_hours`` of its sessions;
    only the plan's own sessions and assessments (its units, naming the plan,
    dated from the plan's start) count. Households counted: those of the plan's
    villages registered poor (``households = "registered"``) or still poor
    (``"poor"``) on the day.

    Does not count: courses or assessments of other units or plans, or from
    before the plan began; failed assessments; members of other villages.
    """
    t = _t(ctx)
    low, high = int(ctx.param("min_skills")), int(ctx.param("max_skills"))
    # Read here so the check records them; the queries read the same values from the plan.
    ctx.param("skill_hours"), ctx.param("households")
    day = min(ctx.year_end, ctx.as_of)
    cov = q.coverage(ctx.conn, t, ctx.plan, day)
    with_low = cov.with_one if low <= 1 else _with_at_least(ctx, t, day, low)
    with_high = cov.with_two if high == 2 else _with_at_least(ctx, t, day, high)
    end = ctx.plan.period_end
    deadline = end if ctx.year >= end.year else dt.date.max
    pct = lambda n: f"{100 * cov.share(n):.1f}%"  # noqa: E731
    missing = cov.households - with_low
    return ctx.judge(
        bool(cov.households) and missing == 0,
        f"{end} 前每户贫困户掌握 {low}–{high} 门技术",
        f"至少 {low} 门: {with_low}/{cov.households} 户 ({pct(with_low)}); 至少 {high} 门: {with_high} 户 ({pct(with_high)}) (截至 {day})",
        cov.evidence, deadline=deadline,
        required_en=f"every poor household masters {low} to {high} techniques by {end}",
        actual_en=f"at least {low}: {with_low}/{cov.households} households ({pct(with_low)}); at least {high}: {with_high} households "
        f"({pct(with_high)}) (as of {day})",
        note=f"{missing} 户尚未掌握技术" if missing else "", note_en=f"{missing} households without a technique" if missing else "",
        anything_recorded=q.any_recorded(ctx.conn, t, ctx.plan, ctx.units(), AGRI_SESSION, SKILL_ASSESSMENT) or bool(cov.with_one),
        households=cov.households, with_min=with_low, with_max=with_high, without=missing,
        share_min=round(cov.share(with_low), 4), share_max=round(cov.share(with_high), 4), min_skills=low, max_skills=high,
    )


def _with_at_least(ctx: CheckContext, t: q.Tables, day: dt.date, n: int) -> int:
    import sqlalchemy as sa

    s = q.settings(ctx.plan)
    counted = q.counted_households(t, ctx.plan, day, s["skill_households"]).subquery()
    hsk = q.household_skill_counts(t, day, s["skill_hours"], q.plan_work(t, ctx.plan, ctx.units()))
    return ctx.conn.execute(
        sa.select(sa.func.count()).select_from(counted.join(hsk, hsk.c.household_id == counted.c.id)).where(hsk.c.n >= n)
    ).scalar_one()


def party_cadre_training(ctx: CheckContext) -> CheckResult:
    """C17: the training plan in force (if the commitment asks for one), each format held, and enough sessions in the year.

    Counts: party training (``training.party_training``) of the plan's units
    naming the plan, for the plan's villages (a village beneficiary or
    attendees of them): a training plan in force during the year, and party
    lessons, policy lectures and trainings held in the year with at least
    ``min_attendees`` attendees.

    Does not count: records of other units, plans or villages; sessions of
    another year (a "lesson" spanning years counts only in the year it began);
    sessions with fewer attendees than the minimum.
    """
    t, units = _t(ctx), ctx.units()
    formats = [f for f in ctx.param("formats") if f != TRAINING_PLAN]
    want_plan = bool(ctx.param("training_plan"))
    need = int(ctx.param("min_sessions"))
    found = q.party_by_format(ctx.conn, t, ctx.plan, units, ctx.year_start, ctx.year_end, int(ctx.param("min_attendees")))
    vocab = ctx.store.vocab
    sessions = sum(n for f, (n, _, _) in found.items() if f != TRAINING_PLAN)
    people = sum(p for f, (_, p, _) in found.items() if f != TRAINING_PLAN)
    has_plan = TRAINING_PLAN in found
    missing = [f for f in formats if f not in found]
    fmt = lambda codes, lang: ("、" if lang == "zh" else ", ").join(cat.label(vocab, cat.PARTY_FORMATS, f, lang) for f in codes)  # noqa: E731
    problems = []
    if want_plan and not has_plan:
        problems.append(("无在执行的培训规划", "no training plan in force"))
    if missing:
        problems.append(("未开展" + fmt(missing, "zh"), "not held: " + fmt(missing, "en")))
    if sessions < need:
        problems.append((f"场次不足: {sessions}/{need} 场", f"too few sessions: {sessions} of {need}"))
    required = ("培训规划, " if want_plan else "") + fmt(formats, "zh") + f", 合计至少 {need} 场"
    required_en = ("a training plan; " if want_plan else "") + fmt(formats, "en") + f", at least {need} sessions in all"
    ordered = [(f, n) for f, (n, _, _) in sorted(found.items(), key=lambda kv: PARTY_FORMATS.index(kv[0]) if kv[0] in PARTY_FORMATS else 99)]
    actual = (", ".join(f"{fmt([f], 'zh')} {n}" for f, n in ordered) or "0") + f"; 参训 {people} 人次"
    actual_en = (", ".join(f"{fmt([f], 'en')} {n}" for f, n in ordered) or "0") + f"; {people} attendances"
    return ctx.judge(
        not problems, required, actual, _keys(r for _, _, refs in found.values() for r in refs),
        note="; ".join(p[0] for p in problems), note_en="; ".join(p[1] for p in problems), required_en=required_en, actual_en=actual_en,
        anything_recorded=bool(found) or q.any_recorded(ctx.conn, t, ctx.plan, units, PARTY_TRAINING),
        sessions=sessions, required_sessions=need, training_plan=has_plan, by_format={f: n for f, (n, _, _) in found.items()},
        attendees=people, missing_formats=missing,
    )


def research_projects(ctx: CheckContext) -> CheckResult:
    """C22: at least ``per_year`` research projects serving the plan's villages running in the year.

    Counts: a research project (``training.research_project``) of the plan's
    units naming the plan, with a village of the plan as beneficiary, running
    at some time in the year, funded with at least ``min_funding_fen``.

    Does not count: projects of other units, plans or villages, ended before
    the year or started after it, or funded with less (a 0.01-yuan "priority").
    """
    t, units = _t(ctx), ctx.units()
    need = int(ctx.param("per_year"))
    r = q.research(ctx.conn, t, ctx.plan, units, ctx.year_start, ctx.year_end, int(ctx.param("min_funding_fen")))
    return ctx.judge(
        r.running >= need, f"每年至少 {need} 个在研项目",
        f"{r.running} 个 (新立项 {r.new}), 经费 {r.funding_fen / 100:,.2f} 元",
        _keys(r.refs), required_en=f"at least {need} research project(s) running a year",
        actual_en=f"{r.running} projects ({r.new} new), funding {r.funding_fen / 100:,.2f} yuan", anything_recorded=bool(r.running) or q.any_recorded(ctx.conn, t, ctx.plan, units, RESEARCH_PROJECT),
        running=r.running, new=r.new, funding_fen=r.funding_fen, required_n=need, by_focus=r.by_focus,
    )


def targets() -> list[TargetSpec]:
    """The stream's targets, with their typed parameters."""
    return [
        TargetSpec("training.party_cadre_training", "党员干部培训", "Party-cadre training", party_cadre_training, (
            Param("training_plan", "boolean", default=False, zh="须有在执行的党员干部培训规划", en="a training plan must be in force"),
            Param("formats", "strings", default=PARTY_FORMATS, zh="每年须开展的形式 (party_lesson, policy_lecture, training)",
                  en="the formats each year must include (party_lesson, policy_lecture, training)"),
            Param("min_sessions", "count", default=3, zh="每年党课、宣讲、培训合计至少场次", en="lessons, lectures and trainings a year, at least"),
            Param("min_attendees", "count", default=1, zh="一场的最少参训人数", en="the fewest attendees of a session that counts"),
        )),
        TargetSpec("training.agri_courses", "农业技术培训", "Agricultural-technology courses", agri_courses, (
            Param("topics", "strings", default=(), zh="技术领域 (training_technique_area; 空为全部)",
                  en="the technique areas (training_technique_area; empty: all)"),
            Param("min_sessions", "positive", default=1, zh="每个领域每年至少场次", en="sessions per area a year"),
            Param("min_hours", "number", default=0, zh="一场培训的最少学时", en="the fewest hours of a session that counts"),
            Param("min_attendees", "count", default=0, zh="一场培训的最少登记参训人数", en="the fewest named attendees of a session that counts"),
        )),
        TargetSpec("training.household_skills", "贫困户掌握实用技术", "Households mastering practical techniques", household_skills, (
            Param("min_skills", "positive", default=1, zh="每户至少掌握的技术数", en="techniques each household masters, at least"),
            Param("max_skills", "positive", default=2, zh="报告的上限技术数", en="techniques reported as the upper figure"),
            Param("skill_hours", "number", default=8, zh="同一技术培训满多少学时即算掌握", en="hours of one technique's sessions that make it mastered"),
            Param("households", "string", default="registered",
                  zh="计入的户: registered (建档立卡户, 含已脱贫) 或 poor (当日未脱贫)",
                  en="households counted: registered (ever registered poor) or poor (still poor on the day)"),
        )),
        TargetSpec("training.research_projects", "服务地方科研项目", "Research projects serving the village", research_projects, (
            Param("per_year", "count", default=1, zh="每年在研项目至少数", en="research projects running in a year, at least"),
            Param("min_funding_fen", "fen", default=0, zh="一个项目的最少经费 (分)", en="the least funding of a project that counts, in fen"),
        )),
    ]
