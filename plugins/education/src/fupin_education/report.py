"""The education stream's sections of the yearly report: counts only, no names of people.

Two sections for 二、主要工作及成效: ``education.summary`` (teachers trained at the
university and in the town, student teachers placed, study pairs) and
``education.sanxiaxiang`` (the 三下乡 teams and what they did). Both speak in
words: vocabulary labels, never codes or commitment ids, and English fully in
English (schools, whose names are Chinese only, are counted there, not named).
The charts draw each year of the plan up to the report's against the plan's
yearly minimums, with the figures the commitments' own checks count (the
targets are evaluated for each year), so a chart and the results agree. What a
commitment still lacks for the year becomes a next step for 五、下一步工作打算.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from fupin import CheckContext, ReportSection, Status
from fupin.ext import Chart, Series, own_records

from fupin_education.kinds import KINDS
from fupin_education.targets import tables, target_specs

#: The targets charted by year: target -> (figure summed over schools, subjects or teams; the yearly minimum).
TEACHERS, SESSIONS, INTERNS, TEAMS, PAIRS = (
    "education.trainees_per_school", "education.teacher_training_sessions", "education.internships",
    "education.sanxiaxiang_teams", "education.one_to_one_support",
)


def _number(value: Decimal) -> str:
    return str(int(value)) if value == int(value) else str(value)


def _n(n: int | Decimal, word: str, plural: str = "") -> str:
    """``n`` and the English word in the number ``n`` asks for (1 school, 2 schools)."""
    return f"{_number(Decimal(n))} {word if n == 1 else plural or word + 's'}"


def _year_rows(store: Any, plan: Any, year: int) -> dict[str, list[Any]]:
    """kind -> the plan's actions of the stream that started in ``year`` (quantities, details, amount, beneficiary count)."""
    t = tables(store)
    a, u = t["support_actions"], t["units"]
    with store.reading("aggregates.read") as conn:
        units = [plan.helping_unit.code]
        # The helping unit and its departments, as the checks count them.
        while True:
            more = set(conn.execute(sa.select(u.c.code).where(u.c.parent_code.in_(units))).scalars()) - set(units)
            if not more:
                break
            units += sorted(more)
        rows = conn.execute(
            sa.select(a.c.kind, a.c.quantities, a.c.details, a.c.amount_fen).where(
                a.c.kind.in_(KINDS), own_records(a, plan, units),
                a.c.start_date >= dt.date(year, 1, 1), a.c.start_date <= dt.date(year, 12, 31),
            )
        ).all()
    out: dict[str, list[Any]] = {k: [] for k in KINDS}
    for r in rows:
        out[r.kind].append(r)
    return out


def _sum(rows: list[Any], quantity: str) -> Decimal:
    return sum((Decimal(str((r.quantities or {}).get(quantity, 0))) for r in rows), Decimal(0))


def _results(store: Any, plan: Any, years: Sequence[int], as_of: dt.date) -> dict[int, list[tuple[Any, Any]]]:
    """year -> (commitment, result) of each education commitment, judged as of ``as_of`` as the core's results are."""
    specs = {s.name: s for s in target_specs()}
    out: dict[int, list[tuple[Any, Any]]] = {y: [] for y in years}
    with store.reading("aggregates.read") as conn:
        cache: dict[str, Any] = {}
        for y in years:
            for c in plan.commitments:
                spec = specs.get(c.target)
                if spec is None:
                    continue
                ctx = CheckContext(store, plan, c, y, as_of, conn, cache, spec)
                try:
                    out[y].append((c, spec.evaluate(ctx)))
                except Exception as exc:  # the check shows the failure; the report keeps its other figures
                    out[y].append((c, ctx.result(Status.NO_DATA, "", "", note=f"{type(exc).__name__}: {exc}")))
    return out


def _figure(results: list[tuple[Any, Any]], target: str) -> tuple[int | None, int]:
    """(what the year's checks of ``target`` count, the plan's minimum for the year), summed over its commitments.

    The count is None when no commitment of the target was due that year (no vacation in the plan's period).
    """
    have, need, due = 0, 0, False
    for c, r in results:
        if c.target != target:
            continue
        f = r.figures
        if target == TEACHERS and "trainees_by_school" in f:
            have += sum(f["trainees_by_school"].values())
            need += int(f["required_per_school"]) * len(f["trainees_by_school"])
        elif target == SESSIONS and "sessions_by_subject" in f:
            have += sum(f["sessions_by_subject"].values())
            need += int(f["required_per_subject"]) * len(f["sessions_by_subject"])
        elif target == INTERNS and "internships_by_school" in f:
            have += sum(f["internships_by_school"].values())
            need += int(f["required_per_school"]) * len(f["internships_by_school"])
        elif target == TEAMS and "teams" in f:
            have += int(f["teams"])
            need += int(f["min_teams"])
        else:
            continue
        due = True
    return (have if due else None), need


def _vacation(store: Any, v: str, lang: str) -> str:
    return f"{store.vocab.label('education_vacation', v, 'en')} vacation" if lang == "en" else str(store.vocab.label("education_vacation", v))


def _subject(store: Any, s: str, lang: str) -> str:
    return str(store.vocab.label("education_subject", s, "en" if lang == "en" else "zh"))


def _said(store: Any, c: Any, r: Any, year: int, open_year: bool) -> tuple[str, str, str, str] | None:
    """What a commitment lacks in ``year``, in words: (shortfall zh, en, next step zh, en), or None when nothing lacks."""
    f = r.figures
    title_zh, title_en = c.title("zh"), c.title("en")
    when_zh, when_en = (f"{year} 年内", f"before the end of {year}") if open_year else (f"{year + 1} 年", f"in {year + 1}")
    if c.target in (TEACHERS, INTERNS) and f.get("short"):
        return _per_school(c, f, when_zh, when_en)
    if c.target == SESSIONS and f.get("short"):
        need, by = int(f["required_per_subject"]), f["sessions_by_subject"]
        short = list(f["short"])
        zh = "、".join(f"{_subject(store, s, 'zh')} {by[s]} 场" for s in short)
        en = ", ".join(f"{_subject(store, s, 'en')} {by[s]}" for s in short)
        return (f"{title_zh}: 每学科每年至少 {need} 场, {zh}。",
                f"{title_en}: at least {_n(need, 'session')} of each subject a year; {en}.",
                f"{when_zh}为{'、'.join(_subject(store, s, 'zh') for s in short)}教师各补足 {need} 场送教培训。",
                f"Hold the missing teacher-training sessions {when_en}: {', '.join(_subject(store, s, 'en') for s in short)} "
                f"(at least {need} a subject).")
    if c.target == TEAMS and "teams" in f:
        lo, hi, teams, missing = int(f["min_teams"]), int(f["max_teams"]), int(f["teams"]), list(f["missing_vacations"])
        if lo <= teams <= hi and not missing:
            return None
        wrong_zh, wrong_en, step_zh, step_en = [], [], [], []
        if teams < lo:
            wrong_zh.append(f"服务团 {teams} 支, 少于 {lo} 支")
            wrong_en.append(f"{teams} teams, fewer than {lo}")
            step_zh.append(f"再组建 {lo - teams} 支服务团")
            step_en.append(f"form {lo - teams} more {'team' if lo - teams == 1 else 'teams'}")
        elif teams > hi:
            wrong_zh.append(f"服务团 {teams} 支, 多于 {hi} 支")
            wrong_en.append(f"{teams} teams, more than {hi}")
        if missing:
            wrong_zh.append(f"{'、'.join(missing)}没有服务团")
            wrong_en.append(f"no team in the {' or '.join(_vacation(store, v, 'en') for v in missing)}")
            step_zh.append(f"{'、'.join(missing)}组队下乡")
            step_en.append(f"send teams in the {' and '.join(_vacation(store, v, 'en') for v in missing)}")
        return (f"{title_zh}: {'; '.join(wrong_zh)}。", f"{title_en}: {'; '.join(wrong_en)}.",
                f"{when_zh}{', '.join(step_zh)} (每年 {lo} 至 {hi} 支, 寒暑假都有)。" if step_zh else "",
                f"{step_en[0][0].upper()}{'; '.join(step_en)[1:]} {when_en} ({lo} to {hi} teams a year, in both vacations)." if step_en else "")
    if c.target == PAIRS and "required_students" in f and int(f["paired"]) < int(f["required_students"]):
        paired, total, need = int(f["paired"]), int(f["students"]), int(f["required_students"])
        share = float(f["required_share"])
        return (f"{title_zh}: {total} 名贫困户在校生中有结对的 {paired} 名, 少于要求的 {need} 名 ({share:.0%})。",
                f"{title_en}: {paired} of {total} in-school students of poor households paired, fewer than the {need} "
                f"required ({share:.0%}).",
                f"{when_zh}为 {need - paired} 名贫困户在校生安排教职工一对一结对 (至少 {share:.0%} 有结对)。",
                f"Pair {need - paired} more in-school {'student' if need - paired == 1 else 'students'} of poor households with a staff member {when_en} "
                f"(at least {share:.0%} paired).")
    if r.status is Status.NOT_MET:
        return (f"{title_zh}: 本年未达成。", f"{title_en}: not met this year.", "", "")
    return None


def _per_school(c: Any, f: Any, when_zh: str, when_en: str) -> tuple[str, str, str, str]:
    """What C23 (teachers trained) or C25 (student teachers placed) lacks at the schools short of the minimum.

    The schools are named in Chinese only (their names have no English), counted in English.
    """
    teachers = c.target == TEACHERS
    need = int(f["required_per_school"])
    by = f["trainees_by_school" if teachers else "internships_by_school"]
    short = list(f["short"])
    gap = sum(need - by[n] for n in short)
    one, unit = ("teacher", "人") if teachers else ("student teacher", "名")
    schools = "、".join(short)
    said_zh = "、".join(f"{n} {by[n]} {unit}" for n in short)
    step_zh = (f"{when_zh}安排{schools}再有 {gap} 名教师来校培训 (每校每年至少 {need} 人)。" if teachers
               else f"{when_zh}向{schools}再选派 {gap} 名实习生 (每校每年至少 {need} 名)。")
    more = f"{gap} more {one if gap == 1 else one + 's'}"
    step_en = (f"Train {more} of {_n(len(short), 'school')} at the university {when_en} (at least {need} of each school a year)."
               if teachers else f"Place {more} at {_n(len(short), 'host school')} {when_en} (at least {need} at each a year).")
    return (f"{c.title('zh')}: 每{'' if teachers else '所实习'}校每年至少 {need} {unit}{'' if teachers else '实习生'}, {said_zh}。",
            f"{c.title('en')}: at least {_n(need, one)} {'of' if teachers else 'at'} each {'school' if teachers else 'host school'} a year; "
            f"{len(short)} of the {len(by)} schools fell short ({_n(gap, one)} missing).",
            step_zh, step_en)


def _by_year_chart(key: str, title_zh: str, title_en: str, unit_zh: str, unit_en: str, name_zh: str, name_en: str,
                   years: Sequence[int], year: int, figures: dict[int, tuple[int | None, int]], note_zh: str, note_en: str) -> Chart:
    """Bars of a check's count by year, a line of the plan's yearly minimum; years short of it and the report's year marked."""
    return Chart(
        key, "bar_line", title_zh, title_en, tuple(f"{y} 年" for y in years), tuple(str(y) for y in years),
        (Series(name_zh, name_en, tuple(figures[y][0] for y in years), unit_zh, unit_en),
         Series("方案每年最低要求", "the plan's yearly minimum", tuple(figures[y][1] if figures[y][0] is not None else None for y in years),
                unit_zh, unit_en)),
        highlight=tuple(i for i, y in enumerate(years)
                        if y == year or (figures[y][0] is not None and (figures[y][0] or 0) < figures[y][1])),
        note_zh=note_zh, note_en=note_en,
    )


def sections(store: Any, plan: Any, year: int, as_of: dt.date | None = None) -> list[ReportSection]:
    """The education summary (teachers, internships, study pairs) and the 三下乡 teams of ``year``, as of ``as_of``
    (the report's date; by default a past year's last day, this year's today)."""
    store.access.require("aggregates.read", "报告 / report")
    if not any(c.target.startswith("education.") for c in plan.commitments):
        return []
    as_of = as_of or min(dt.date.today(), dt.date(year, 12, 31))
    rows = _year_rows(store, plan, year)
    visits, trainings, interns, teams, pairs = (rows[k] for k in KINDS)
    visit_trainees = sum(len((r.details or {}).get("trainees", ())) for r in visits)
    training_people = _sum(trainings, "people")
    lessons = sum(int((r.details or {}).get("lessons", 0)) for r in interns)
    team_names = {(r.details or {}).get("team") for r in teams}
    served = _sum(teams, "people")
    pair_money = sum(r.amount_fen for r in pairs)
    years = [y for y in plan.years() if y <= year] or [year]
    results = _results(store, plan, years, as_of)
    figures = {t: {y: _figure(results[y], t) for y in years} for t in (TEACHERS, SESSIONS, INTERNS, TEAMS)}
    open_year = as_of <= min(dt.date(year, 12, 31), plan.period_end)
    said = {c.target: _said(store, c, r, year, open_year) for c, r in results[year]}
    if not open_year and year + 1 not in plan.years():
        # The plan's last year has ended: what it lacks is a problem, there is no next year of the plan to do it in.
        said = {t: (s[0], s[1], "", "") if s else None for t, s in said.items()}
    short = {c.target: r.status is Status.NOT_MET for c, r in results[year]}

    def lacking(targets: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """(shortfalls zh, en, next steps zh, en) of ``targets``: a shortfall once the year is judged not met,
        a next step while the year's figures are below the minimum."""
        found = [(t, s) for t in targets if (s := said.get(t))]
        return (tuple(s[0] for t, s in found if short[t]), tuple(s[1] for t, s in found if short[t]),
                tuple(s[2] for _, s in found if s[2]), tuple(s[3] for _, s in found if s[3]))

    charts = []
    for target, key, title_zh, title_en, unit_zh, unit_en, name_zh, name_en in (
        (TEACHERS, "education.teachers_by_year", "历年来校培训教师", "Teachers trained at the university by year",
         "人", "teachers", "来校培训教师", "teachers trained"),
        (SESSIONS, "education.sessions_by_year", "历年送教培训场次", "Teacher-training sessions in the town by year",
         "场", "sessions", "送教培训场次", "sessions"),
        (INTERNS, "education.interns_by_year", "历年实习生", "Student teachers placed by year",
         "名", "student teachers", "实习生", "student teachers placed"),
    ):
        if any(c.target == target for c in plan.commitments):
            charts.append(_by_year_chart(
                key, title_zh, title_en, unit_zh, unit_en, name_zh, name_en, years, year, figures[target],
                "按承诺的计数口径统计; 折线为方案每年最低要求, 标出本年和未达要求的年份。",
                "Counted as the commitment counts; the line is the plan's yearly minimum; this year and years short of it are marked.",
            ))
    summary_short = lacking((TEACHERS, SESSIONS, INTERNS, PAIRS))
    summary = ReportSection(
        "education.summary", "教育帮扶", "Education",
        paragraphs_zh=(
            f"{year} 年: 中小学教师来校培训 {len(visits)} 期 {visit_trainees} 人次 {_number(_sum(visits, 'hours'))} 学时; "
            f"送教培训 {len(trainings)} 场 {_number(training_people)} 人次 {_number(_sum(trainings, 'hours'))} 学时; "
            f"教育实习 {len(interns)} 人, 授课 {lessons} 节; 新结对助学 {len(pairs)} 对, 资助 {pair_money / 100:,.2f} 元。",
        ),
        paragraphs_en=(
            f"{year}: {_n(len(visits), 'programme')} at the university for {_n(visit_trainees, 'teacher place')}, "
            f"{_n(_sum(visits, 'hours'), 'hour')}; {_n(len(trainings), 'training session')} in the town for "
            f"{_n(training_people, 'teacher place')}, {_n(_sum(trainings, 'hours'), 'hour')}; {_n(len(interns), 'student teacher')}, "
            f"{_n(lessons, 'lesson')} taught; {_n(len(pairs), 'new study pair')}, {pair_money / 100:,.2f} yuan given.",
        ),
        shortfalls_zh=summary_short[0], shortfalls_en=summary_short[1], part="work", charts=tuple(charts),
        next_steps_zh=summary_short[2], next_steps_en=summary_short[3],
    )
    return [summary, _sanxiaxiang(store, plan, year, years, teams, team_names, served, figures[TEAMS], lacking((TEAMS,)))]


def _sanxiaxiang(store: Any, plan: Any, year: int, years: Sequence[int], teams: list[Any], team_names: set[Any], served: Decimal,
                 figures: dict[int, tuple[int | None, int]], lacking: tuple[tuple[str, ...], ...]) -> ReportSection:
    """The 三下乡 section: the year's teams by vacation and activities by type, teams by year against the minimum."""
    vocab = store.vocab
    activities: Counter[str] = Counter()
    by_vacation: Counter[str] = Counter()
    for r in teams:
        d = r.details or {}
        activities.update(d.get("activities", ()))
        by_vacation[d.get("vacation", "")] += 1
    held = [t for t in vocab.terms("education_activity") if activities[t.zh]]
    charts = [Chart(
        "education.sanxiaxiang_activities", "bar", f"{year} 年三下乡活动", f"Sanxiaxiang activities, {year}",
        tuple(t.zh for t in held), tuple(t.en for t in held),
        (Series("次数", "times held", tuple(activities[t.zh] for t in held), "次", "times"),),
        note_zh=f"{len(team_names)} 支服务团 {len(teams)} 队次的活动, 按类型。",
        note_en=f"What {_n(len(team_names), 'team')} did on {_n(len(teams), 'outing')}, by type.",
    )] if held else []
    if any(c.target == TEAMS for c in plan.commitments):
        charts.append(_by_year_chart(
            "education.teams_by_year", "历年三下乡服务团", "Sanxiaxiang teams by year", "支", "teams", "服务团", "teams",
            years, year, figures,
            "按承诺的计数口径统计 (队员、天数达到要求的服务团); 折线为每年最少服务团数。",
            "Teams with enough members and days, as the commitment counts them; the line is the plan's yearly minimum.",
        ))
    winter, summer = vocab.label("education_vacation", "winter"), vocab.label("education_vacation", "summer")
    kinds_zh = "、".join(f"{t.zh} {activities[t.zh]} 次" for t in held) or "无"
    kinds_en = ", ".join(f"{t.en} {activities[t.zh]}" for t in held) or "none"
    return ReportSection(
        "education.sanxiaxiang", "三下乡社会实践", "Sanxiaxiang: student teams in the vacations",
        paragraphs_zh=(f"{year} 年三下乡服务团 {len(team_names)} 支 {len(teams)} 队次 (寒假 {by_vacation[winter]} 队次, "
                       f"暑假 {by_vacation[summer]} 队次), 服务群众 {_number(served)} 人次; 活动: {kinds_zh}。",),
        paragraphs_en=(f"{year}: {_n(len(team_names), 'Sanxiaxiang student team')} went out {_n(len(teams), 'time')} "
                       f"({by_vacation[winter]} in the winter vacation, {by_vacation[summer]} in the summer vacation), "
                       f"serving {_n(served, 'person', 'people')}; "
                       f"activities: {kinds_en}.",),
        shortfalls_zh=lacking[0], shortfalls_en=lacking[1], part="work", charts=tuple(charts),
        next_steps_zh=lacking[2], next_steps_en=lacking[3],
    )
