"""The funding section of the yearly report: sums and counts only, no names, no vouchers.

Sums are aggregate figures of the plan's own funds (``aggregates.read``):
owned by its units and naming it, never another plan's or unit's (the
commitments' results count shared funds as their targets say).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fupin import CheckContext, ReportSection, Status
from fupin.ext import plan_units

from fupin_funding.ledger import PURPOSES, plan_funds, spending_by_purpose, yuan
from fupin_funding.targets import target_specs

_IDS = ("funding.budget_per_year", "funding.key_projects", "funding.infrastructure_projects", "funding.industry_projects",
        "funding.foundation", "funding.study_aid", "funding.festival_visits", "funding.foster_family_reward")


def sections(store: Any, plan: Any, year: int) -> list[ReportSection]:
    """The section ``funding.summary``: the year's spending by purpose, and the funding commitments' results."""
    specs = {s.name: s for s in target_specs()}
    as_of = dt.date.today()
    results = []
    with store.reading("aggregates.read") as conn:
        for c in plan.commitments:
            if c.target in specs:
                ctx = CheckContext(store, plan, c, year, as_of, conn, spec=specs[c.target])
                try:
                    results.append((c, specs[c.target].evaluate(ctx)))
                except Exception as exc:  # a report must not fail on one figure
                    results.append((c, ctx.result(Status.NO_DATA, "", "", note=str(exc))))
        # Spending of its own funds only: a shared fund's spending is mostly its owner's plan's.
        funds = plan_funds(conn, store.metadata, plan, plan_units(conn, plan))
        spent = spending_by_purpose(conn, store.metadata, dt.date(year, 1, 1), dt.date(year, 12, 31), funds)
    zh, en, rows, short_zh, short_en = [], [], [], [], []
    for c, r in results:
        rows.append((c.id, r.status.label_zh, r.required, r.actual))
        if r.status is Status.NOT_MET:
            short_zh.append(f"{c.id} 未达成: 要求 {r.required}, 实际 {r.actual}。")
            short_en.append(f"{c.id} not met: required {r.required}, actual {r.actual}.")
    total = sum(spent.values())
    zh.insert(0, f"{year} 年支出 {yuan(total)} 元: " + "、".join(f"{PURPOSES.get(p, p)} {yuan(v)}" for p, v in sorted(spent.items())) + "。")
    en.insert(0, f"Spent in {year}: {yuan(total)} yuan (" + ", ".join(f"{p} {yuan(v)}" for p, v in sorted(spent.items())) + ").")
    return [ReportSection(
        "funding.summary", "资金与项目", "Funds and projects", paragraphs_zh=tuple(zh), paragraphs_en=tuple(en),
        headers_zh=("承诺", "状态", "要求", "实际"), headers_en=("commitment", "status", "required", "actual"), rows=tuple(rows),
        shortfalls_zh=tuple(short_zh), shortfalls_en=tuple(short_en),
    )]
