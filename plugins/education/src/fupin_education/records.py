"""Readings of the education records for the command line: a teacher's continuing-education
record, a year's internships, a year's 三下乡 teams.

They read through ``store.actions(kind=...)``, so the actor sees only the
actions their role reaches, as with every other listing of fupin.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa

from fupin_education.kinds import INTERNSHIP, SANXIAXIANG, TEACHER_TRAINING, TEACHER_VISIT, trainee_parts
from fupin_education.targets import term_of


def unit_names(store: Any) -> dict[str, str]:
    """Unit code -> name (schools, departments)."""
    u = store.table("units")
    with store.reading("aggregates.read") as conn:
        return dict(conn.execute(sa.select(u.c.code, u.c.name)).all())


def resolve_school(store: Any, school: str) -> str:
    """The unit code of a school given by name or code (the text itself if neither is registered)."""
    names = unit_names(store)
    if school in names:
        return school
    return next((code for code, name in names.items() if name == school), school)


def teacher_hours(store: Any, school: str | None = None) -> list[dict[str, Any]]:
    """Each teacher's training hours by year (C23 visits and C24 sessions): a continuing-education record.

    A teacher is known by name and school (``姓名@学校代码``), since teachers are
    not registered persons. Every trainee of an action is credited the action's
    ``hours``.
    """
    code = resolve_school(store, school) if school else None
    names = unit_names(store)
    found: dict[str, dict[str, Any]] = {}
    for kind in (TEACHER_VISIT, TEACHER_TRAINING):
        for action in store.actions(kind=kind):
            hours = action.quantities.get("hours", 0)
            for trainee in action.details.trainees if action.details else ():
                name, at = trainee_parts(trainee)
                if code and at != code:
                    continue
                t = found.setdefault(trainee, {"teacher": name, "school_code": at, "school": names.get(at, at),
                                               "hours_by_year": Counter(), "records": []})
                t["hours_by_year"][action.start.year] += hours
                t["records"].append(action.ref)
    out = []
    for trainee in sorted(found, key=lambda k: (found[k]["school_code"], found[k]["teacher"])):
        t = found[trainee]
        by_year = {year: float(h) if h % 1 else int(h) for year, h in sorted(t["hours_by_year"].items())}
        out.append({**t, "hours_by_year": by_year, "total_hours": sum(by_year.values())})
    return out


def internships_in(store: Any, year: int) -> list[dict[str, Any]]:
    """The internships starting in ``year``, by start date."""
    names = unit_names(store)
    out = []
    for a in store.actions(kind=INTERNSHIP):
        if a.start.year != year:
            continue
        d = a.details
        school = next((b.ref for b in a.beneficiaries if b.type == "unit"), "")
        out.append({
            "ref": a.ref, "student": d.student, "student_no": d.student_no, "subject": d.subject,
            "host_school": names.get(school, school), "host_school_code": school, "mentor": d.mentor, "supervisor": d.supervisor,
            "term": term_of(a.start), "start": a.start.isoformat(), "end": a.end.isoformat(), "lessons": d.lessons, "evaluation": d.evaluation,
        })
    return out


def teams_in(store: Any, year: int) -> list[dict[str, Any]]:
    """The 三下乡 teams that set out in ``year``, by start date."""
    out = []
    for a in store.actions(kind=SANXIAXIANG):
        if a.start.year != year:
            continue
        d = a.details
        out.append({
            "ref": a.ref, "team": d.team, "vacation": d.vacation, "supervisor": d.supervisor, "members": len(d.members),
            "start": a.start.isoformat(), "end": a.end.isoformat(), "places": list(d.places),
            "activities": dict(Counter(d.activities)), "people_served": int(a.quantities.get("people", 0)),
        })
    return out
