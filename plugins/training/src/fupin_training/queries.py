"""The stream's figures, counted in SQL: sessions per technique, skills, coverage, party training, research.

Every function takes a connection and the :class:`Tables` of a store (from
``store.table(NAME)``, the public way to the schema: the same Table objects
``store.access`` conditions are written against), so targets, the report and
the commands share one definition of each figure.

Skills (C21): a person masters a technique when a passed assessment of it is
recorded (``training.skill_assessment``), or when they attended at least the
plan's ``skill_hours`` of its sessions (``training.agri_session``) up to the
day. A household's techniques are its members'. The households counted are
the plan's villages' households registered poor by the day (建档立卡户, those
exited since included), or, with
C21's ``households = "poor"``, those still poor on the day. Only the plan's own
sessions and assessments count (:func:`plan_work`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa

from fupin.ext import POOR_STATUSES, count_if, joined, key, own_records, plan_units, plan_villages_condition, split

from fupin_training import catalogue as cat
from fupin_training.kinds import AGRI_SESSION, PARTY_TRAINING, PASS, RESEARCH_PROJECT, SKILL_ASSESSMENT, TRAINING_PLAN

#: The parameters the queries read, and the commitment each belongs to (its target, parameter name there).
SETTINGS: Mapping[str, tuple[str, str]] = {
    "skill_hours": ("training.household_skills", "skill_hours"),
    "skill_households": ("training.household_skills", "households"),
    "sessions_per_area": ("training.agri_courses", "min_sessions"),
    "party_sessions_per_year": ("training.party_cadre_training", "min_sessions"),
    "research_projects_per_year": ("training.research_projects", "per_year"),
}


def settings(plan: Any) -> dict[str, Any]:
    """The parameters the queries read, from the plan's commitments (each its declared default when not set).

    They live in the commitments' ``params`` (typed, validated when the plan is
    loaded); a check reads them through ``ctx.param`` as well, so it records them.
    """
    return {name: commitment_param(plan, target, key) for name, (target, key) in SETTINGS.items()}


def commitment_param(plan: Any, target: str, name: str) -> Any:
    """Parameter ``name`` of ``plan``'s commitment naming ``target``, else its declared default (for the report,
    the commands and the demo, which have no check context)."""
    from fupin_training.targets import targets

    spec = next(t for t in targets() if t.name == target)
    c = next((c for c in (getattr(plan, "commitments", None) or ()) if c.target == target), None)
    return c.params[name] if c is not None and name in c.params else spec.param(name).default


@attrs.frozen
class Tables:
    """The core tables the plugin reads, from a store's metadata."""

    actions: sa.Table
    beneficiaries: sa.Table
    persons: sa.Table
    households: sa.Table
    status: sa.Table
    areas: sa.Table

    @classmethod
    def of(cls, store: Any) -> Tables:
        """The tables of ``store`` (``store.table(NAME)``)."""
        t = store.table
        return cls(t("support_actions"), t("action_beneficiaries"), t("persons"), t("households"), t("household_status"), t("areas"))


def technique_of(t: Tables) -> sa.ColumnElement[str]:
    """SQL: the technique code in an action's details."""
    return t.actions.c.details["technique"].as_string()


def hours_of(t: Tables) -> sa.ColumnElement[float]:
    """SQL: an action's hours (``quantities.hours``), 0 when not given (a float: SQLite has no decimals)."""
    return sa.func.coalesce(sa.cast(t.actions.c.quantities["hours"].as_string(), sa.Float), 0.0)


def detail(t: Tables, name: str) -> sa.ColumnElement[str]:
    """SQL: a text detail of an action."""
    return t.actions.c.details[name].as_string()


# -- C20: sessions -------------------------------------------------------------------------------


@attrs.frozen
class AreaFigures:
    """Sessions of one technique area in a period."""

    area: str
    sessions: int = 0
    hours: Decimal = Decimal(0)
    attendances: int = 0
    refs: tuple[str, ...] = ()


def in_plan_villages(t: Tables, plan: Any) -> sa.ColumnElement[bool]:
    """SQL condition on actions: about the plan's villages, by a ``village:CODE`` beneficiary of them, a villager
    group of them (``details.group``), or a ``person:ID`` beneficiary of one of their households."""
    # An alias: the outer query may join the beneficiaries itself (attendances), and must not be correlated to them.
    a, b, p, h = t.actions, t.beneficiaries.alias("about"), t.persons, t.households
    codes = sorted(v.code for v in plan.villages)
    people = sa.select(p.c.id_number).join(h, h.c.id == p.c.household_id).where(plan_villages_condition(plan))
    return sa.or_(
        sa.exists().where(b.c.action_id == a.c.id, b.c.type == "village", b.c.ref.in_(codes)),
        sa.func.substr(sa.func.coalesce(detail(t, "group"), ""), 1, 12).in_(codes),
        sa.exists().where(b.c.action_id == a.c.id, b.c.type == "person", b.c.ref.in_(people)),
    )


def named_attendees(t: Tables) -> sa.ScalarSelect[int]:
    """SQL: the persons an action names as beneficiaries (its attendees)."""
    b = t.beneficiaries.alias("named")
    return sa.select(sa.func.count()).where(b.c.action_id == t.actions.c.id, b.c.type == "person").scalar_subquery()


def session_conditions(t: Tables, plan: Any, units: Iterable[str], start: dt.date, end: dt.date,
                       min_hours: float = 0, min_attendees: int = 0) -> tuple[sa.ColumnElement[bool], ...]:
    """C20's sessions: the plan's own, started between the dates, in its villages, with the hours and named attendees needed."""
    a = t.actions
    out = (a.c.kind == AGRI_SESSION, own_records(a, plan, units), a.c.start_date >= start, a.c.start_date <= end, in_plan_villages(t, plan))
    if min_hours:
        out += (hours_of(t) >= float(min_hours),)
    if min_attendees:
        out += (named_attendees(t) >= int(min_attendees),)
    return out


def sessions_by_area(conn: sa.Connection, t: Tables, plan: Any, units: Iterable[str], start: dt.date, end: dt.date,
                     min_hours: float = 0, min_attendees: int = 0) -> dict[str, AreaFigures]:
    """Technique area -> the plan's sessions (:func:`session_conditions`) held between the dates, their hours,
    attendances (person-times) and refs."""
    a, b = t.actions, t.beneficiaries
    where = session_conditions(t, plan, units, start, end, min_hours, min_attendees)
    tech = technique_of(t)
    rows = conn.execute(
        sa.select(tech.label("technique"), sa.func.count(), sa.func.sum(hours_of(t)), joined(a.c.ref)).where(*where).group_by(tech)
    ).all()
    seen = dict(conn.execute(
        sa.select(tech, sa.func.count()).select_from(a.join(b, b.c.action_id == a.c.id)).where(*where, b.c.type == "person").group_by(tech)
    ).all())
    out: dict[str, AreaFigures] = {}
    for technique, n, hours, refs in rows:
        area = cat.area_of(technique or "")
        old = out.get(area, AreaFigures(area))
        out[area] = AreaFigures(area, old.sessions + n, old.hours + Decimal(str(hours or 0)), old.attendances + seen.get(technique, 0),
                                tuple(sorted((*old.refs, *split(refs)))))
    return out


def attendees(conn: sa.Connection, t: Tables, plan: Any, units: Iterable[str], start: dt.date, end: dt.date,
              min_hours: float = 0, min_attendees: int = 0) -> int:
    """Distinct persons who attended one of the plan's sessions (:func:`session_conditions`) between the dates."""
    a, b = t.actions, t.beneficiaries
    return conn.execute(
        sa.select(sa.func.count(sa.distinct(b.c.ref))).select_from(a.join(b, b.c.action_id == a.c.id))
        .where(*session_conditions(t, plan, units, start, end, min_hours, min_attendees), b.c.type == "person")
    ).scalar_one()


def any_recorded(conn: sa.Connection, t: Tables, plan: Any, units: Iterable[str], *kinds: str) -> bool:
    """Whether any action of ``kinds`` is recorded for the plan at all."""
    a = t.actions
    return conn.execute(sa.select(sa.literal(1)).where(a.c.kind.in_(kinds), own_records(t.actions, plan, units)).limit(1)).first() is not None


# -- C21: skills ---------------------------------------------------------------------------------


def plan_work(t: Tables, plan: Any, units: Iterable[str]) -> sa.ColumnElement[bool]:
    """SQL condition on actions: the plan's own (one of its units registered it naming the plan) and dated in its period.

    A technique learnt in another unit's course, in a course for another plan, or
    before the plan began is not the plan's work (C21).
    """
    return sa.and_(own_records(t.actions, plan, units), t.actions.c.start_date >= plan.period_start)


def person_skills(t: Tables, day: dt.date, skill_hours: Any, mine: sa.ColumnElement[bool]) -> sa.Subquery:
    """SQL: (person ID number, technique, how) mastered by ``day`` through the actions ``mine`` selects
    (:func:`plan_work`): a passed assessment, or enough hours."""
    a, b = t.actions, t.beneficiaries
    tech = technique_of(t)
    by_hours = (
        sa.select(b.c.ref.label("person"), tech.label("technique"), sa.literal("hours").label("how"))
        .select_from(a.join(b, b.c.action_id == a.c.id))
        .where(a.c.kind == AGRI_SESSION, a.c.start_date <= day, b.c.type == "person", mine)
        .group_by(b.c.ref, tech)
        .having(sa.func.sum(hours_of(t)) >= float(skill_hours))
    )
    by_assessment = (
        sa.select(b.c.ref.label("person"), tech.label("technique"), sa.literal("assessment").label("how"))
        .select_from(a.join(b, b.c.action_id == a.c.id))
        .where(a.c.kind == SKILL_ASSESSMENT, a.c.start_date <= day, b.c.type == "person", detail(t, "result") == PASS, mine)
    )
    return sa.union_all(by_hours, by_assessment).subquery("skills")


def counted_households(t: Tables, plan: Any, day: dt.date, which: str = "registered") -> sa.Select:
    """SELECT id of the households C21 counts on ``day``: registered poor by then, or (``"poor"``) poor on the day."""
    hs, h = t.status, t.households
    if which == "poor":
        ranked = sa.select(
            hs.c.household_id, hs.c.status,
            sa.func.row_number().over(partition_by=hs.c.household_id, order_by=(hs.c.effective.desc(), hs.c.id.desc())).label("n"),
        ).where(hs.c.effective <= day).subquery()
        poor = sa.select(ranked.c.household_id).where(ranked.c.n == 1, ranked.c.status.in_(POOR_STATUSES))
    else:
        poor = sa.select(hs.c.household_id).where(hs.c.effective <= day, hs.c.status.in_(POOR_STATUSES))
    return sa.select(h.c.id).where(plan_villages_condition(plan), h.c.id.in_(poor))


def household_skill_counts(t: Tables, day: dt.date, skill_hours: Any, mine: sa.ColumnElement[bool]) -> sa.Subquery:
    """SQL: household id -> number of distinct techniques its members master by ``day`` (through the actions ``mine`` selects)."""
    p = t.persons
    skills = person_skills(t, day, skill_hours, mine)
    return (
        sa.select(p.c.household_id, sa.func.count(sa.distinct(skills.c.technique)).label("n"))
        .join(p, p.c.id_number == skills.c.person)
        .group_by(p.c.household_id)
        .subquery("household_skills")
    )


@attrs.frozen
class Coverage:
    """C21 on one day: households counted, with >= 1 and >= 2 techniques, and the records proving it."""

    day: dt.date
    households: int
    with_one: int
    with_two: int
    evidence: tuple[str, ...] = ()

    @property
    def without(self) -> int:
        """Households without any technique."""
        return self.households - self.with_one

    def share(self, n: int) -> float:
        """``n`` as a share of the households counted (0 when none)."""
        return n / self.households if self.households else 0.0


def coverage(conn: sa.Connection, t: Tables, plan: Any, day: dt.date, *, evidence: bool = True) -> Coverage:
    """C21's figures on ``day`` in two statements (figures, then the evidence keys joined in the database)."""
    s = settings(plan)
    mine = plan_work(t, plan, plan_units(conn, plan))
    counted = counted_households(t, plan, day, s["skill_households"]).subquery("counted")
    hsk = household_skill_counts(t, day, s["skill_hours"], mine)
    n = sa.func.coalesce(hsk.c.n, 0)
    households, one, two = conn.execute(
        sa.select(sa.func.count(), count_if(n >= 1), count_if(n >= 2)).select_from(counted.outerjoin(hsk, hsk.c.household_id == counted.c.id))
    ).one()
    refs: list[str] = []
    if evidence and one:
        refs = split(conn.execute(sa.select(joined(key("action", _skill_refs(t, plan, day, s, mine).c.ref)))).scalar())
    return Coverage(day, households, one, two, tuple(sorted(refs)))


def _skill_refs(t: Tables, plan: Any, day: dt.date, s: Mapping[str, Any], mine: sa.ColumnElement[bool]) -> sa.Subquery:
    """SQL: the refs of the plan's assessments and sessions that made the counted households' skills."""
    a, b, p = t.actions, t.beneficiaries, t.persons
    skills = person_skills(t, day, s["skill_hours"], mine)
    members = sa.select(p.c.id_number).where(p.c.household_id.in_(counted_households(t, plan, day, s["skill_households"])))
    tech = technique_of(t)
    made = sa.and_(skills.c.person == b.c.ref, skills.c.technique == tech)
    assessed = (
        sa.select(a.c.ref).select_from(a.join(b, b.c.action_id == a.c.id).join(skills, sa.and_(made, skills.c.how == "assessment")))
        .where(a.c.kind == SKILL_ASSESSMENT, a.c.start_date <= day, b.c.type == "person", detail(t, "result") == PASS, b.c.ref.in_(members), mine)
    )
    attended = (
        sa.select(a.c.ref).select_from(a.join(b, b.c.action_id == a.c.id).join(skills, sa.and_(made, skills.c.how == "hours")))
        .where(a.c.kind == AGRI_SESSION, a.c.start_date <= day, b.c.type == "person", b.c.ref.in_(members), mine)
    )
    return sa.union(assessed, attended).subquery("skill_refs")


@attrs.frozen
class MemberSkill:
    """A technique one person masters, and how."""

    id_number: str
    technique: str
    how: str  # "assessment" or "hours"
    hours: Decimal
    refs: tuple[str, ...]


def household_members_skills(conn: sa.Connection, t: Tables, household_id: int, day: dt.date, skill_hours: Any,
                             mine: sa.ColumnElement[bool] | None = None) -> list[MemberSkill]:
    """Every technique each member of one household masters by ``day`` (assessments first), with the records
    (only the actions ``mine`` selects, :func:`plan_work`, when given)."""
    a, b, p = t.actions, t.beneficiaries, t.persons
    members = sa.select(p.c.id_number).where(p.c.household_id == household_id)
    tech = technique_of(t)
    rows = conn.execute(
        sa.select(b.c.ref, tech, a.c.kind, hours_of(t), a.c.ref, detail(t, "result"))
        .select_from(a.join(b, b.c.action_id == a.c.id))
        .where(a.c.kind.in_((AGRI_SESSION, SKILL_ASSESSMENT)), a.c.start_date <= day, b.c.type == "person", b.c.ref.in_(members),
               mine if mine is not None else sa.true())
        .order_by(a.c.start_date, a.c.id)
    ).all()
    need = Decimal(str(skill_hours))
    hours: dict[tuple[str, str], Decimal] = {}
    refs: dict[tuple[str, str], list[str]] = {}
    passed: dict[tuple[str, str], list[str]] = {}
    for person, technique, kind, h, ref, result in rows:
        k = (person, technique)
        if kind == AGRI_SESSION:
            hours[k] = hours.get(k, Decimal(0)) + Decimal(str(h or 0))
            refs.setdefault(k, []).append(ref)
        elif result == PASS:
            passed.setdefault(k, []).append(ref)
    out = []
    for k in sorted(set(hours) | set(passed)):
        if k in passed:
            out.append(MemberSkill(k[0], k[1], "assessment", hours.get(k, Decimal(0)), tuple(passed[k])))
        elif hours[k] >= need:
            out.append(MemberSkill(k[0], k[1], "hours", hours[k], tuple(refs[k])))
    return out


def households_without(conn: sa.Connection, t: Tables, plan: Any, day: dt.date, visible: sa.ColumnElement[bool] | None = None) -> list[Any]:
    """The counted households without a technique on ``day``: id, number, group, head, members, able members, best hours of one technique."""
    s = settings(plan)
    h, p = t.households, t.persons
    a, b = t.actions, t.beneficiaries
    mine = plan_work(t, plan, plan_units(conn, plan))
    hsk = household_skill_counts(t, day, s["skill_hours"], mine)
    tech = technique_of(t)
    per_technique = (
        sa.select(p.c.household_id, sa.func.sum(hours_of(t)).label("hours"))
        .select_from(a.join(b, b.c.action_id == a.c.id).join(p, p.c.id_number == b.c.ref))
        .where(a.c.kind == AGRI_SESSION, a.c.start_date <= day, b.c.type == "person", mine)
        .group_by(p.c.household_id, b.c.ref, tech)
        .subquery()
    )
    best = sa.select(per_technique.c.household_id, sa.func.max(per_technique.c.hours).label("hours")).group_by(per_technique.c.household_id).subquery()
    able = p.c.labour.in_(("普通劳动力", "技能劳动力"))
    members = sa.select(p.c.household_id, sa.func.count().label("n"), count_if(able).label("able")).group_by(p.c.household_id).subquery()
    query = (
        sa.select(h.c.id, h.c.number, h.c.group_code, h.c.head_name, sa.func.coalesce(members.c.n, 0).label("members"),
                  sa.func.coalesce(members.c.able, 0).label("able"), sa.func.coalesce(best.c.hours, 0).label("best_hours"))
        .outerjoin(hsk, hsk.c.household_id == h.c.id)
        .outerjoin(members, members.c.household_id == h.c.id)
        .outerjoin(best, best.c.household_id == h.c.id)
        .where(h.c.id.in_(counted_households(t, plan, day, s["skill_households"])), sa.func.coalesce(hsk.c.n, 0) == 0)
        .order_by(h.c.number)
    )
    if visible is not None:
        query = query.where(visible)
    return conn.execute(query).all()


@attrs.frozen
class Session:
    """A session, as the gaps command lists it."""

    ref: str
    date: dt.date
    technique: str
    place: str
    group: str
    hours: Decimal
    villages: tuple[str, ...]


def sessions_between(conn: sa.Connection, t: Tables, plan: Any, units: Iterable[str], start: dt.date, end: dt.date | None) -> list[Session]:
    """The plan's sessions held between the dates (``end`` None: open), by date."""
    a, b = t.actions, t.beneficiaries
    where = [a.c.kind == AGRI_SESSION, own_records(t.actions, plan, units), a.c.start_date >= start]
    if end is not None:
        where.append(a.c.start_date <= end)
    rows = conn.execute(
        sa.select(a.c.id, a.c.ref, a.c.start_date, technique_of(t), detail(t, "place"), detail(t, "group"), hours_of(t))
        .where(*where).order_by(a.c.start_date, a.c.id)
    ).all()
    villages: dict[int, list[str]] = {}
    ids = [r[0] for r in rows]
    for i in range(0, len(ids), 900):
        for aid, ref in conn.execute(sa.select(b.c.action_id, b.c.ref).where(b.c.action_id.in_(ids[i : i + 900]), b.c.type == "village")):
            villages.setdefault(aid, []).append(ref)
    return [Session(ref, day, tech or "", place or "", group or "", Decimal(str(h or 0)), tuple(villages.get(aid, ()))) for aid, ref, day, tech, place, group, h in rows]


def nearest_sessions(sessions_in_year: list[Session], later: list[Session], group_code: str, limit: int = 3) -> tuple[str, list[Session]]:
    """The sessions nearest to a household of ``group_code``: held in its group that year, else in its village, else the next ones."""
    village = group_code[:12]
    mine = [s for s in sessions_in_year if s.group == group_code]
    if mine:
        return "group", mine[:limit]
    here = [s for s in sessions_in_year if s.group[:12] == village or village in s.villages]
    if here:
        return "village", here[:limit]
    nxt = [s for s in later if s.group[:12] == village or village in s.villages or not (s.group or s.villages)]
    return "next", nxt[:limit]


# -- C17, C22 ------------------------------------------------------------------------------------


def party_by_format(conn: sa.Connection, t: Tables, plan: Any, units: Iterable[str], start: dt.date, end: dt.date,
                    min_attendees: int = 0) -> dict[str, tuple[int, int, list[str]]]:
    """Format -> (actions, attendees, refs) of the plan's party training for its villages: a training plan in force
    during the dates, and lessons, lectures and trainings held between them with at least ``min_attendees``."""
    a = t.actions
    fmt = detail(t, "format")
    attendees_n = sa.func.coalesce(sa.cast(a.c.details["attendees"].as_string(), sa.Integer), 0)
    held = sa.or_(
        sa.and_(fmt == TRAINING_PLAN, a.c.start_date <= end, a.c.end_date >= start),
        sa.and_(fmt != TRAINING_PLAN, a.c.start_date >= start, a.c.start_date <= end, attendees_n >= int(min_attendees)),
    )
    rows = conn.execute(
        sa.select(fmt, sa.func.count(), sa.func.coalesce(sa.func.sum(attendees_n), 0), joined(a.c.ref))
        .where(a.c.kind == PARTY_TRAINING, own_records(t.actions, plan, units), in_plan_villages(t, plan), held)
        .group_by(fmt)
    ).all()
    return {f: (n, int(people or 0), sorted(split(refs))) for f, n, people, refs in rows}


@attrs.frozen
class Research:
    """Research projects running in a period."""

    running: int
    new: int
    funding_fen: int
    refs: tuple[str, ...]
    by_focus: dict[str, int] = attrs.field(factory=dict, hash=False)


def research(conn: sa.Connection, t: Tables, plan: Any, units: Iterable[str], start: dt.date, end: dt.date,
             min_funding_fen: int = 0) -> Research:
    """The plan's research projects serving its villages running between the dates (started by the end, not ended
    before the start), funded with at least ``min_funding_fen``."""
    a = t.actions
    where = (a.c.kind == RESEARCH_PROJECT, own_records(t.actions, plan, units), a.c.start_date <= end, a.c.end_date >= start,
             in_plan_villages(t, plan), a.c.amount_fen >= int(min_funding_fen))
    running, new, funding, refs = conn.execute(
        sa.select(sa.func.count(), count_if(a.c.start_date >= start), sa.func.coalesce(sa.func.sum(a.c.amount_fen), 0), joined(a.c.ref)).where(*where)
    ).one()
    tech, sector = technique_of(t), detail(t, "sector")
    focus: dict[str, int] = {}
    for technique, sec, n in conn.execute(sa.select(tech, sector, sa.func.count()).where(*where).group_by(tech, sector)):
        name = cat.area_of(technique) if technique else (sec or "-")
        focus[name] = focus.get(name, 0) + n
    return Research(running, new, int(funding or 0), tuple(sorted(split(refs))), focus)
