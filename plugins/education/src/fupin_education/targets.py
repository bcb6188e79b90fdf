"""The education targets of a plan's commitments (C23 to C27).

Each target reads the commitment's parameters (``ctx.params``: the schools,
subjects, host schools, vacations the plan names) and the plugin's own
parameters from the plan's ``[plugins.education]`` table (minimum figures the
plan text leaves open), counts in SQL, and lets ``ctx.judge`` give the status.
Evidence keys are ``action:REF``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from fupin import CheckContext, CheckResult, Status, TargetSpec
from fupin.queries import count_if, joined, key, of_plan, plan_villages_condition, split, status_on

from fupin_education.kinds import INTERNSHIP, SANXIAXIANG, STUDY_PAIR, TEACHER_TRAINING, TEACHER_VISIT, trainee_parts

#: The plugin's parameters and their defaults; a plan overrides them in ``[plugins.education]``.
DEFAULTS: Mapping[str, Any] = {
    "min_trainees_per_school": 1,  # C23: teachers of each named school trained at the university per year
    "min_sessions_per_subject": 1,  # C24: sessions per named subject per year in the place the plan names
    "training_places": [],  # C24: other places that count as the plan's place (villages of the town)
    "min_internships_per_school": 1,  # C25: student teachers per host school per year
    "min_study_pair_share": 1.0,  # C27: share of in-school students of poor households with a study pair
    "not_in_school": ["非在校生", "学前教育"],  # C27: student statuses that are not "in school"
    "poor_statuses": ["未脱贫", "返贫", "已脱贫(享受政策)"],  # C27: households whose students count
    "vacation_months": {"winter": [1, 2], "summer": [7, 8]},  # C26: when each vacation is, by month
}


def settings(plan: Any) -> dict[str, Any]:
    """The plugin's parameters for ``plan``: the defaults, overridden by ``[plugins.education]``."""
    return {**DEFAULTS, **dict(plan.plugins.get("education", {}) or {})}


def tables(store: Any) -> Mapping[str, sa.Table]:
    """The store's tables (``support_actions``, ``action_beneficiaries``, ``persons`` ...), as ``store.table`` gives them."""
    return {name: store.table(name) for name in store.metadata.tables}


def school_codes(conn: sa.Connection, store: Any, names: Sequence[str]) -> dict[str, str | None]:
    """Unit code of each school the plan names (by name or code); None if not registered."""
    u = tables(store)["units"]
    rows = conn.execute(sa.select(u.c.code, u.c.name).where(sa.or_(u.c.name.in_(list(names)), u.c.code.in_(list(names))))).all()
    found = {r.name: r.code for r in rows} | {r.code: r.code for r in rows}
    return {n: found.get(n) for n in names}


def term_of(day: dt.date) -> str:
    """The school term an internship starting on ``day`` belongs to: ``2016秋季学期`` (Aug-Jan) or ``2017春季学期``."""
    if day.month >= 8:
        return f"{day.year}秋季学期"
    if day.month == 1:
        return f"{day.year - 1}秋季学期"
    return f"{day.year}春季学期"


def _started_in_year(a: sa.Table, ctx: CheckContext) -> sa.ColumnElement[bool]:
    return sa.and_(a.c.start_date >= ctx.year_start, a.c.start_date <= ctx.year_end)


def _nothing_due(ctx: CheckContext, note: str) -> CheckResult:
    return ctx.result(Status.NOT_YET_DUE, "", "", note=note)


def _ever(ctx: CheckContext, kind: str) -> bool:
    a = tables(ctx.store)["support_actions"]
    return ctx.conn.execute(
        sa.select(sa.literal(1)).where(a.c.kind == kind, of_plan(a, ctx.plan, ctx.units())).limit(1)
    ).first() is not None


# -- C23 ------------------------------------------------------------------------------------------


def trainees_per_school(ctx: CheckContext) -> CheckResult:
    """C23: teachers of each school the plan names trained at the university in the year (free of charge)."""
    need = int(settings(ctx.plan)["min_trainees_per_school"])
    names = list(ctx.params.get("schools", ()))
    free_only = bool(ctx.params.get("free_of_charge", False))
    codes = school_codes(ctx.conn, ctx.store, names)
    wanted = {code for code in codes.values() if code}
    trained: dict[str, set[str]] = {code: set() for code in wanted}
    evidence, charged = [], 0
    # The year's visits of one kind, a few dozen rows: their trainee lists are JSON, read here.
    for row in ctx.actions(TEACHER_VISIT, ctx.year_start, ctx.year_end):
        details = row.details or {}
        if row.start_date < ctx.year_start:
            continue  # counted in the year it started
        if free_only and not details.get("free_of_charge", True):
            charged += 1
            continue
        schools = {trainee_parts(t)[1] for t in details.get("trainees", ())} & wanted
        for trainee in details.get("trainees", ()):
            school = trainee_parts(trainee)[1]
            if school in trained:
                trained[school].add(trainee)
        if schools:
            evidence.append(f"action:{row.ref}")
    by_school = {n: len(trained.get(codes[n] or "", ())) for n in names}
    short = [n for n, count in by_school.items() if count < need]
    notes = [f"学校未登记 / school not registered: {n}" for n, c in codes.items() if c is None]
    if charged:
        notes.append(f"{charged} 次收费培训不计入 / {charged} charged programmes not counted")
    return ctx.judge(
        bool(names) and not short,
        f"每校每年 >= {need} 人 / per school per year: {'、'.join(names)}",
        ", ".join(f"{n} {c}" for n, c in by_school.items()) + (f" (不足 / short: {'、'.join(short)})" if short else ""),
        evidence, anything_recorded=_ever(ctx, TEACHER_VISIT), note="; ".join(notes),
        required_per_school=need, trainees_by_school=by_school, short=short,
    )


# -- C24 ------------------------------------------------------------------------------------------


def teacher_training_sessions(ctx: CheckContext) -> CheckResult:
    """C24: training sessions in the town for each subject the plan names, in the year."""
    s = settings(ctx.plan)
    need = int(s["min_sessions_per_subject"])
    vocab = ctx.store.vocab
    subjects = [vocab.check("education_subject", x) for x in ctx.params.get("subjects", ())]
    places = [p for p in [ctx.params.get("place_zh", ""), *s["training_places"]] if p]
    a = tables(ctx.store)["support_actions"]
    subject = a.c.details["subject"].as_string()
    place = a.c.details["place"].as_string()
    where = [a.c.kind == TEACHER_TRAINING, of_plan(a, ctx.plan, ctx.units()), _started_in_year(a, ctx)]
    counted = sa.or_(*[place.contains(p) for p in places]) if places else sa.true()
    rows = ctx.conn.execute(
        sa.select(subject.label("subject"), sa.func.count().label("n"), joined(key("action", a.c.ref)).label("refs"))
        .where(*where, counted).group_by(subject)
    ).all()
    elsewhere = ctx.conn.execute(sa.select(sa.func.count()).where(*where, sa.not_(counted))).scalar_one() if places else 0
    by_subject = {x: 0 for x in subjects}
    evidence: list[str] = []
    for r in rows:
        if r.subject in by_subject:
            by_subject[r.subject] = r.n
            evidence += split(r.refs)
    short = [x for x, n in by_subject.items() if n < need]
    note = f"{elsewhere} 场不在{'/'.join(places)}, 不计入 / sessions held elsewhere not counted" if elsewhere else ""
    return ctx.judge(
        bool(subjects) and not short,
        f"每学科每年 >= {need} 场 / sessions per subject per year ({'、'.join(subjects)}; {'/'.join(places) or '-'})",
        ", ".join(f"{x} {n}" for x, n in by_subject.items()) + (f" (不足 / short: {'、'.join(short)})" if short else ""),
        sorted(evidence), anything_recorded=_ever(ctx, TEACHER_TRAINING), note=note,
        required_per_subject=need, sessions_by_subject=by_subject, short=short,
    )


# -- C25 ------------------------------------------------------------------------------------------


def internships(ctx: CheckContext) -> CheckResult:
    """C25: student teachers placed at each host school the plan names, starting in the year (by term in figures)."""
    need = int(settings(ctx.plan)["min_internships_per_school"])
    names = list(ctx.params.get("host_schools", ()))
    codes = school_codes(ctx.conn, ctx.store, names)
    t = tables(ctx.store)
    a, b = t["support_actions"], t["action_beneficiaries"]
    autumn = sa.case((sa.extract("month", a.c.start_date) >= 8, "autumn"), else_="spring")
    rows = ctx.conn.execute(
        sa.select(b.c.ref.label("school"), autumn.label("term"), sa.func.count(sa.distinct(a.c.id)).label("n"),
                  joined(key("action", a.c.ref)).label("refs"))
        .join(b, sa.and_(b.c.action_id == a.c.id, b.c.type == "unit"))
        .where(a.c.kind == INTERNSHIP, of_plan(a, ctx.plan, ctx.units()), _started_in_year(a, ctx),
               b.c.ref.in_([c for c in codes.values() if c]))
        .group_by(b.c.ref, autumn)
    ).all()
    per_code: dict[str, int] = {}
    by_term: dict[str, dict[str, int]] = {}
    evidence: list[str] = []
    name_of = {c: n for n, c in codes.items() if c}
    for r in rows:
        per_code[r.school] = per_code.get(r.school, 0) + r.n
        label = f"{ctx.year}{'秋季' if r.term == 'autumn' else '春季'}学期"
        by_term.setdefault(name_of[r.school], {})[label] = r.n
        evidence += split(r.refs)
    by_school = {n: per_code.get(codes[n] or "", 0) for n in names}
    short = [n for n, c in by_school.items() if c < need]
    note = "; ".join(f"学校未登记 / school not registered: {n}" for n, c in codes.items() if c is None)
    return ctx.judge(
        bool(names) and not short,
        f"每校每年 >= {need} 名实习生 / student teachers per host school per year: {'、'.join(names)}",
        ", ".join(f"{n} {c}" for n, c in by_school.items()) + (f" (不足 / short: {'、'.join(short)})" if short else ""),
        sorted(evidence), anything_recorded=_ever(ctx, INTERNSHIP), note=note,
        required_per_school=need, internships_by_school=by_school, by_term=by_term, short=short,
    )


# -- C26 ------------------------------------------------------------------------------------------


def vacations_due(ctx: CheckContext, vacations: Sequence[str]) -> list[str]:
    """The vacations (``winter``, ``summer``) of the year that fall inside the plan's period."""
    months = settings(ctx.plan)["vacation_months"]
    due = []
    for v in vacations:
        for m in months.get(v, ()):
            first = dt.date(ctx.year, int(m), 1)
            last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
            if first <= ctx.year_end and last >= ctx.year_start:
                due.append(v)
                break
    return due


def sanxiaxiang_teams(ctx: CheckContext) -> CheckResult:
    """C26: between min and max 三下乡 teams in the year, covering every vacation of the year in the plan's period."""
    lo, hi = int(ctx.params.get("min_teams", 1)), int(ctx.params.get("max_teams", 10**6))
    vocab = ctx.store.vocab
    due = vacations_due(ctx, list(ctx.params.get("vacations", ("winter", "summer"))))
    if not due:
        return _nothing_due(ctx, "本年方案期内没有寒暑假 / no vacation of this year falls in the plan's period")
    due_zh = [vocab.check("education_vacation", v) for v in due]
    a = tables(ctx.store)["support_actions"]
    team, vacation = a.c.details["team"].as_string(), a.c.details["vacation"].as_string()
    where = (a.c.kind == SANXIAXIANG, of_plan(a, ctx.plan, ctx.units()), _started_in_year(a, ctx))
    teams, refs = ctx.conn.execute(sa.select(sa.func.count(sa.distinct(team)), joined(key("action", a.c.ref))).where(*where)).one()
    by_vacation = dict(ctx.conn.execute(sa.select(vacation, sa.func.count(sa.distinct(team))).where(*where).group_by(vacation)).all())
    missing = [v for v in due_zh if not by_vacation.get(v)]
    actual = f"{teams} 支 / teams (" + ", ".join(f"{v} {by_vacation.get(v, 0)}" for v in due_zh) + ")"
    if missing:
        actual += f"; 缺 / missing: {'、'.join(missing)}"
    return ctx.judge(
        lo <= teams <= hi and not missing,
        f"{lo}–{hi} 支服务团, 覆盖{'、'.join(due_zh)} / teams a year covering each vacation",
        actual, split(refs), anything_recorded=_ever(ctx, SANXIAXIANG),
        teams=teams, min_teams=lo, max_teams=hi, teams_by_vacation=by_vacation, missing_vacations=missing,
    )


# -- C27 ------------------------------------------------------------------------------------------


def one_to_one_support(ctx: CheckContext) -> CheckResult:
    """C27: share of the in-school students of poor households with a study pair in force during the year.

    A student is in school when the register's student status is not one of
    ``not_in_school``; a household is poor when its status on the check day
    is one of ``poor_statuses``. Pairs with anyone else are reported in the note,
    not counted (the record hook cannot see the register).
    """
    s = settings(ctx.plan)
    share = float(s["min_study_pair_share"])
    per_student = int(ctx.params.get("helpers_per_student", 1))
    t = tables(ctx.store)
    a, b, p, h = t["support_actions"], t["action_beneficiaries"], t["persons"], t["households"]
    st = status_on(ctx.check_day)
    students = (
        sa.select(p.c.id, p.c.id_number)
        .join(h, h.c.id == p.c.household_id)
        .join(st, st.c.household_id == h.c.id)
        .where(plan_villages_condition(ctx.plan), st.c.status.in_(list(s["poor_statuses"])),
               p.c.student_status.is_not(None), p.c.student_status.not_in(list(s["not_in_school"])))
        .subquery()
    )
    pairs = (
        sa.select(b.c.ref.label("id_number"), a.c.ref.label("action_ref"))
        .join(b, sa.and_(b.c.action_id == a.c.id, b.c.type == "person"))
        .where(a.c.kind == STUDY_PAIR, of_plan(a, ctx.plan, ctx.units()),
               a.c.start_date <= ctx.year_end, a.c.end_date >= ctx.year_start)
        .subquery()
    )
    # One row per student paired (their pairs' count and actions), so each student joins once: one statement for every figure.
    per = (
        sa.select(pairs.c.id_number, sa.func.count().label("n"), joined(key("action", pairs.c.action_ref)).label("refs"))
        .group_by(pairs.c.id_number)
        .cte("per")
    )
    total, paired, counted, refs, all_pairs, crowded = ctx.conn.execute(
        sa.select(
            sa.func.count(), count_if(per.c.id_number.is_not(None)), sa.func.coalesce(sa.func.sum(per.c.n), 0), joined(per.c.refs),
            sa.select(sa.func.count()).select_from(pairs).scalar_subquery(),
            sa.select(sa.func.count()).select_from(per).where(per.c.n > per_student).scalar_subquery(),
        ).select_from(students.outerjoin(per, per.c.id_number == students.c.id_number))
    ).one()
    others = all_pairs - counted
    need = math.ceil(share * total)
    notes = []
    if others:
        notes.append(f"{others} 个结对的学生不是贫困户在校生, 不计入 / pairs with someone not an in-school student of a poor household, not counted")
    if crowded:
        notes.append(f"{crowded} 名学生有多于 {per_student} 名结对教职工 / students with more than {per_student} staff paired")
    if not total:
        notes.append("没有登记贫困户在校生 / no in-school students of poor households registered")
    percent = f"{paired / total:.0%}" if total else "-"
    return ctx.judge(
        total > 0 and paired >= need,
        f">= {share:.0%} 贫困户在校生有结对 ({need}/{total}) / of in-school students of poor households paired",
        f"{paired}/{total} ({percent})", split(refs), anything_recorded=_ever(ctx, STUDY_PAIR), note="; ".join(notes),
        students=total, paired=paired, required_students=need, required_share=share, not_counted=others, over_paired=crowded,
    )


def target_specs() -> list[TargetSpec]:
    """The five education targets."""
    return [
        TargetSpec("education.trainees_per_school", "每校每年来校受训教师数", "Teachers trained per school per year",
                   trainees_per_school, params=("schools", "free_of_charge")),
        TargetSpec("education.teacher_training_sessions", "按学科统计送教培训场次", "Teacher-training sessions per subject per year",
                   teacher_training_sessions, params=("subjects", "place_zh")),
        TargetSpec("education.internships", "每所实习学校每年实习生数", "Student teachers per host school per year",
                   internships, params=("host_schools",)),
        TargetSpec("education.sanxiaxiang_teams", "每年三下乡服务团数及寒暑假覆盖", "三下乡 teams per year, both vacations",
                   sanxiaxiang_teams, params=("min_teams", "max_teams", "vacations")),
        TargetSpec("education.one_to_one_support", "贫困户在校生一对一结对比例", "Share of poor students with a study pair",
                   one_to_one_support, params=("helpers_per_student",)),
    ]
