"""转走访: visits, the sentiment diary, cases, and the one definition of due and overdue.

The campaign rule (C10) is a plan's commitment with target
``core.visit_campaign``: pairing organised by ``pairing_by``, a first round of
visits by ``first_round_by``, then at least ``revisit_per_year`` visits to each
household in every calendar year. Which visit kinds count is the parameter
``counts_as_visit`` (default 首轮走访, 回访, 送温暖: visits in person; a phone
call is not a visit).

**Due and overdue** (used by the worklist, the check and the report alike).
The *campaign households* of a year are the households of the plan's villages
with a cadre pairing (帮户) in force at some time in that year. For such a
household on day D of year Y:

- never visited (no counting visit up to D): the visit is due by
  ``first_round_by`` if the household was paired by then, else by its first
  pairing's start plus ``first_visit_days`` (default 60). Past that date it
  is *overdue*, otherwise *due*.
- visited before, but not yet in year Y: due by 31 December of Y. It is
  *overdue* when its last visit is before 1 January of Y-1, that is, it
  already missed the whole of last year; otherwise *due*.
- visited in year Y: not due.

Everything is computed in SQL (one aggregate over the visits), so a
province's worklist costs one query, not one per household: the worklist
computes :func:`due_status` in the database too (the tests hold the two to
the documented cases).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import attrs
import sqlalchemy as sa

from fupin import model
from fupin.access import TRUE, AccessDenied
from fupin.errors import NotFound, Problem, ValidationError
from fupin.queries import plan_villages_condition
from fupin.storage import schema as S

#: Visit kinds that count as a visit for the campaign unless the plan says otherwise.
DEFAULT_COUNTING_KINDS = ("首轮走访", "回访", "送温暖")
HOUSEHOLD_LEVEL = "帮户"


@attrs.frozen
class CampaignRule:
    """The parameters of the 转走访 campaign, read from a plan's C10-like commitment."""

    pairing_by: dt.date | None
    first_round_by: dt.date
    revisit_per_year: int = 1
    counts_as_visit: tuple[str, ...] = DEFAULT_COUNTING_KINDS
    first_visit_days: int = 60
    commitment: str = ""

    @classmethod
    def of(cls, plan: Any, vocab: Any = None) -> CampaignRule:
        """The rule of ``plan``: its commitment whose target is ``core.visit_campaign``."""
        for c in plan.commitments:
            if c.target == "core.visit_campaign":
                p = c.params
                kinds = tuple(p.get("counts_as_visit", DEFAULT_COUNTING_KINDS))
                if vocab is not None:
                    kinds = tuple(vocab.check("visit_kind", k, field="counts_as_visit") for k in kinds)
                return cls(
                    p.get("pairing_by"), p["first_round_by"], int(p.get("revisit_per_year", 1)), kinds,
                    int(p.get("first_visit_days", 60)), c.id,
                )
        raise NotFound(f"方案 {plan.name} 没有走访承诺 (core.visit_campaign) / the plan has no visit campaign")

    @property
    def first_year(self) -> int:
        """The year of the first round."""
        return self.first_round_by.year


# -- SQL pieces shared by the worklist, the checks and the report ---------------------------------


def in_force_during(start: dt.date, end: dt.date) -> sa.ColumnElement[bool]:
    """SQL condition on ``pairings``: in force at some time between ``start`` and ``end``."""
    p = S.pairings
    return sa.and_(p.c.start_date <= end, sa.or_(p.c.end_date.is_(None), p.c.end_date >= start))


def campaign_households(plan: Any, start: dt.date, end: dt.date) -> sa.Select:
    """SELECT household_id, paired_from: households of the plan's villages with a pairing (帮户) in force
    between the dates, and the start of their first pairing ever (a transfer does not restart the clock)."""
    p, h = S.pairings, S.households
    first = (
        sa.select(p.c.household_id, sa.func.min(p.c.start_date).label("paired_from"))
        .where(p.c.level == HOUSEHOLD_LEVEL, p.c.start_date <= end)
        .group_by(p.c.household_id)
        .subquery()
    )
    in_force = sa.select(p.c.household_id).where(p.c.level == HOUSEHOLD_LEVEL, in_force_during(start, end))
    return (
        sa.select(first.c.household_id.label("household_id"), first.c.paired_from)
        .join(h, h.c.id == first.c.household_id)
        .where(first.c.household_id.in_(in_force), plan_villages_condition(plan))
    )


def campaign_household_ids(plan: Any, start: dt.date, end: dt.date) -> sa.Select:
    """SELECT DISTINCT household_id: the households of :func:`campaign_households`, without the pairing date
    (cheaper: no pass over every pairing of each household)."""
    p, h = S.pairings, S.households
    return (
        sa.select(p.c.household_id.label("household_id"))
        .distinct()
        .join(h, h.c.id == p.c.household_id)
        .where(p.c.level == HOUSEHOLD_LEVEL, in_force_during(start, end), plan_villages_condition(plan))
    )


# -- the worklist -------------------------------------------------------------------------


class DueItem(NamedTuple):
    """One household on a cadre's worklist (a named tuple: a province's worklist has hundreds of thousands)."""

    household: str
    head_name: str
    group_code: str
    cadres: tuple[str, ...]
    status: str  # "due" or "overdue"
    due_by: dt.date
    last_visit: dt.date | None
    days_overdue: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out = self._asdict()
        out["due_by"] = self.due_by.isoformat()
        out["last_visit"] = self.last_visit.isoformat() if self.last_visit else None
        out["cadres"] = list(self.cadres)
        return out


def first_visit_due(rule: CampaignRule, paired_from: dt.date) -> dt.date:
    """When a household's first visit is due: the first-round deadline, or ``first_visit_days`` after a later pairing."""
    return rule.first_round_by if paired_from <= rule.first_round_by else paired_from + dt.timedelta(days=rule.first_visit_days)


def visit_deadline(rule: CampaignRule, year: int, paired_from: dt.date) -> dt.date:
    """The day a household's visit of ``year`` is due: its first visit in the first-round year, else 31 December."""
    return first_visit_due(rule, paired_from) if year <= rule.first_year else dt.date(year, 12, 31)


def due_status(rule: CampaignRule, as_of: dt.date, paired_from: dt.date, last_visit: dt.date | None) -> tuple[str, dt.date] | None:
    """The one definition of due and overdue (see the module docstring): (status, due by) or None."""
    if last_visit is None:
        due_by = first_visit_due(rule, paired_from)
        return ("overdue" if as_of > due_by else "due"), due_by
    if last_visit.year >= as_of.year:
        return None
    due_by = dt.date(as_of.year, 12, 31)
    return ("overdue" if last_visit < dt.date(as_of.year - 1, 1, 1) else "due"), due_by


def due_list(store: Any, plan: Any, *, as_of: dt.date, cadre: str | None = None) -> list[DueItem]:
    """Households of ``plan`` due or overdue for a visit on ``as_of``, overdue first.

    With ``cadre``, only that cadre's households (pairings in force on ``as_of``).
    The actor sees the households its ``registry.read`` scope reaches.
    """
    from fupin.queries import split

    store.access.require("registry.read")
    rule = CampaignRule.of(plan, store.vocab)
    scope = store.access.household_condition("registry.read")
    with store.reading("registry.read") as conn:
        rows = conn.execute(_due_query(plan, rule, as_of, cadre, scope, conn.dialect)).all()
    return [
        DueItem(number, head, group, tuple(sorted(split(cadres))), status, due_by, last, late)
        for number, head, group, cadres, status, due_by, last, late in rows
    ]


def _due_query(plan: Any, rule: CampaignRule, as_of: dt.date, cadre: str | None, scope: Any, dialect: sa.Dialect) -> sa.Select:
    """The worklist as one statement: :func:`due_status` and the days overdue computed, and the rows
    sorted, by the database (a province's worklist has hundreds of thousands of rows)."""
    from fupin.queries import days_between, joined, materialized, plus_days, year_end_after

    h, p, v = S.households, S.pairings, S.visits
    camp = campaign_households(plan, dt.date(as_of.year, 1, 1), as_of).subquery()
    # Per household, through the (household_id, visit_date) index: its last counting visit, its cadres now.
    last_visit = (
        sa.select(sa.func.max(v.c.visit_date))
        .where(v.c.household_id == camp.c.household_id, v.c.kind.in_(rule.counts_as_visit), v.c.visit_date <= as_of)
        .scalar_subquery()
    )
    in_force = sa.and_(p.c.level == HOUSEHOLD_LEVEL, p.c.start_date <= as_of, sa.or_(p.c.end_date.is_(None), p.c.end_date >= as_of))
    cadres = sa.select(joined(p.c.cadre_code)).where(p.c.household_id == camp.c.household_id, in_force).scalar_subquery()
    seen = materialized(
        sa.select(camp.c.household_id, camp.c.paired_from, last_visit.label("last_visit"), cadres.label("cadres"))
        .where(*([camp.c.household_id.in_(sa.select(p.c.household_id).where(in_force, p.c.cadre_code == cadre))] if cadre else []))
        .cte("seen"),
        dialect,
    )
    day = lambda d: sa.literal(d, sa.Date)  # noqa: E731
    never = seen.c.last_visit.is_(None)
    first_due = sa.case((seen.c.paired_from <= rule.first_round_by, day(rule.first_round_by)),
                        else_=plus_days(seen.c.paired_from, rule.first_visit_days))
    due_by = sa.case((never, first_due), else_=day(dt.date(as_of.year, 12, 31)))
    overdue = sa.or_(sa.and_(never, day(as_of) > first_due), sa.and_(sa.not_(never), seen.c.last_visit < dt.date(as_of.year - 1, 1, 1)))
    # Overdue is after the day it was due by (visited: 31 December of the year after the last visit), so never negative.
    late = sa.case((sa.not_(overdue), 0), (never, days_between(day(as_of), first_due)),
                   else_=days_between(day(as_of), year_end_after(seen.c.last_visit)))
    listed = (
        sa.select(h.c.number, h.c.head_name, h.c.group_code, seen.c.cadres, sa.case((overdue, "overdue"), else_="due").label("status"),
                  due_by.label("due_by"), seen.c.last_visit, late.label("late"))
        .join(h, h.c.id == seen.c.household_id)
        .where(sa.or_(never, seen.c.last_visit < dt.date(as_of.year, 1, 1)))
    )
    if scope is not TRUE:
        listed = listed.where(h.c.id.in_(sa.select(h.c.id).where(scope)))
    listed = listed.subquery()
    # Overdue ("overdue" > "due") first, the longest overdue first.
    return sa.select(listed).order_by(listed.c.status.desc(), listed.c.late.desc(), listed.c.due_by, listed.c.number)


# -- recording ------------------------------------------------------------------------------


def _target_checks(store: Any, conn: sa.Connection, household: str | None, village: str | None) -> int | None:
    """Access for a record about ``household`` or ``village``; returns the household id."""
    if household is not None:
        store.access.require_household(conn, "visits.write", household)
        return conn.execute(sa.select(S.households.c.id).where(S.households.c.number == household)).scalar_one()
    store.access.require("visits.write")
    if village is not None and not store.access.group_allowed("visits.write", village):
        raise AccessDenied(store.actor, "visits.write", f"村 {village} 不在权限范围内 / village outside your scope")
    return None


def _known(conn: sa.Connection, column: sa.Column, values: Sequence[str | None], field: str) -> list[Problem]:
    wanted = {v for v in values if v is not None}
    found = set(conn.execute(sa.select(column).where(column.in_(sorted(wanted)))).scalars()) if wanted else set()
    return [Problem(field, "未登记 / not registered", v) for v in sorted(wanted - found)]


def new_ref(prefix: str, day: dt.date) -> str:
    """A fresh record number: ``PREFIX-YYYYMMDD-xxxxxxxx``."""
    return f"{prefix}-{day:%Y%m%d}-{uuid.uuid4().hex[:8]}"


def record_visit(store: Any, visit: model.Visit) -> int:
    """Store a visit; returns its id. The answers must fit the questionnaire the visit names."""
    from fupin.questionnaires import load_questionnaire

    with store.transaction("visits.write") as conn:
        household_id = _target_checks(store, conn, visit.household, visit.village)
        problems = _known(conn, S.cadres.c.code, visit.cadres, "cadres")
        problems += _known(conn, S.areas.c.code, [visit.village], "village") + _known(conn, S.plans.c.name, [visit.plan], "plan")
        answers = visit.answers
        if visit.questionnaire:
            name, _, version = visit.questionnaire.partition("@")
            q = load_questionnaire(name, int(version))
            if (q.scope == "household") != (visit.household is not None):
                problems.append(Problem("questionnaire", f"问卷 {q.key} 用于{q.scope} / questionnaire is for a {q.scope}", visit.questionnaire))
            if answers:
                try:
                    answers = q.clean(answers)
                except ValidationError as exc:
                    problems += exc.problems
        if store._exists(conn, S.visits.c.ref, visit.ref):
            problems.append(Problem("ref", "走访编号已存在 / a visit with this number is already recorded", visit.ref))
        store._validate(visit, "visit", problems)
        row = {
            "ref": visit.ref, "visit_date": visit.date, "kind": visit.kind, "household_id": household_id,
            "village_code": visit.village, "plan_name": visit.plan, "questionnaire": visit.questionnaire,
            "answers": answers, "findings": visit.findings, "problems": visit.problems, "follow_up": visit.follow_up,
        }
        visit_id = store._insert(conn, S.visits, row, visit.ref)
        conn.execute(S.visit_cadres.insert(), [{"visit_id": visit_id, "cadre_code": c} for c in sorted(set(visit.cadres))])
        return visit_id


def add_diary_entry(store: Any, entry: model.DiaryEntry) -> int:
    """Store a 民情日记 entry (or a talk, visitor, report, opinion, case follow-up); returns its id."""
    with store.transaction("visits.write") as conn:
        household_id = _target_checks(store, conn, entry.household, entry.village)
        problems = _known(conn, S.cadres.c.code, [entry.cadre], "cadre") + _known(conn, S.areas.c.code, [entry.village], "village")
        problems += _known(conn, S.cases.c.ref, [entry.case_ref], "case_ref")
        if store._exists(conn, S.diary_entries.c.ref, entry.ref):
            problems.append(Problem("ref", "编号已存在 / already recorded", entry.ref))
        store._validate(entry, "diary_entry", problems)
        row = {
            "ref": entry.ref, "entry_date": entry.date, "cadre_code": entry.cadre, "kind": entry.kind,
            "household_id": household_id, "village_code": entry.village, "case_ref": entry.case_ref,
            "text": entry.text, "problems": entry.problems, "follow_up": entry.follow_up,
        }
        return store._insert(conn, S.diary_entries, row, entry.ref)


def open_case(store: Any, case: model.Case) -> int:
    """Open (store) a case; returns its id."""
    with store.transaction("visits.write") as conn:
        household_id = _target_checks(store, conn, case.household, case.village)
        problems = _known(conn, S.cadres.c.code, [case.cadre], "cadre") + _known(conn, S.areas.c.code, [case.village], "village")
        if store._exists(conn, S.cases.c.ref, case.ref):
            problems.append(Problem("ref", "案件编号已存在 / already recorded", case.ref))
        store._validate(case, "case", problems)
        row = {
            "ref": case.ref, "kind": case.kind, "opened": case.opened, "cadre_code": case.cadre, "household_id": household_id,
            "village_code": case.village, "summary": case.summary, "status": case.status, "closed": case.closed,
            "resolution": case.resolution,
        }
        return store._insert(conn, S.cases, row, case.ref)


def close_case(store: Any, ref: str, *, closed: dt.date, resolution: str) -> None:
    """Close a case with its resolution (the audit log keeps the change)."""
    if not resolution.strip():
        raise ValidationError.of("resolution", "办结须填写办理结果 / closing a case needs its resolution")
    with store.transaction("visits.write") as conn:
        row = conn.execute(sa.select(S.cases).where(S.cases.c.ref == ref).with_for_update()).mappings().first()
        if row is None:
            raise NotFound(f"案件 {ref} 不存在 / no such case")
        number = None
        if row["household_id"] is not None:
            number = conn.execute(sa.select(S.households.c.number).where(S.households.c.id == row["household_id"])).scalar_one()
        _target_checks(store, conn, number, row["village_code"])
        if row["status"] == "已办结":
            raise ValidationError.of("status", f"案件已于 {row['closed']} 办结 / already closed", ref)
        if closed < row["opened"]:
            raise ValidationError.of("closed", "早于受理日期 / before the case was opened", closed.isoformat())
        new = {"status": "已办结", "closed": closed, "resolution": resolution}
        conn.execute(S.cases.update().where(S.cases.c.id == row["id"]).values(**new, version=row["version"] + 1))
        store._audit(conn, "update", S.cases, ref, {k: row[k] for k in new}, new)


def latest_answers(conn: sa.Connection, household_ids: Sequence[int], until: dt.date) -> dict[int, tuple[int, dt.date, str, Mapping[str, Any]]]:
    """Household id -> (visit id, date, questionnaire, answers) of its latest visit with answers up to ``until``."""
    v = S.visits
    out: dict[int, tuple[int, dt.date, str, Mapping[str, Any]]] = {}
    ids = list(household_ids)
    for i in range(0, len(ids), 900):
        rows = conn.execute(
            sa.select(v.c.id, v.c.household_id, v.c.visit_date, v.c.questionnaire, v.c.answers)
            .where(v.c.household_id.in_(ids[i : i + 900]), v.c.answers.isnot(None), v.c.visit_date <= until)
            .order_by(v.c.household_id, v.c.visit_date, v.c.id)
        )
        for r in rows:
            if r.answers:
                out[r.household_id] = (r.id, r.visit_date, r.questionnaire, r.answers)
    return out
