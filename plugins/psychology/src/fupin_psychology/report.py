"""The psychology section of the yearly report: counts only, counts of 1 to 4 shown as ``<5``.

No name, ID number or note ever appears here; the section reads no note column.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from fupin import CheckContext, ReportSection, Status
from fupin.ext import Chart, Series

from fupin_psychology.model import small
from fupin_psychology.records import SessionRule, cases_active, coverage, plan_sessions
from fupin_psychology.targets import settings, target_specs


def _results(store: Any, plan: Any, year: int, as_of: dt.date, conn: Any) -> tuple[list[str], list[str], dict[str, Any]]:
    specs = {s.name: s for s in target_specs()}
    zh, en, status = [], [], {}
    for c in plan.commitments:
        spec = specs.get(c.target)
        if spec is None:
            continue
        # As of the report's date, as the core's results of the same report.
        result = spec.evaluate(CheckContext(store, plan, c, year, as_of, conn, {}, spec))
        status[c.target] = result.status
        if result.status is Status.NOT_MET:
            zh.append(f"{c.title('zh')}: 本年未达成。")
            en.append(f"{c.title('en')}: not met this year.")
    return zh, en, status


def _shown(n: int) -> int | None:
    """A count as a chart draws it: 1 to 4 left out, as the text shows them as <5."""
    return None if 0 < n < 5 else n


def sections(store: Any, plan: Any, year: int, as_of: dt.date | None = None) -> list[ReportSection]:
    """The counselling and social-work summary of ``year`` for ``plan``, commitments judged as of ``as_of``
    (the report's date; by default a past year's last day, this year's today)."""
    as_of = as_of or min(dt.date.today(), dt.date(year, 12, 31))
    store.access.require("aggregates.read", "报告 / report")
    c32 = next((c for c in plan.commitments if c.target == "psychology.counselling_coverage"), None)
    if c32 is None and not any(c.target.startswith("psychology.") for c in plan.commitments):
        return []
    given = settings(plan)
    groups = [store.vocab.check("person_tag", g) for g in (given["groups"] or ())]
    times = int(given["min_per_year"])
    # The check's own rule, so the report's table agrees with C32's result.
    rule = SessionRule(tuple(store.vocab.check("psychology_mode", m) for m in given["modes"]), int(given["min_minutes"]),
                       int(given["max_group_size"]))
    start, end = max(dt.date(year, 1, 1), plan.period_start), min(dt.date(year, 12, 31), plan.period_end)
    with store.reading("aggregates.read") as conn:
        sessions = plan_sessions(conn, store, plan, start, end)
        cov, _ = coverage(conn, store, plan, groups, start, end, times, rule)
        cases = cases_active(conn, store, plan, start, end)
        short_zh, short_en, status = _results(store, plan, year, as_of, conn)
        years = [y for y in plan.years() if y <= year]
        by_year = {}
        for y in years:
            a, b = max(dt.date(y, 1, 1), plan.period_start), min(dt.date(y, 12, 31), plan.period_end)
            held = plan_sessions(conn, store, plan, a, b)
            by_year[y] = (len(held), len({p for x in held for p in (x.persons or ())}))
    modes = Counter(s.mode for s in sessions)
    referrals = Counter(s.referral for s in sessions if s.referral)
    high = sum(1 for s in sessions if s.risk_level == "高")
    people = len({p for s in sessions for p in (s.persons or ())})
    opened = sum(1 for c in cases if c.opened >= start)
    closed = sum(1 for c in cases if c.closed is not None and c.closed <= end)
    label = store.vocab.label
    mode_zh = "、".join(f"{label('psychology_mode', m, 'zh')} {small(n)}" for m, n in sorted(modes.items())) or "-"
    ref_zh = "、".join(f"{label('psychology_referral', r, 'zh')} {small(n)}" for r, n in sorted(referrals.items())) or "无"
    mode_en = ", ".join(f"{label('psychology_mode', m, 'en')} {small(n)}" for m, n in sorted(modes.items())) or "-"
    ref_en = ", ".join(f"{label('psychology_referral', r, 'en')} {small(n)}" for r, n in sorted(referrals.items())) or "none"
    need = float(given["min_share"])
    # Coverage by group in words, each language its own labels (a table's cells would be one language only).
    groups_zh, groups_en = [], []
    for g, c in cov.items():
        n, t = len(c.counselled), len(c.tagged)
        share_zh = f", 覆盖率 {c.share:.0%}" if n >= 5 and t >= 5 else ""
        share_en = f", {c.share:.0%}" if n >= 5 and t >= 5 else ""
        groups_zh.append(f"{label('person_tag', g, 'zh')}在册 {small(t)} 人, 已疏导 {small(n)} 人{share_zh}")
        groups_en.append(f"{label('person_tag', g, 'en')}: {small(n)} of {small(t)} on the roster counselled{share_en}")
    coverage_zh = (f"分群体覆盖 (要求 {need:.0%}): " + "; ".join(groups_zh) + "。",) if groups_zh else ()
    coverage_en = (f"Coverage by group ({need:.0%} required): " + "; ".join(groups_en) + ".",) if groups_en else ()
    due = [(g, len(c.tagged - c.counselled)) for g, c in cov.items() if c.tagged - c.counselled]
    next_zh = tuple(f"为{label('person_tag', g, 'zh')}中尚未接受心理疏导的 {small(n)} 人安排疏导。" for g, n in due)
    next_en = tuple(f"Counsel the {small(n)} {label('person_tag', g, 'en')} not counselled yet." for g, n in due)
    charts: tuple[Chart, ...] = (Chart(
        "psychology.by_year", "bar", "历年心理疏导", "Counselling by year",
        tuple(f"{y} 年" for y in years), tuple(str(y) for y in years),
        (Series("疏导次数", "sessions", tuple(_shown(by_year[y][0]) for y in years), "次", "sessions"),
         Series("疏导人数", "people counselled", tuple(_shown(by_year[y][1]) for y in years), "人", "people")),
        highlight=tuple(i for i, y in enumerate(years) if y == year),
        note_zh="1 至 4 的数字不画出。", note_en="Counts of 1 to 4 are not drawn.",
    ),)
    if cov:
        charts += (Chart(
            "psychology.coverage_by_group", "bar", f"{year} 年各群体心理疏导覆盖", f"Counselling coverage by group, {year}",
            tuple(label("person_tag", g, "zh") for g in cov), tuple(label("person_tag", g, "en") for g in cov),
            (Series("在册人数", "on the roster", tuple(_shown(len(c.tagged)) for c in cov.values()), "人", "people"),
             Series("已疏导人数", "counselled", tuple(_shown(len(c.counselled)) for c in cov.values()), "人", "people")),
            highlight=tuple(i for i, c in enumerate(cov.values()) if c.tagged - c.counselled),
            note_zh=f"要求覆盖 {need:.0%}; 标出的群体尚有人未疏导; 1 至 4 的数字不画出。",
            note_en=f"{need:.0%} must be counselled; marked groups have people not counselled yet; counts of 1 to 4 are not drawn.",
        ),)
    return [ReportSection(
        "psychology.summary", "心理疏导与社会工作", "Counselling and social work",
        paragraphs_zh=(
            f"{year} 年心理疏导 {small(len(sessions))} 次 ({mode_zh}), 疏导 {small(people)} 人; 高风险 {small(high)} 人次; 转介: {ref_zh}。"
            "人数 1 至 4 显示为 <5, 记录内容不出现在报告中。",
            f"社会工作个案 {len(cases)} 个 (新开 {opened}, 结案 {closed})。"
            + "".join(f" {c.title('zh')}: {status[c.target].label_zh}。" for c in plan.commitments if c.target in status),
            *coverage_zh,
        ),
        paragraphs_en=(
            f"{year}: {small(len(sessions))} counselling sessions ({mode_en}), "
            f"{small(people)} people counselled; {small(high)} high-risk contacts; referrals: "
            f"{ref_en}. "
            "Counts of 1 to 4 are shown as <5; session notes never appear in reports.",
            f"{len(cases)} social-work cases ({opened} opened, {closed} closed)."
            + "".join(f" {c.title('en')}: {status[c.target].label_en}." for c in plan.commitments if c.target in status),
            *coverage_en,
        ),
        shortfalls_zh=tuple(short_zh),
        shortfalls_en=tuple(short_en), part="work", charts=charts, next_steps_zh=next_zh, next_steps_en=next_en,
    )]
