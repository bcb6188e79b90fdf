"""The stream's section of the yearly report (``fupin report``): counts only, no personal data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fupin import ReportSection

from fupin.ext import Chart, Series, plan_units

from fupin_training import catalogue as cat
from fupin_training import queries as q
from fupin_training.kinds import PARTY_FORMATS, TRAINING_PLAN


def sections(store: Any, plan: Any, year: int) -> list[ReportSection]:
    """One section: courses by technique area, skills coverage, party-cadre training, research projects."""
    store.access.require("aggregates.read", "报告 / report")
    start, end = max(dt.date(year, 1, 1), plan.period_start), min(dt.date(year, 12, 31), plan.period_end)
    if end < start:
        return []
    t, vocab, s = q.Tables.of(store), store.vocab, q.settings(plan)
    topics = _topics(plan)
    with store.reading("aggregates.read") as conn:
        units = plan_units(conn, plan)
        # The thresholds of the checks, so the report counts what they count.
        course = [q.commitment_param(plan, "training.agri_courses", n) for n in ("min_hours", "min_attendees")]
        by_area = q.sessions_by_area(conn, t, plan, units, start, end, *course)
        people = q.attendees(conn, t, plan, units, start, end, *course)
        cov = q.coverage(conn, t, plan, end, evidence=False)
        party = q.party_by_format(conn, t, plan, units, start, end, q.commitment_param(plan, "training.party_cadre_training", "min_attendees"))
        res = q.research(conn, t, plan, units, start, end, q.commitment_param(plan, "training.research_projects", "min_funding_fen"))
        without = q.households_without(conn, t, plan, end)
        years = [y for y in plan.years() if y <= year]
        yearly = {y: sum(f.sessions for f in q.sessions_by_area(
            conn, t, plan, units, max(dt.date(y, 1, 1), plan.period_start), min(dt.date(y, 12, 31), plan.period_end), *course).values())
            for y in years}
    areas = list(topics) + sorted(a for a in by_area if a not in topics)
    sessions = sum(f.sessions for f in by_area.values())
    attendances = sum(f.attendances for f in by_area.values())
    party_sessions = sum(n for f, (n, _, _) in party.items() if f != TRAINING_PLAN)
    party_people = sum(p for f, (_, p, _) in party.items() if f != TRAINING_PLAN)
    formats_zh = "、".join(f"{cat.label(vocab, cat.PARTY_FORMATS, f)} {party[f][0]}" for f in PARTY_FORMATS if f in party and f != TRAINING_PLAN) or "无"
    formats_en = ", ".join(f"{cat.label(vocab, cat.PARTY_FORMATS, f, 'en')} {party[f][0]}" for f in PARTY_FORMATS if f in party and f != TRAINING_PLAN) or "none"
    villages = "、".join(v.name_zh for v in plan.villages)
    pct = lambda n: f"{100 * cov.share(n):.1f}%"  # noqa: E731
    who = "贫困户 (建档立卡)" if s["skill_households"] != "poor" else "未脱贫户"
    who_en = "registered poor households" if s["skill_households"] != "poor" else "households still poor"
    paragraphs_zh = (
        f"{year} 年农业技术培训 {sessions} 场, 出勤 {attendances} 人次 ({people} 人)。",
        f"截至 {end}, {cov.households} 户{who}中掌握 1 门以上实用技术的 {cov.with_one} 户 ({pct(cov.with_one)}), "
        f"2 门以上的 {cov.with_two} 户 ({pct(cov.with_two)}), 尚未掌握的 {cov.without} 户。"
        f"掌握: 考核合格, 或参加同一技术培训满 {s['skill_hours']} 学时。",
        f"党员干部培训 {party_sessions} 场 ({formats_zh}), 参训 {party_people} 人次; 培训规划{'在执行' if TRAINING_PLAN in party else '缺失'}。",
        f"服务{villages}的在研科研项目 {res.running} 个 (新立项 {res.new} 个), 经费 {res.funding_fen / 100:,.2f} 元。",
    )
    paragraphs_en = (
        f"{sessions} agricultural-technology sessions in {year}, {attendances} attendances ({people} people).",
        f"On {end}, of {cov.households} {who_en}, {cov.with_one} ({pct(cov.with_one)}) master at least one practical technique, "
        f"{cov.with_two} ({pct(cov.with_two)}) at least two, {cov.without} none yet. Mastered: a passed assessment, "
        f"or {s['skill_hours']} hours of one technique's sessions.",
        f"{party_sessions} party-cadre training sessions ({formats_en}), {party_people} attendances; training plan "
        f"{'in force' if TRAINING_PLAN in party else 'missing'}.",
        f"{res.running} research projects serving the village running ({res.new} new), funding {res.funding_fen / 100:,.2f} yuan.",
    )
    short_zh, short_en = [], []
    need = int(s["sessions_per_area"])
    for a in topics:
        n = by_area.get(a, q.AreaFigures(a)).sessions
        if n < need:
            short_zh.append(f"{cat.area_label(vocab, a)}技术培训 {n} 场, 少于要求的 {need} 场。")
            short_en.append(f"{cat.area_label(vocab, a, 'en')}: {n} sessions, fewer than the {need} required.")
    if cov.without:
        short_zh.append(f"{cov.without} 户贫困户尚未掌握实用技术。")
        short_en.append(f"{cov.without} poor households master no practical technique yet.")
    if party_sessions < int(s["party_sessions_per_year"]):
        short_zh.append(f"党员干部培训 {party_sessions} 场, 少于要求的 {s['party_sessions_per_year']} 场。")
        short_en.append(f"{party_sessions} party-cadre sessions, fewer than the {s['party_sessions_per_year']} required.")
    if res.running < int(s["research_projects_per_year"]):
        short_zh.append(f"在研科研项目 {res.running} 个, 少于要求的 {s['research_projects_per_year']} 个。")
        short_en.append(f"{res.running} research projects running, fewer than the {s['research_projects_per_year']} required.")
    next_zh, next_en = _without_by_village(plan, without)
    charts = (
        Chart(
            "training.sessions_by_area", "bar", f"{year} 年各技术领域培训", f"Training by technique area, {year}",
            tuple(cat.area_label(vocab, a) for a in areas), tuple(cat.area_label(vocab, a, "en") for a in areas),
            (Series("培训场次", "sessions", tuple(by_area.get(a, q.AreaFigures(a)).sessions for a in areas), "场", "sessions"),
             Series("出勤人次", "attendances", tuple(by_area.get(a, q.AreaFigures(a)).attendances for a in areas), "人次", "attendances"),
             Series("要求场次", "sessions required", tuple(need if a in topics else None for a in areas), "场", "sessions")),
            highlight=tuple(i for i, a in enumerate(areas) if a in topics and by_area.get(a, q.AreaFigures(a)).sessions < need),
            note_zh=f"每个技术领域每年至少 {need} 场; 标出的领域未达要求。", note_en=f"At least {need} sessions per technique area a year; marked areas fall short.",
        ),
        Chart(
            "training.sessions_by_year", "bar_line", "历年农业技术培训场次", "Technique training sessions by year",
            tuple(f"{y} 年" for y in years), tuple(str(y) for y in years),
            (Series("培训场次", "sessions", tuple(yearly[y] for y in years), "场", "sessions"),
             Series("方案每年最低要求", "the plan's yearly minimum", tuple(need * len(topics) for _ in years), "场", "sessions")),
            highlight=tuple(i for i, y in enumerate(years) if y == year),
        ),
    )
    return [
        ReportSection(
            "training.courses", "农业技术培训、实用技术与党员干部培训", "Technique training, practical skills and party-cadre training",
            paragraphs_zh=paragraphs_zh, paragraphs_en=paragraphs_en,
            shortfalls_zh=tuple(short_zh), shortfalls_en=tuple(short_en), part="work", charts=charts,
            next_steps_zh=next_zh, next_steps_en=next_en,
        )
    ]


def _without_by_village(plan: Any, without: list[Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The next step for poor households without a practical technique: how many, in which village (counts only)."""
    if not without:
        return (), ()
    per: dict[str, int] = {}
    for h in without:
        per[h.group_code[:12]] = per.get(h.group_code[:12], 0) + 1
    names = {v.code: v for v in plan.villages}
    zh = "、".join(f"{names[c].name_zh if c in names else '其他村'} {n} 户" for c, n in sorted(per.items()))
    en = ", ".join(f"{(names[c].name_en or names[c].name_zh) if c in names else 'other villages'} {n}" for c, n in sorted(per.items()))
    return ((f"为 {len(without)} 户尚未掌握实用技术的贫困户安排技术培训或考核 ({zh})。",),
            (f"Train or assess the {len(without)} poor households that master no practical technique yet ({en}).",))


def _topics(plan: Any) -> list[str]:
    """The technique areas the plan's C20-like commitment names (``topics``), or every area."""
    for c in plan.commitments:
        if c.target == "training.agri_courses":
            return list(c.params.get("topics") or cat.codes(cat.AREAS))
    return [a for a in cat.codes(cat.AREAS) if a != "other"]
