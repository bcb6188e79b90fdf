"""The psychology section of the yearly report: counts only, counts of 1 to 4 shown as ``<5``.

No name, ID number or note ever appears here; the section reads no note column.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from fupin import CheckContext, ReportSection, Status

from fupin_psychology.model import small
from fupin_psychology.records import SessionRule, cases_active, coverage, plan_sessions
from fupin_psychology.targets import settings, target_specs


def _results(store: Any, plan: Any, year: int, conn: Any) -> tuple[list[str], list[str], dict[str, Any]]:
    specs = {s.name: s for s in target_specs()}
    zh, en, status = [], [], {}
    for c in plan.commitments:
        spec = specs.get(c.target)
        if spec is None:
            continue
        result = spec.evaluate(CheckContext(store, plan, c, year, dt.date.today(), conn, {}, spec))
        status[c.target] = result.status
        if result.status is Status.NOT_MET:
            zh.append(f"{c.id} {c.title_zh}: 要求 {result.required}, 实际 {result.actual}")
            en.append(f"{c.id} {c.title_en}: required {result.required}, actual {result.actual}")
    return zh, en, status


def sections(store: Any, plan: Any, year: int) -> list[ReportSection]:
    """The counselling and social-work summary of ``year`` for ``plan``."""
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
        short_zh, short_en, status = _results(store, plan, year, conn)
    modes = Counter(s.mode for s in sessions)
    referrals = Counter(s.referral for s in sessions if s.referral)
    high = sum(1 for s in sessions if s.risk_level == "高")
    people = len({p for s in sessions for p in (s.persons or ())})
    opened = sum(1 for c in cases if c.opened >= start)
    closed = sum(1 for c in cases if c.closed is not None and c.closed <= end)
    mode_zh = "、".join(f"{m} {small(n)}" for m, n in sorted(modes.items())) or "-"
    ref_zh = "、".join(f"{r} {small(n)}" for r, n in sorted(referrals.items())) or "无"
    need = float(given["min_share"])
    rows = []
    for g, c in cov.items():
        n, t = len(c.counselled), len(c.tagged)
        share = f"{c.share:.0%}" if n >= 5 and t >= 5 else "-"
        rows.append((g, small(t), small(n), share, f">= {need:.0%}"))
    c32_label = status.get("psychology.counselling_coverage")
    c33_label = status.get("psychology.social_work_cases")
    return [ReportSection(
        "psychology.summary", "心理疏导与社会工作", "Counselling and social work",
        paragraphs_zh=(
            f"{year} 年心理疏导 {small(len(sessions))} 次 ({mode_zh}), 疏导 {small(people)} 人; 高风险 {small(high)} 人次; 转介: {ref_zh}。"
            "人数 1 至 4 显示为 <5, 记录内容不出现在报告中。",
            f"社会工作个案 {len(cases)} 个 (新开 {opened}, 结案 {closed})。"
            + (f" C32: {c32_label.label_zh}。" if c32_label else "") + (f" C33: {c33_label.label_zh}。" if c33_label else ""),
        ),
        paragraphs_en=(
            f"{year}: {small(len(sessions))} counselling sessions ({', '.join(f'{m} {small(n)}' for m, n in sorted(modes.items())) or '-'}), "
            f"{small(people)} people counselled; {small(high)} high-risk contacts; referrals: "
            f"{', '.join(f'{r} {small(n)}' for r, n in sorted(referrals.items())) or 'none'}. "
            "Counts of 1 to 4 are shown as <5; session notes never appear in reports.",
            f"{len(cases)} social-work cases ({opened} opened, {closed} closed)."
            + (f" C32: {c32_label.label_en}." if c32_label else "") + (f" C33: {c33_label.label_en}." if c33_label else ""),
        ),
        headers_zh=("群体", "在册人数", "已疏导人数", "覆盖率", "要求"),
        headers_en=("group", "on the roster", "counselled", "share", "required"),
        rows=tuple(rows),
        shortfalls_zh=tuple(short_zh),
        shortfalls_en=tuple(short_en),
    )]
