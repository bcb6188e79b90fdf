"""The education stream's sections of the yearly report: counts only, no names."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from fupin import CheckContext, ReportSection, Status

from fupin_education.kinds import KINDS
from fupin.ext import own_records

from fupin_education.targets import tables, target_specs


def _number(value: Decimal) -> str:
    return str(int(value)) if value == int(value) else str(value)


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


def _shortfalls(store: Any, plan: Any, year: int) -> tuple[list[tuple[str, str, str, str, str]], list[str], list[str]]:
    """The education commitments' results for the year: table rows and shortfalls in both languages."""
    specs = {s.name: s for s in target_specs()}
    rows, zh, en = [], [], []
    with store.reading("aggregates.read") as conn:
        cache: dict[str, Any] = {}
        for c in plan.commitments:
            spec = specs.get(c.target)
            if spec is None:
                continue
            try:
                result = spec.evaluate(CheckContext(store, plan, c, year, dt.date.today(), conn, cache, spec))
            except Exception as exc:  # the check shows the failure; the report keeps its other figures
                rows.append((c.id, spec.label_zh, "", f"{type(exc).__name__}: {exc}", Status.NO_DATA.label_zh))
                continue
            rows.append((c.id, spec.label_zh, result.required, result.actual, result.status.label_zh))
            if result.status is Status.NOT_MET:
                zh.append(f"{c.id} {c.title_zh}: 要求 {result.required}, 实际 {result.actual}")
                en.append(f"{c.id} {c.title_en}: required {result.required}, actual {result.actual}")
    return rows, zh, en


def sections(store: Any, plan: Any, year: int) -> list[ReportSection]:
    """The education summary (C23 to C27) and the 三下乡 activities of ``year``."""
    store.access.require("aggregates.read", "报告 / report")
    if not any(c.target.startswith("education.") for c in plan.commitments):
        return []
    rows = _year_rows(store, plan, year)
    visits, trainings, interns, teams, pairs = (rows[k] for k in KINDS)
    visit_trainees = sum(len((r.details or {}).get("trainees", ())) for r in visits)
    training_people = _sum(trainings, "people")
    lessons = sum(int((r.details or {}).get("lessons", 0)) for r in interns)
    team_names = {(r.details or {}).get("team") for r in teams}
    served = _sum(teams, "people")
    pair_money = sum(r.amount_fen for r in pairs)
    table, short_zh, short_en = _shortfalls(store, plan, year)
    summary = ReportSection(
        "education.summary", "教育帮扶", "Education",
        paragraphs_zh=(
            f"{year} 年: 中小学教师来校培训 {len(visits)} 期 {visit_trainees} 人次 {_number(_sum(visits, 'hours'))} 学时; "
            f"送教培训 {len(trainings)} 场 {_number(training_people)} 人次 {_number(_sum(trainings, 'hours'))} 学时; "
            f"教育实习 {len(interns)} 人, 授课 {lessons} 节; 三下乡服务团 {len(team_names)} 支 {len(teams)} 队次, "
            f"服务群众 {_number(served)} 人次; 新结对助学 {len(pairs)} 对, 资助 {pair_money / 100:,.2f} 元。",
        ),
        paragraphs_en=(
            f"{year}: {len(visits)} programmes at the university for {visit_trainees} teacher places, {_number(_sum(visits, 'hours'))} hours; "
            f"{len(trainings)} training sessions in the town for {_number(training_people)} teacher places, {_number(_sum(trainings, 'hours'))} hours; "
            f"{len(interns)} student teachers, {lessons} lessons taught; {len(team_names)} 三下乡 teams ({len(teams)} outings) "
            f"serving {_number(served)} people; {len(pairs)} new study pairs, {pair_money / 100:,.2f} yuan given.",
        ),
        headers_zh=("承诺", "指标", "要求", "实际", "状态"),
        headers_en=("commitment", "target", "required", "actual", "status"),
        rows=tuple(table),
        shortfalls_zh=tuple(short_zh),
        shortfalls_en=tuple(short_en),
    )
    activities: Counter[str] = Counter()
    by_vacation: Counter[str] = Counter()
    for r in teams:
        d = r.details or {}
        activities.update(d.get("activities", ()))
        by_vacation[d.get("vacation", "")] += 1
    vocab = store.vocab
    activity_rows = tuple(
        (t.zh, t.en, activities[t.zh]) for t in vocab.terms("education_activity") if activities[t.zh]
    )
    sanxiaxiang = ReportSection(
        "education.sanxiaxiang", "三下乡活动", "三下乡 activities",
        paragraphs_zh=(f"寒假 {by_vacation['寒假']} 队次, 暑假 {by_vacation['暑假']} 队次。",),
        paragraphs_en=(f"{by_vacation['寒假']} outings in the winter vacation, {by_vacation['暑假']} in the summer vacation.",),
        headers_zh=("活动类型", "代码", "次数"),
        headers_en=("activity", "type", "times"),
        rows=activity_rows,
    )
    return [summary, sanxiaxiang]

