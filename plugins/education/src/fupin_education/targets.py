"""The education targets of a plan's commitments (C23 to C27).

Every parameter is the commitment's (``params = { ... }`` in the plan file),
declared with its type and meaning in :func:`target_specs` and validated when
the plan is loaded; the figures the seed leaves open (minimum trainees, hours,
days, members) are the plan office's choice and say so in the plan file.

Every target counts only actions one of the plan's units registered naming
the plan (:func:`fupin.queries.own_records`), that started inside the year
checked (the event's date, never a label), about the schools, places and
students the plan names. Evidence keys are ``action:REF``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from fupin import CheckContext, CheckResult, Status, TargetSpec
from fupin.ext import Param, count_if, days_between, joined, key, own_records, plan_villages_condition, split, status_on

from fupin_education.kinds import INTERNSHIP, SANXIAXIANG, STUDY_PAIR, TEACHER_TRAINING, TEACHER_VISIT, trainee_parts

#: When each vacation is, by month (C26's ``vacation_months`` default).
VACATION_MONTHS: Mapping[str, list[int]] = {"winter": [1, 2], "summer": [7, 8]}


def param(plan: Any, target: str, name: str) -> Any:
    """The value of parameter ``name`` of ``plan``'s commitment naming ``target``, else its declared default
    (for the demo and the report, which have no check context)."""
    spec = next(t for t in target_specs() if t.name == target)
    c = next((c for c in plan.commitments if c.target == target), None)
    return c.params[name] if c is not None and name in c.params else spec.param(name).default


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


def _nothing_due(ctx: CheckContext, note: str, note_en: str) -> CheckResult:
    return ctx.result(Status.NOT_YET_DUE, "", "", note=note, note_en=note_en)


def _en(ctx: CheckContext, list_name: str, values: Sequence[str]) -> str:
    """The English labels of vocabulary entries named by their Chinese labels, joined."""
    out = []
    for value in values:
        try:
            term = ctx.store.vocab.find(list_name, value)
        except KeyError:
            term = None
        out.append(term.en.replace("_", " ") if term is not None else value)
    return ", ".join(out)


def _notes(notes: Sequence[tuple[str, str]]) -> dict[str, str]:
    """``note``/``note_en`` of (Chinese, English) pairs."""
    return {"note": "; ".join(n[0] for n in notes), "note_en": "; ".join(n[1] for n in notes)}


def _mine(ctx: CheckContext, a: sa.Table) -> sa.ColumnElement[bool]:
    return own_records(a, ctx.plan, ctx.units())


def _ever(ctx: CheckContext, kind: str) -> bool:
    a = tables(ctx.store)["support_actions"]
    return ctx.conn.execute(sa.select(sa.literal(1)).where(a.c.kind == kind, _mine(ctx, a)).limit(1)).first() is not None


def _number(a: sa.Table, name: str) -> sa.ColumnElement[float]:
    """SQL: a quantity of an action (``quantities.NAME``), 0 when not given."""
    return sa.func.coalesce(sa.cast(a.c.quantities[name].as_string(), sa.Float), 0.0)


def _days(a: sa.Table) -> sa.ColumnElement[int]:
    """SQL: the days an action lasted, its first and last day included."""
    return days_between(a.c.end_date, a.c.start_date) + 1


# -- C23 ------------------------------------------------------------------------------------------


def trainees_per_school(ctx: CheckContext) -> CheckResult:
    """C23: teachers of each school the plan names trained at the university in the year, free of charge.

    Counts: a visit (``education.teacher_visit``) of the plan's units naming
    the plan, started in the year, of at least ``min_hours`` hours, free when
    ``free_of_charge`` is set; each distinct teacher of a named school on it.
    Each named school needs ``min_trainees`` teachers.

    Does not count: visits of other units or plans, of another year, without
    hours or shorter than ``min_hours``, charged programmes, teachers of
    schools the plan does not name.
    """
    need = int(ctx.param("min_trainees"))
    min_hours = float(ctx.param("min_hours"))
    names = list(ctx.param("schools"))
    free_only = bool(ctx.param("free_of_charge"))
    codes = school_codes(ctx.conn, ctx.store, names)
    wanted = {code for code in codes.values() if code}
    trained: dict[str, set[str]] = {code: set() for code in wanted}
    evidence, charged, short_visits = [], 0, 0
    a = tables(ctx.store)["support_actions"]
    rows = ctx.conn.execute(
        sa.select(a.c.ref, a.c.details, _number(a, "hours").label("hours"))
        .where(a.c.kind == TEACHER_VISIT, _mine(ctx, a), _started_in_year(a, ctx)).order_by(a.c.start_date, a.c.id)
    ).all()
    # The year's visits of one kind, a few dozen rows: their trainee lists are JSON, read here.
    for row in rows:
        details = row.details or {}
        if free_only and not details.get("free_of_charge", True):
            charged += 1
            continue
        if row.hours < min_hours:
            short_visits += 1
            continue
        ours = [t for t in details.get("trainees", ()) if trainee_parts(t)[1] in trained]
        for trainee in ours:
            trained[trainee_parts(trainee)[1]].add(trainee)
        if ours:
            evidence.append(f"action:{row.ref}")
    by_school = {n: len(trained.get(codes[n] or "", ())) for n in names}
    short = [n for n, count in by_school.items() if count < need]
    notes = [(f"学校未登记: {n}", f"school not registered: {n}") for n, c in codes.items() if c is None]
    if charged:
        notes.append((f"{charged} 次收费培训不计入", f"{charged} charged programmes not counted"))
    if short_visits:
        notes.append((f"{short_visits} 次不足 {min_hours:g} 学时, 不计入", f"{short_visits} visits under {min_hours:g} hours not counted"))
    return ctx.judge(
        bool(names) and not short,
        f"{'、'.join(names)}: 每校每年至少 {need} 人来校受训 (每次至少 {min_hours:g} 学时)",
        ", ".join(f"{n} {c}" for n, c in by_school.items()) + (f" (不足: {'、'.join(short)})" if short else ""),
        evidence, anything_recorded=_ever(ctx, TEACHER_VISIT), **_notes(notes),
        required_en=f"{', '.join(names)}: at least {need} teacher(s) of each school trained a year (each visit at least {min_hours:g} hours)",
        actual_en=", ".join(f"{n} {c}" for n, c in by_school.items()) + (f" (short: {', '.join(short)})" if short else ""),
        required_per_school=need, trainees_by_school=by_school, short=short,
    )


# -- C24 ------------------------------------------------------------------------------------------


def teacher_training_sessions(ctx: CheckContext) -> CheckResult:
    """C24: training sessions for local teachers in the plan's town for each subject the plan names, in the year.

    Counts: a session (``education.teacher_training``) of the plan's units
    naming the plan, started in the year, held at a place that begins with
    ``place_zh`` or one of ``training_places``, of at least ``min_hours`` hours
    with at least ``min_trainees`` teachers (named trainees, or ``people``).
    Each named subject needs ``min_sessions`` sessions.

    Does not count: sessions of other units or plans, of another year, held
    elsewhere (a place merely mentioning the town's name in its middle), without
    hours or teachers, of subjects the plan does not name.
    """
    need = int(ctx.param("min_sessions"))
    min_hours, min_people = float(ctx.param("min_hours")), int(ctx.param("min_trainees"))
    vocab = ctx.store.vocab
    subjects = [vocab.check("education_subject", x) for x in ctx.param("subjects")]
    places = [p for p in [ctx.param("place_zh"), *ctx.param("training_places")] if p]
    a = tables(ctx.store)["support_actions"]
    subject = a.c.details["subject"].as_string()
    place = sa.func.coalesce(a.c.details["place"].as_string(), "")
    where = [a.c.kind == TEACHER_TRAINING, _mine(ctx, a), _started_in_year(a, ctx)]
    # A place counts when it begins with the town's (or a listed place's) name: "者海镇一中", not "昆明市者海镇路".
    counted = sa.or_(*[place.startswith(p, autoescape=True) for p in places]) if places else sa.false()
    rows = ctx.conn.execute(
        sa.select(subject.label("subject"), a.c.ref, a.c.details, _number(a, "hours").label("hours"), _number(a, "people").label("people"))
        .where(*where, counted).order_by(a.c.start_date, a.c.id)
    ).all()
    elsewhere = ctx.conn.execute(sa.select(sa.func.count()).where(*where, sa.not_(counted))).scalar_one()
    by_subject = {x: 0 for x in subjects}
    evidence: list[str] = []
    thin = 0
    # The year's sessions in the town, a few dozen rows: teachers are the named trainees or the head count, whichever is larger.
    for r in rows:
        teachers = max(int(r.people), len((r.details or {}).get("trainees", ())))
        if r.hours < min_hours or teachers < min_people:
            thin += 1
        elif r.subject in by_subject:
            by_subject[r.subject] += 1
            evidence.append(f"action:{r.ref}")
    short = [x for x, n in by_subject.items() if n < need]
    notes = [(f"{elsewhere} 场不在{'、'.join(places)}, 不计入", f"{elsewhere} sessions held elsewhere, not counted")] if elsewhere else []
    if thin:
        notes.append((f"{thin} 场不足 {min_hours:g} 学时或 {min_people} 名教师, 不计入",
                      f"{thin} sessions under {min_hours:g} hours or {min_people} teachers, not counted"))
    sub_en = lambda xs: _en(ctx, "education_subject", xs)  # noqa: E731
    return ctx.judge(
        bool(subjects) and not short,
        f"每学科每年至少 {need} 场 (每场至少 {min_hours:g} 学时、{min_people} 名教师; {'、'.join(subjects)}"
        + (f"; 在{'、'.join(places)}" if places else "") + ")",
        ", ".join(f"{x} {n}" for x, n in by_subject.items()) + (f" (不足: {'、'.join(short)})" if short else ""),
        sorted(evidence), anything_recorded=_ever(ctx, TEACHER_TRAINING), **_notes(notes),
        required_en=f"at least {need} session(s) per subject a year (each at least {min_hours:g} hours and {min_people} teachers; {sub_en(subjects)}"
        + (f"; at {', '.join(places)}" if places else "") + ")",
        actual_en=", ".join(f"{sub_en([x])} {n}" for x, n in by_subject.items()) + (f" (short: {sub_en(short)})" if short else ""),
        required_per_subject=need, sessions_by_subject=by_subject, short=short,
    )


# -- C25 ------------------------------------------------------------------------------------------


def internships(ctx: CheckContext) -> CheckResult:
    """C25: student teachers placed at each host school the plan names, starting in the year (by term in figures).

    Counts: an internship (``education.internship``) of the plan's units naming
    the plan, started in the year, at a named host school, lasting at least
    ``min_days`` days. Each host school needs ``min_interns`` a year.

    Does not count: internships of other units or plans, of another year, at
    other schools, or shorter than ``min_days`` (a one-day "placement").
    """
    need, min_days = int(ctx.param("min_interns")), int(ctx.param("min_days"))
    names = list(ctx.param("host_schools"))
    codes = school_codes(ctx.conn, ctx.store, names)
    t = tables(ctx.store)
    a, b = t["support_actions"], t["action_beneficiaries"]
    autumn = sa.case((sa.extract("month", a.c.start_date) >= 8, "autumn"), else_="spring")
    where = (a.c.kind == INTERNSHIP, _mine(ctx, a), _started_in_year(a, ctx), b.c.ref.in_([c for c in codes.values() if c]))
    rows = ctx.conn.execute(
        sa.select(b.c.ref.label("school"), autumn.label("term"), sa.func.count(sa.distinct(a.c.id)).label("n"),
                  joined(key("action", a.c.ref)).label("refs"))
        .join(b, sa.and_(b.c.action_id == a.c.id, b.c.type == "unit"))
        .where(*where, _days(a) >= min_days)
        .group_by(b.c.ref, autumn)
    ).all()
    brief = ctx.conn.execute(
        sa.select(sa.func.count(sa.distinct(a.c.id))).join(b, sa.and_(b.c.action_id == a.c.id, b.c.type == "unit"))
        .where(*where, _days(a) < min_days)
    ).scalar_one()
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
    notes = [(f"学校未登记: {n}", f"school not registered: {n}") for n, c in codes.items() if c is None]
    if brief:
        notes.append((f"{brief} 次实习不足 {min_days} 天, 不计入", f"{brief} internships shorter than {min_days} days, not counted"))
    return ctx.judge(
        bool(names) and not short,
        f"{'、'.join(names)}: 每校每年至少 {need} 名实习生 (每次至少 {min_days} 天)",
        ", ".join(f"{n} {c}" for n, c in by_school.items()) + (f" (不足: {'、'.join(short)})" if short else ""),
        sorted(evidence), anything_recorded=_ever(ctx, INTERNSHIP), **_notes(notes),
        required_en=f"{', '.join(names)}: at least {need} student teacher(s) per host school a year (each at least {min_days} days)",
        actual_en=", ".join(f"{n} {c}" for n, c in by_school.items()) + (f" (short: {', '.join(short)})" if short else ""),
        required_per_school=need, internships_by_school=by_school, by_term=by_term, short=short,
    )


# -- C26 ------------------------------------------------------------------------------------------


def vacations_due(ctx: CheckContext, vacations: Sequence[str]) -> list[str]:
    """The vacations (``winter``, ``summer``) of the year that fall inside the plan's period."""
    months = ctx.param("vacation_months")
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
    """C26: between min and max 三下乡 teams in the year, covering every vacation of the year in the plan's period.

    Counts: a team (``education.sanxiaxiang``) of the plan's units naming the
    plan that set out in the year, with at least ``min_members`` students and
    at least ``min_days`` days in the field; distinct team names a year, and
    for each vacation due the teams that set out in it.

    Does not count: teams of other units or plans, of another year, of fewer
    members or days than the minimum (a one-person, one-day outing).
    """
    lo, hi = int(ctx.param("min_teams")), int(ctx.param("max_teams"))
    min_members, min_days = int(ctx.param("min_members")), int(ctx.param("min_days"))
    vocab = ctx.store.vocab
    due = vacations_due(ctx, list(ctx.param("vacations")))
    if not due:
        return _nothing_due(ctx, "本年方案期内没有寒暑假", "no vacation of this year falls in the plan's period")
    due_zh = [vocab.check("education_vacation", v) for v in due]
    a = tables(ctx.store)["support_actions"]
    rows = ctx.conn.execute(
        sa.select(a.c.ref, a.c.details, _days(a).label("days"))
        .where(a.c.kind == SANXIAXIANG, _mine(ctx, a), _started_in_year(a, ctx)).order_by(a.c.start_date, a.c.id)
    ).all()
    # A few teams a year: their member lists are JSON, read here.
    kept = [r for r in rows if r.days >= min_days and len((r.details or {}).get("members", ())) >= min_members]
    teams = len({r.details.get("team") for r in kept})
    by_vacation = {v: len(names) for v, names in _group(kept).items()}
    missing = [v for v in due_zh if not by_vacation.get(v)]
    vac_en = lambda xs: _en(ctx, "education_vacation", xs)  # noqa: E731
    actual = f"{teams} 支 (" + ", ".join(f"{v} {by_vacation.get(v, 0)}" for v in due_zh) + ")"
    actual_en = f"{teams} teams (" + ", ".join(f"{vac_en([v])} {by_vacation.get(v, 0)}" for v in due_zh) + ")"
    if missing:
        actual += f"; 缺{'、'.join(missing)}"
        actual_en += f"; none in {vac_en(missing)}"
    thin = len(rows) - len(kept)
    return ctx.judge(
        lo <= teams <= hi and not missing,
        f"{lo}–{hi} 支服务团 (每支至少 {min_members} 人、{min_days} 天), 覆盖{'、'.join(due_zh)}",
        actual, [f"action:{r.ref}" for r in kept], anything_recorded=_ever(ctx, SANXIAXIANG),
        required_en=f"{lo} to {hi} service teams a year (each at least {min_members} members and {min_days} days), in {vac_en(due_zh)}",
        actual_en=actual_en,
        note=f"{thin} 支不足 {min_members} 人或 {min_days} 天, 不计入" if thin else "",
        note_en=f"{thin} teams under {min_members} members or {min_days} days, not counted" if thin else "",
        teams=teams, min_teams=lo, max_teams=hi, teams_by_vacation=by_vacation, missing_vacations=missing,
    )


def _group(rows: Sequence[Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r.details.get("vacation"), set()).add(r.details.get("team"))
    return out


# -- C27 ------------------------------------------------------------------------------------------


def one_to_one_support(ctx: CheckContext) -> CheckResult:
    """C27: share of the in-school students of poor households with a study pair during the year.

    Counts: a pair (``education.study_pair``) of the plan's units naming the
    plan, with a student of the plan's villages whose household's status on
    the check day is one of ``poor_statuses`` and whose student status is not
    one of ``not_in_school``, in force at least ``min_days`` days of the year.
    ``min_share`` of those students need a pair.

    Does not count: pairs of other units or plans, with anyone else (reported
    in the note), or in force fewer than ``min_days`` days of the year (a pair
    made on 31 December); students with more than ``helpers_per_student``
    staff are reported.
    """
    share = float(ctx.param("min_share"))
    per_student = int(ctx.param("helpers_per_student"))
    min_days = int(ctx.param("min_days"))
    t = tables(ctx.store)
    a, b, p, h = t["support_actions"], t["action_beneficiaries"], t["persons"], t["households"]
    st = status_on(ctx.check_day)
    students = (
        sa.select(p.c.id, p.c.id_number)
        .join(h, h.c.id == p.c.household_id)
        .join(st, st.c.household_id == h.c.id)
        .where(plan_villages_condition(ctx.plan), st.c.status.in_(list(ctx.param("poor_statuses"))),
               p.c.student_status.is_not(None), p.c.student_status.not_in(list(ctx.param("not_in_school"))))
        .subquery()
    )
    # In force >= min_days of the year: it starts early enough, ends late enough, and lasts long enough.
    pairs = (
        sa.select(b.c.ref.label("id_number"), a.c.ref.label("action_ref"))
        .join(b, sa.and_(b.c.action_id == a.c.id, b.c.type == "person"))
        .where(a.c.kind == STUDY_PAIR, _mine(ctx, a),
               a.c.start_date <= ctx.year_end - dt.timedelta(days=min_days - 1),
               a.c.end_date >= ctx.year_start + dt.timedelta(days=min_days - 1),
               _days(a) >= min_days)
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
        notes.append((f"{others} 个结对的学生不是贫困户在校生, 不计入", f"{others} pairs with someone not an in-school student of a poor household, not counted"))
    if crowded:
        notes.append((f"{crowded} 名学生有多于 {per_student} 名结对教职工", f"{crowded} students with more than {per_student} staff paired"))
    if not total:
        notes.append(("没有登记贫困户在校生", "no in-school students of poor households registered"))
    percent = f"{paired / total:.0%}" if total else "-"
    return ctx.judge(
        total > 0 and paired >= need,
        f"至少 {share:.0%} 的贫困户在校生有结对 ({need}/{total})",
        f"{paired}/{total} ({percent})", split(refs), anything_recorded=_ever(ctx, STUDY_PAIR), **_notes(notes),
        required_en=f"at least {share:.0%} of in-school students of poor households paired ({need}/{total})",
        actual_en=f"{paired}/{total} ({percent})",
        students=total, paired=paired, required_students=need, required_share=share, not_counted=others, over_paired=crowded,
    )


def target_specs() -> list[TargetSpec]:
    """The five education targets, with their typed parameters."""
    return [
        TargetSpec("education.trainees_per_school", "每校每年来校受训教师数", "Teachers trained per school per year",
                   trainees_per_school, params=(
                       Param("schools", "strings", required=True, zh="学校 (单位名称或代码)", en="the schools, by unit name or code"),
                       Param("free_of_charge", "boolean", default=False, zh="只计免费培训", en="count only programmes free of charge"),
                       Param("min_trainees", "positive", default=1, zh="每校每年至少受训教师数", en="teachers of each school trained a year"),
                       Param("min_hours", "number", default=1, zh="一次来校培训的最少学时", en="the fewest hours of a visit that counts"),
                   )),
        TargetSpec("education.teacher_training_sessions", "按学科统计送教培训场次", "Teacher-training sessions per subject per year",
                   teacher_training_sessions, params=(
                       Param("subjects", "strings", required=True, zh="学科 (education_subject)", en="the subjects (education_subject)"),
                       Param("place_zh", "string", required=True, zh="培训所在地 (地点以此开头)", en="where sessions are held (the place begins with it)"),
                       Param("training_places", "strings", default=(), zh="另外计入的地点 (如该镇的村)",
                             en="other places that count (villages of the town)"),
                       Param("min_sessions", "positive", default=1, zh="每学科每年至少场次", en="sessions per subject a year"),
                       Param("min_hours", "number", default=1, zh="一场培训的最少学时", en="the fewest hours of a session that counts"),
                       Param("min_trainees", "positive", default=1, zh="一场培训的最少受训教师数", en="the fewest teachers at a session that counts"),
                   )),
        TargetSpec("education.internships", "每所实习学校每年实习生数", "Student teachers per host school per year",
                   internships, params=(
                       Param("host_schools", "strings", required=True, zh="实习学校 (单位名称或代码)", en="the host schools, by unit name or code"),
                       Param("min_interns", "positive", default=1, zh="每校每年至少实习生数", en="student teachers per host school a year"),
                       Param("min_days", "positive", default=1, zh="一次实习的最少天数", en="the fewest days of an internship that counts"),
                   )),
        TargetSpec("education.sanxiaxiang_teams", "每年三下乡服务团数及寒暑假覆盖", "三下乡 teams per year, both vacations",
                   sanxiaxiang_teams, params=(
                       Param("min_teams", "positive", default=1, zh="每年至少服务团数", en="teams a year, at least"),
                       Param("max_teams", "positive", default=10**6, zh="每年至多服务团数", en="teams a year, at most"),
                       Param("vacations", "strings", default=("winter", "summer"), zh="每年须覆盖的假期 (winter, summer)",
                             en="the vacations each year must cover (winter, summer)"),
                       Param("vacation_months", "table", default=VACATION_MONTHS, zh="各假期所在月份 (如 winter = [1, 2])",
                             en="the months of each vacation (winter = [1, 2])",
                             fields=(Param("winter", "integers", zh="寒假月份", en="winter vacation months"),
                                     Param("summer", "integers", zh="暑假月份", en="summer vacation months"))),
                       Param("min_members", "positive", default=1, zh="一支服务团的最少队员数", en="the fewest students in a team that counts"),
                       Param("min_days", "positive", default=1, zh="一支服务团的最少天数", en="the fewest days in the field of a team that counts"),
                   )),
        TargetSpec("education.one_to_one_support", "贫困户在校生一对一结对比例", "Share of poor students with a study pair",
                   one_to_one_support, params=(
                       Param("helpers_per_student", "positive", default=1, zh="每名学生的结对教职工数", en="staff paired with each student"),
                       Param("min_share", "number", default=1.0, zh="有结对的贫困户在校生比例 (0 到 1)",
                             en="share of in-school students of poor households with a pair (0 to 1)"),
                       Param("min_days", "positive", default=1, zh="结对在本年至少持续天数", en="the fewest days of the year a pair must be in force"),
                       Param("not_in_school", "strings", default=("非在校生", "学前教育"), zh="不算在校的在校生状况",
                             en="student statuses that are not in school"),
                       Param("poor_statuses", "strings", default=("未脱贫", "返贫", "已脱贫(享受政策)"), zh="其学生计入的户状态",
                             en="household statuses whose students count"),
                   )),
    ]
