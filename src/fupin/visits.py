"""转走访: visits, the sentiment diary, cases, and the one definition of due and overdue.

The campaign rule (C10) is a plan's commitment with target
``core.visit_campaign``: pairing organised by ``pairing_by``, a first round of
visits by ``first_round_by``, then at least ``revisit_per_year`` visits to each
household in every later calendar year (the first round needs one visit per
household, whatever ``revisit_per_year`` says).

**What counts as a visit** (:func:`counted_visit`, the one definition used by
the check, the report and the worklist alike). A visit of a campaign
household counts when all of these hold:

- its kind is one of the plan's ``counts_as_visit`` (default 首轮走访, 回访:
  interviews in person; a 送温暖 gift visit brings gifts, not a questionnaire,
  and a phone call is not a visit);
- it is dated on or after the plan period's first day (the seed: the work runs
  "从2015年9月起"), never before: a visit from an earlier year proves nothing
  about this plan;
- at least one of its cadres is a cadre of the plan's helping unit or a unit
  below it (the seed: "学校领导要带领相关干部职工深入挂包村入户走访", so any
  cadre of the plan's units, not only the household's paired cadre);
- it names no other plan (``plan_name`` empty or this plan's);
- it meets the questionnaire rule of the plan's ``core.visit_questionnaire``
  commitment (C11), if the plan has one: a household-scope questionnaire the
  plan names (``title_zh`` or ``also_zh``), with answers, and a written record
  (``findings``) when ``visit_record`` is true.

The *campaign households* of a year are the households of the plan's villages
with a pairing (帮户) **of the plan** in force at some time in that year: a
pairing naming this plan or no plan, made with a cadre of the plan's units.

**Due and overdue** (used by the worklist, the check and the report alike).
For a campaign household on day D of year Y, with N(Y) the visits year Y
needs (1 in the first-round year, else ``revisit_per_year``):

- never visited (no counted visit up to D): the visit is due by
  ``first_round_by`` if the household was paired by then, else by its first
  pairing's start plus ``first_visit_days`` (default 60). Past that date it
  is *overdue*, otherwise *due*.
- visited before, with fewer than N(Y) counted visits in year Y so far: due by
  31 December of Y. It is *overdue* when year Y-1 had fewer than N(Y-1)
  counted visits, that is, it already missed last year; otherwise *due*.
- visited N(Y) times in year Y: not due.

Everything is computed in SQL (one aggregate over the visits), so a
province's worklist costs one query, not one per household: the worklist
computes :func:`due_status` in the database too (the tests hold the two to
the documented cases).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from fupin import model
from fupin.access import TRUE, AccessDenied
from fupin.errors import NotFound, Problem, ValidationError
from fupin.queries import plan_villages_condition
from fupin.serial import Serialisable
from fupin.storage import schema as S

#: Visit kinds that count as a visit for the campaign unless the plan says otherwise: interviews in person
#: (a 送温暖 visit brings gifts, not a questionnaire; a phone call is not a visit).
DEFAULT_COUNTING_KINDS = ("首轮走访", "回访")
#: Visit kinds that fill the interview questionnaire unless the plan's C11 says otherwise.
QUESTIONNAIRE_KINDS = ("首轮走访", "回访")
HOUSEHOLD_LEVEL = "帮户"
CAMPAIGN_TARGET = "core.visit_campaign"
QUESTIONNAIRE_TARGET = "core.visit_questionnaire"


@functools.cache
def _packaged_forms() -> tuple[tuple[str, str, frozenset[str]], ...]:
    """(key, scope, titles) of every packaged questionnaire (read once per process)."""
    from fupin.questionnaires import available_questionnaires, load_questionnaire

    out = []
    for name, version in available_questionnaires():
        q = load_questionnaire(name, version)
        out.append((q.key, q.scope, frozenset((q.title_zh, *q.also_zh))))
    return tuple(out)


def questionnaire_keys(entries: Iterable[Mapping[str, Any]] | None, scope: str) -> tuple[str, ...]:
    """The keys (``name@version``) of the stored questionnaires of ``scope`` the plan's ``questionnaires``
    entries name by title (``title_zh`` or ``also_zh``); every questionnaire of the scope when the plan names none."""
    forms = [(k, titles) for k, s, titles in _packaged_forms() if s == scope]
    if entries is None:
        return tuple(sorted(k for k, _ in forms))
    wanted = {t for e in entries if e.get("scope") == scope for t in (e.get("title_zh"), e.get("also_zh")) if t}
    return tuple(sorted(k for k, titles in forms if titles & wanted))


@attrs.frozen
class VisitForms:
    """C11's rule for an interview visit: the questionnaire of its scope, with answers, and a record if asked.

    Attributes:
        kinds: the visit kinds that fill a questionnaire (``visit_kinds``).
        household: keys of the household-scope questionnaires the plan names.
        village: keys of the village-scope questionnaires the plan names.
        visit_record: a visit needs its written record (``findings``).
        titles: the titles the plan names, by scope (for messages).
        commitment: the commitment's id.
    """

    kinds: tuple[str, ...] = QUESTIONNAIRE_KINDS
    household: tuple[str, ...] = ()
    village: tuple[str, ...] = ()
    visit_record: bool = False
    titles: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    commitment: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, Any], commitment: str = "", vocab: Any = None) -> VisitForms:
        """The rule from a ``core.visit_questionnaire`` commitment's parameters."""
        kinds = tuple(params.get("visit_kinds", QUESTIONNAIRE_KINDS))
        if vocab is not None:
            kinds = tuple(vocab.check("visit_kind", k, field="visit_kinds") for k in kinds)
        entries = params.get("questionnaires")
        titles = {scope: tuple(t for e in (entries or ()) if e.get("scope") == scope for t in (e.get("title_zh"), e.get("also_zh")) if t)
                  for scope in ("household", "village")}
        return cls(kinds, questionnaire_keys(entries, "household"), questionnaire_keys(entries, "village"),
                   bool(params.get("visit_record", False)), titles, commitment)

    @classmethod
    def of(cls, plan: Any, vocab: Any = None) -> VisitForms | None:
        """The rule of ``plan``'s ``core.visit_questionnaire`` commitment, or None when it has none."""
        for c in plan.commitments:
            if c.target == QUESTIONNAIRE_TARGET:
                return cls.from_params(c.params, c.id, vocab)
        return None

    def keys(self, scope: str) -> tuple[str, ...]:
        """The questionnaire keys that qualify for a visit of ``scope`` (``household`` or ``village``)."""
        return self.household if scope == "household" else self.village


@attrs.frozen
class CampaignRule:
    """The parameters of the 转走访 campaign, read from a plan's C10-like commitment (and its C11 questionnaire rule).

    Attributes:
        round_start: the first day a visit counts (the plan period's first day); None: any day.
        forms: the plan's questionnaire rule (C11) every counted visit must meet; None when the plan has none.
    """

    pairing_by: dt.date | None
    first_round_by: dt.date
    revisit_per_year: int = 1
    counts_as_visit: tuple[str, ...] = DEFAULT_COUNTING_KINDS
    first_visit_days: int = 60
    commitment: str = ""
    round_start: dt.date | None = None
    forms: VisitForms | None = None

    @classmethod
    def of(cls, plan: Any, vocab: Any = None) -> CampaignRule:
        """The rule of ``plan``: its commitment whose target is ``core.visit_campaign``."""
        for c in plan.commitments:
            if c.target == CAMPAIGN_TARGET:
                p = c.params
                kinds = tuple(p.get("counts_as_visit", DEFAULT_COUNTING_KINDS))
                if vocab is not None:
                    kinds = tuple(vocab.check("visit_kind", k, field="counts_as_visit") for k in kinds)
                return cls(
                    p.get("pairing_by"), p["first_round_by"], int(p.get("revisit_per_year", 1)), kinds,
                    int(p.get("first_visit_days", 60)), c.id, plan.period_start, VisitForms.of(plan, vocab),
                )
        raise NotFound(f"方案 {plan.name} 没有走访承诺 (core.visit_campaign) / the plan has no visit campaign")

    @property
    def first_year(self) -> int:
        """The year of the first round."""
        return self.first_round_by.year

    def visits_needed(self, year: int) -> int:
        """Counted visits a household needs in ``year``: one in the first round, ``revisit_per_year`` after it."""
        return 1 if year <= self.first_year else self.revisit_per_year

    def counts_from(self, start: dt.date) -> dt.date:
        """The first day of a window starting on ``start`` whose visits count (never before :attr:`round_start`)."""
        return max(start, self.round_start) if self.round_start else start


# -- SQL pieces shared by the worklist, the checks and the report ---------------------------------


def in_force_during(start: dt.date, end: dt.date) -> sa.ColumnElement[bool]:
    """SQL condition on ``pairings``: in force at some time between ``start`` and ``end``."""
    p = S.pairings
    return sa.and_(p.c.start_date <= end, sa.or_(p.c.end_date.is_(None), p.c.end_date >= start))


def plan_pairing(plan: Any, units: Iterable[str]) -> sa.ColumnElement[bool]:
    """SQL condition on ``pairings``: a 帮户 pairing of ``plan``: naming it or no plan, with a cadre of its units."""
    p, c = S.pairings, S.cadres
    # A correlated EXISTS (one primary-key probe per pairing), so a household's pairings are still found through
    # the index on household_id rather than by trying every cadre of the plan.
    ours = sa.exists().where(c.c.code == p.c.cadre_code, c.c.unit_code.in_(sorted(units)))
    return sa.and_(p.c.level == HOUSEHOLD_LEVEL, sa.or_(p.c.plan_name.is_(None), p.c.plan_name == plan.name), ours)


def visit_of_plan(plan: Any, units: Iterable[str]) -> sa.ColumnElement[bool]:
    """SQL condition on ``visits``: made for ``plan`` (naming it or no plan) by at least one cadre of its units."""
    v, vc, c = S.visits, S.visit_cadres, S.cadres
    by_ours = sa.exists().where(vc.c.visit_id == v.c.id, vc.c.cadre_code == c.c.code, c.c.unit_code.in_(sorted(units)))
    return sa.and_(sa.or_(v.c.plan_name.is_(None), v.c.plan_name == plan.name), by_ours)


def form_filled(forms: VisitForms | None, scope: str) -> sa.ColumnElement[bool]:
    """SQL condition on ``visits``: meets C11's rule for a visit of ``scope`` (always true without a rule)."""
    if forms is None:
        return sa.true()
    v = S.visits
    return sa.and_(
        v.c.questionnaire.in_(forms.keys(scope)), v.c.answers.isnot(None), sa.cast(v.c.answers, sa.Text).not_in(("null", "{}")),
        *([v.c.findings != ""] if forms.visit_record else []),
    )


def counted_visit(rule: CampaignRule, plan: Any, units: Iterable[str]) -> sa.ColumnElement[bool]:
    """SQL condition on ``visits``: a household visit that counts for the campaign (see the module docstring),
    dates apart: the caller bounds ``visit_date`` (through :meth:`CampaignRule.counts_from`)."""
    return sa.and_(S.visits.c.kind.in_(rule.counts_as_visit), visit_of_plan(plan, units), form_filled(rule.forms, "household"))


def campaign_households(plan: Any, start: dt.date, end: dt.date, units: Iterable[str]) -> sa.Select:
    """SELECT household_id, paired_from: households of the plan's villages with a pairing of the plan in force
    between the dates, and the start of their first such pairing ever (a transfer does not restart the clock)."""
    p, h = S.pairings, S.households
    ours = plan_pairing(plan, units)
    first = (
        sa.select(p.c.household_id, sa.func.min(p.c.start_date).label("paired_from"))
        .where(ours, p.c.start_date <= end)
        .group_by(p.c.household_id)
        .subquery()
    )
    in_force = sa.select(p.c.household_id).where(ours, in_force_during(start, end))
    return (
        sa.select(first.c.household_id.label("household_id"), first.c.paired_from)
        .join(h, h.c.id == first.c.household_id)
        .where(first.c.household_id.in_(in_force), plan_villages_condition(plan))
    )


def campaign_household_ids(plan: Any, start: dt.date, end: dt.date, units: Iterable[str]) -> sa.Select:
    """SELECT DISTINCT household_id: the households of :func:`campaign_households`, without the pairing date
    (cheaper: no pass over every pairing of each household)."""
    p, h = S.pairings, S.households
    return (
        sa.select(p.c.household_id.label("household_id"))
        .distinct()
        .join(h, h.c.id == p.c.household_id)
        .where(plan_pairing(plan, units), in_force_during(start, end), plan_villages_condition(plan))
    )


# -- the worklist -------------------------------------------------------------------------


@attrs.frozen
class DueItem(Serialisable):
    """One household on a cadre's worklist."""

    household: str
    head_name: str
    group_code: str
    cadres: tuple[str, ...]
    status: str  # "due" or "overdue"
    due_by: dt.date
    last_visit: dt.date | None
    days_overdue: int



def first_visit_due(rule: CampaignRule, paired_from: dt.date) -> dt.date:
    """When a household's first visit is due: the first-round deadline, or ``first_visit_days`` after a later pairing."""
    return rule.first_round_by if paired_from <= rule.first_round_by else paired_from + dt.timedelta(days=rule.first_visit_days)


def visit_deadline(rule: CampaignRule, year: int, paired_from: dt.date) -> dt.date:
    """The day a household's visit of ``year`` is due: its first visit in the first-round year, else 31 December."""
    return first_visit_due(rule, paired_from) if year <= rule.first_year else dt.date(year, 12, 31)


def due_status(
    rule: CampaignRule, as_of: dt.date, paired_from: dt.date, last_visit: dt.date | None,
    *, this_year: int | None = None, last_year: int | None = None,
) -> tuple[str, dt.date] | None:
    """The one definition of due and overdue (see the module docstring): (status, due by) or None.

    ``this_year`` and ``last_year`` are the counted visits of the year of ``as_of`` (up to it) and of the year
    before; without them, one visit is assumed in the year of ``last_visit`` (enough while ``revisit_per_year`` is 1).
    """
    if last_visit is None:
        due_by = first_visit_due(rule, paired_from)
        return ("overdue" if as_of > due_by else "due"), due_by
    year = as_of.year
    if this_year is None:
        this_year = int(last_visit.year == year)
    if last_year is None:
        last_year = int(last_visit.year == year - 1)
    if this_year >= rule.visits_needed(year):
        return None
    return ("overdue" if last_year < rule.visits_needed(year - 1) else "due"), dt.date(year, 12, 31)


def due_list(store: Any, plan: Any, *, as_of: dt.date, cadre: str | None = None, permission: str = "registry.read") -> list[DueItem]:
    """Households of ``plan`` due or overdue for a visit on ``as_of``, overdue first.

    With ``cadre``, only that cadre's households (pairings in force on ``as_of``).
    The actor sees the households its ``registry.read`` scope reaches. The yearly
    report, which shows only counts of the list, passes ``permission="aggregates.read"``.
    """
    from fupin.queries import plan_units, split

    store.access.require(permission)
    rule = CampaignRule.of(plan, store.vocab)
    scope = store.access.household_condition(permission)
    with store.reading(permission) as conn:
        units = plan_units(conn, plan)
        rows = conn.execute(_due_query(plan, rule, units, as_of, cadre, scope, conn.dialect)).all()
    return [
        DueItem(number, head, group, tuple(sorted(split(cadres))), status, due_by, last, late)
        for number, head, group, cadres, status, due_by, last, late in rows
    ]


def _due_query(plan: Any, rule: CampaignRule, units: list[str], as_of: dt.date, cadre: str | None, scope: Any, dialect: sa.Dialect) -> sa.Select:
    """The worklist as one statement: :func:`due_status` and the days overdue computed, and the rows
    sorted, by the database (a province's worklist has hundreds of thousands of rows)."""
    from fupin.queries import days_between, joined, materialized, plus_days, year_end_after

    h, p, v = S.households, S.pairings, S.visits
    year = as_of.year
    camp = campaign_households(plan, dt.date(year, 1, 1), as_of, units).subquery()
    counted = counted_visit(rule, plan, units)

    def visits(agg: Any, start: dt.date, end: dt.date) -> sa.ScalarSelect:
        # Per household, through the (household_id, visit_date) index.
        return sa.select(agg).where(v.c.household_id == camp.c.household_id, counted, v.c.visit_date >= rule.counts_from(start),
                                    v.c.visit_date <= end).scalar_subquery()

    ever = rule.round_start or dt.date(1, 1, 1)
    last_visit = visits(sa.func.max(v.c.visit_date), ever, as_of)
    this_year = visits(sa.func.count(), dt.date(year, 1, 1), as_of)
    last_year = visits(sa.func.count(), dt.date(year - 1, 1, 1), dt.date(year - 1, 12, 31))
    in_force = sa.and_(p.c.level == HOUSEHOLD_LEVEL, p.c.start_date <= as_of, sa.or_(p.c.end_date.is_(None), p.c.end_date >= as_of))
    cadres = sa.select(joined(p.c.cadre_code)).where(p.c.household_id == camp.c.household_id, in_force, plan_pairing(plan, units)).scalar_subquery()
    seen = materialized(
        sa.select(camp.c.household_id, camp.c.paired_from, last_visit.label("last_visit"), this_year.label("this_year"),
                  last_year.label("last_year"), cadres.label("cadres"))
        .where(*([camp.c.household_id.in_(sa.select(p.c.household_id).where(in_force, p.c.cadre_code == cadre))] if cadre else []))
        .cte("seen"),
        dialect,
    )
    day = lambda d: sa.literal(d, sa.Date)  # noqa: E731
    never = seen.c.last_visit.is_(None)
    first_due = sa.case((seen.c.paired_from <= rule.first_round_by, day(rule.first_round_by)),
                        else_=plus_days(seen.c.paired_from, rule.first_visit_days))
    due_by = sa.case((never, first_due), else_=day(dt.date(year, 12, 31)))
    overdue = sa.or_(sa.and_(never, day(as_of) > first_due),
                     sa.and_(sa.not_(never), seen.c.last_year < rule.visits_needed(year - 1)))
    # Overdue since the end of the last year it missed: the year after its last visit, at the latest last year.
    missed = year_end_after(seen.c.last_visit)
    prev_end = day(dt.date(year - 1, 12, 31))
    late = sa.case((sa.not_(overdue), 0), (never, days_between(day(as_of), first_due)),
                   (missed < prev_end, days_between(day(as_of), missed)), else_=days_between(day(as_of), prev_end))
    listed = (
        sa.select(h.c.number, h.c.head_name, h.c.group_code, seen.c.cadres, sa.case((overdue, "overdue"), else_="due").label("status"),
                  due_by.label("due_by"), seen.c.last_visit, late.label("late"))
        .join(h, h.c.id == seen.c.household_id)
        .where(sa.or_(never, seen.c.this_year < rule.visits_needed(year)))
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
