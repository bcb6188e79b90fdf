"""Exit assessment (C37): who can be assessed out of poverty, and recording an exit with its evidence.

A household passes for year Y when (DOMAIN.md 2.1, 一收入、两不愁、三保障):

1. its per-capita net income is **above** the poverty line of year Y for its
   jurisdiction (``Vocabulary.poverty_line_fen(Y, village code)``: the
   national line unless a province, county ... overrides it in the
   vocabulary data); the income is the latest visit answer of the year
   (``disposable_income_per_person``) if there is one, else the figure on the
   household's card;
2. every criterion of the questionnaire of its latest visit with answers
   (up to the end of year Y) holds: 吃穿不愁, 义务教育, 基本医疗, 住房安全 and
   饮水安全 in the Yunnan household questionnaire. A criterion with no answer
   fails: an exit must be proven, not presumed.

:func:`assess` proposes; :func:`record_exit` stores the assessment and changes
the household's status (dated, with the assessment named as the reason). The
household keeps its cadre (脱贫不脱帮扶: revisits go on); a pairing ends only
on purpose, with ``fupin pair end``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from fupin.errors import NotFound, Problem, ValidationError
from fupin.pairing import POOR_STATUSES
from fupin.storage import schema as S
from fupin.queries import plan_villages_condition
from fupin.serial import Serialisable
from fupin.visits import latest_answers

EXITED = "已脱贫(享受政策)"
INCOME_QUESTION = "disposable_income_per_person"


@attrs.frozen
class Assessment(Serialisable):
    """One household's exit assessment for a year: the figures, each criterion, and the verdict."""

    household: str
    household_id: int
    head_name: str
    year: int
    income_per_capita_fen: int | None
    income_source: str  # "visit" or "card"
    line_fen: int
    jurisdiction: str
    visit_id: int | None
    criteria: dict[str, bool | None]
    passed: bool
    reasons: tuple[str, ...]



def _assess_rows(store: Any, conn: sa.Connection, rows: Sequence[Any], year: int) -> list[Assessment]:
    from fupin.questionnaires import load_questionnaire

    end = dt.date(year, 12, 31)
    answers = latest_answers(conn, [r.id for r in rows], end)
    out = []
    for r in rows:
        village = r.group_code[:12]
        line = store.vocab.poverty_line_fen(year, village)
        found = answers.get(r.id)
        reasons: list[str] = []
        criteria: dict[str, bool | None] = {}
        income, source, visit_id = r.net_income_per_capita_fen, "card", None
        if found is not None:
            visit_id, visit_date, key, given = found
            name, _, version = (key or "").partition("@")
            q = load_questionnaire(name, int(version)) if name else None
            criteria = q.criteria_results(given) if q is not None else {}
            # The income of the year is a visit answer of that year; an older answer gives way to the card.
            if given.get(INCOME_QUESTION) is not None and visit_date.year == year:
                income, source = int(given[INCOME_QUESTION]), "visit"
        if income is None:
            reasons.append("无人均纯收入 / no per-capita income recorded")
        elif income <= line:
            reasons.append(f"人均纯收入 {income / 100:.2f} 元未超过 {year} 年贫困线 {line / 100:.0f} 元 / income not above the line")
        if not criteria:
            reasons.append("无走访问卷答案, 无法核实两不愁三保障 / no visit answers to prove 两不愁三保障")
        for cid, ok in criteria.items():
            if ok is None:
                reasons.append(f"{cid}: 未作答 / not answered")
            elif not ok:
                reasons.append(f"{cid}: 未达标 / not met")
        out.append(Assessment(
            r.number, r.id, r.head_name, year, income, source, line, village, visit_id, criteria, not reasons, tuple(reasons),
        ))
    return out


def _poor(store: Any, plan: Any, numbers: Sequence[str] | None = None) -> sa.Select:
    h = S.households
    query = sa.select(h.c.id, h.c.number, h.c.head_name, h.c.group_code, h.c.net_income_per_capita_fen).where(
        h.c.status.in_(POOR_STATUSES), store.access.household_condition("registry.read")
    )
    if plan is not None:
        query = query.where(plan_villages_condition(plan))
    if numbers:
        query = query.where(h.c.number.in_(list(numbers)))
    return query.order_by(h.c.number)


def assess(store: Any, plan: Any, year: int, *, households: Sequence[str] | None = None) -> list[Assessment]:
    """Assess every poor household of ``plan``'s villages (or only ``households``) for ``year``."""
    store.access.require("registry.read")
    with store.reading("registry.read") as conn:
        rows = conn.execute(_poor(store, plan, households)).all()
        return _assess_rows(store, conn, rows, year)


def record_exit(store: Any, number: str, year: int, *, on: dt.date, plan: Any = None) -> Assessment:
    """Record household ``number``'s exit on ``on`` after assessing it for ``year``.

    Refused (ValidationError listing the reasons) unless the assessment
    passes; nothing is written then. On success the assessment is stored as
    the exit's evidence and the status becomes 已脱贫(享受政策) from ``on``.
    """
    store.access.require("exits.write")
    with store.transaction("exits.write") as conn:
        store.access.require_household(conn, "exits.write", number)
        rows = conn.execute(_poor(store, plan, [number]).with_for_update()).all()
        if not rows:
            raise NotFound(f"户 {number} 不是未脱贫户 / not a poor household (or not in the plan's villages)")
        (found,) = _assess_rows(store, conn, rows, year)
        if not found.passed:
            raise ValidationError([Problem("exit", reason, number) for reason in found.reasons], record=f"household {number}")
        row = {
            "household_id": found.household_id, "year": year, "assessed_on": on, "income_per_capita_fen": found.income_per_capita_fen,
            "line_fen": found.line_fen, "jurisdiction": found.jurisdiction, "visit_id": found.visit_id,
            "criteria": found.criteria, "passed": True, "reasons": [], "unit": store.actor.unit, "user": store.actor.user,
        }
        exit_id = store._insert(conn, S.exit_assessments, row, number)
        store.update_household(number, {"status": EXITED}, effective=on, reason=f"脱贫评估 / exit assessment exit:{exit_id}")
    return found
