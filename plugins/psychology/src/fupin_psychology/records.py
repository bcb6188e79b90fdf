"""Reading and writing the psychology records through the store's access layer.

- :func:`record_session` and :func:`add_case` write a session or a case (need
  ``psychology.read``, the permission of counselling records, within its scope);
- :func:`read_note` decrypts one session note: it needs ``psychology.read``
  and a stated reason, and leaves an audit entry with that reason (never the note);
- notes are written and read only with the database's key: its fingerprint is
  checked first (:mod:`fupin_psychology.keys`);
- :func:`coverage` counts, for each special group, the persons of a plan's
  villages holding the tag in a period and those counselled in it;
- :func:`sessions_in`, :func:`cases_in` and :func:`roster` are the listings of
  ``fupin psychology`` (never a note; names only with ``psychology.read``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from fupin import NotFound, Problem, ValidationError
from fupin.ext import AccessDenied, mask_id, own_records, plan_units, plan_villages_condition

from fupin_psychology import crypto, keys
from fupin_psychology.model import Case, Session, consent_problems, normalise_case, normalise_session, small
from fupin_psychology.tables import CASES, KEY, KEY_ROW, SESSIONS

READ = "psychology.read"
WRITE = "psychology.write"


def _require_unit(store: Any, unit_code: str) -> None:
    """Recording a session or case: ``psychology.write`` over the registering unit."""
    store.access.require(WRITE)
    if not store.access.unit_allowed(WRITE, unit_code):
        raise AccessDenied(store.actor, WRITE, f"单位 {unit_code} 不在权限范围内 / unit outside your scope")


def births(conn: sa.Connection, store: Any, id_numbers: Iterable[str]) -> dict[str, dt.date | None]:
    """ID number -> birth date of the registered persons among ``id_numbers``."""
    p = store.table("persons")
    wanted = sorted(set(id_numbers))
    out: dict[str, dt.date | None] = {}
    for i in range(0, len(wanted), 900):
        out |= dict(conn.execute(sa.select(p.c.id_number, p.c.birth_date).where(p.c.id_number.in_(wanted[i : i + 900]))).all())
    return out


def session_row(session: Session) -> dict[str, Any]:
    """The table row of a session: the note encrypted (NoteKeyError without a key)."""
    row = {f.name: getattr(session, f.name) for f in attrs.fields(Session) if f.name != "note"}
    row["persons"] = list(session.persons)
    row["topics"] = list(session.topics)
    row["note_cipher"] = crypto.encrypt(session.note) if session.note else None
    return row


def record_session(store: Any, session: Session) -> None:
    """Store a counselling session; a child's session without a guardian's consent is refused."""
    _require_unit(store, session.unit_code)
    session = normalise_session(session, store.vocab)
    t = store.table(SESSIONS)
    with store.transaction(WRITE) as conn:
        problems = consent_problems(session, births(conn, store, session.persons))
        if conn.execute(sa.select(t.c.id).where(t.c.ref == session.ref)).first():
            problems.append(Problem("ref", "已登记 / already registered", session.ref))
        u = store.table("units")
        if conn.execute(sa.select(u.c.code).where(u.c.code == session.unit_code)).first() is None:
            problems.append(Problem("unit_code", "单位未登记 / unit not registered", session.unit_code))
        problems += store.hooks.validate_record(session, "psychology.session")
        if problems:
            raise ValidationError(problems, record=f"session {session.ref}")
        if session.note:
            # Before the note is encrypted: a key that is not the database's would store it unreadable.
            first = keys.claim(conn, store.metadata, str(store.actor))
            if first:
                store.audit_event("key_set", KEY, str(KEY_ROW), {"fingerprint": first[: crypto.SHOWN]})
        conn.execute(t.insert().values(**session_row(session)))
        store.audit_event("insert", SESSIONS, session.ref, {
            "date": session.date.isoformat(), "mode": session.mode, "counsellor": session.counsellor,
            "persons": len(session.persons), "note": "encrypted" if session.note else None,
        })


def add_case(store: Any, case: Case) -> None:
    """Store a social-work case of a registered household."""
    _require_unit(store, case.unit_code)
    case = normalise_case(case, store.vocab)
    t, h = store.table(CASES), store.table("households")
    with store.transaction(WRITE) as conn:
        problems = []
        if conn.execute(sa.select(h.c.id).where(h.c.number == case.household)).first() is None:
            problems.append(Problem("household", "户未登记 / household not registered", case.household))
        if conn.execute(sa.select(t.c.id).where(t.c.ref == case.ref)).first():
            problems.append(Problem("ref", "已登记 / already registered", case.ref))
        problems += store.hooks.validate_record(case, "psychology.case")
        if problems:
            raise ValidationError(problems, record=f"case {case.ref}")
        row = attrs.asdict(case)
        row["goals"], row["steps"] = list(case.goals), list(case.steps)
        conn.execute(t.insert().values(**row))
        store.audit_event("insert", CASES, case.ref, {k: v for k, v in row.items() if k not in ("goals", "steps")}
                          | {"goals": len(case.goals), "steps": len(case.steps)})


def read_note(store: Any, ref: str, reason: str | None) -> str:
    """The note of session ``ref``, decrypted: needs ``psychology.read`` and a stated reason; audited.

    The audit entry names the session, the reader and the reason, never the note.
    A key that is not the database's is refused by its fingerprint, before any
    decryption is tried.
    """
    store.access.require(READ, f"疏导记录 {ref} / counselling note {ref}")
    reason = " ".join((reason or "").split())
    if len(reason) < 2:
        raise ValidationError.of("reason", "查看疏导记录须说明理由 (--reason) / reading a counselling note needs a stated reason (--reason)")
    t = store.table(SESSIONS)
    with store.reading(READ) as conn:
        row = conn.execute(sa.select(t.c.ref, t.c.unit_code, t.c.note_cipher).where(t.c.ref == ref)).first()
        # Out of scope looks like absent: a reader learns nothing of sessions they may not read, not even the key's state.
        if row is None or not store.access.unit_allowed(READ, row.unit_code):
            raise NotFound(f"疏导记录未找到 / no counselling session {ref}")
        key, shown = keys.check(conn, store.metadata) if row.note_cipher else (None, None)
    note = ""
    if row.note_cipher:
        try:
            note = crypto.decrypt(row.note_cipher, key)
        except crypto.NoteKeyMismatch:
            if shown is None:
                raise
            # The database's key, yet the note does not open: it was written with another key before keys were checked.
            raise crypto.NoteKeyMismatch(
                f"疏导记录 {ref} 不是用本库密钥 (指纹 {shown}) 加密的 / note {ref} was not encrypted with this database's key "
                f"(fingerprint {shown}): it was written with another key"
            ) from None
    store.audit_event("read_note", SESSIONS, ref, {"note": "shown" if note else "empty"}, reason)
    return note


# -- counting -------------------------------------------------------------------------------


@attrs.define
class GroupCoverage:
    """One special group in a period: the persons holding the tag, those counselled enough, the sessions."""

    group: str
    tagged: set[str] = attrs.Factory(set)
    counselled: set[str] = attrs.Factory(set)
    sessions: set[str] = attrs.Factory(set)

    @property
    def share(self) -> float:
        return len(self.counselled) / len(self.tagged) if self.tagged else 0.0


@attrs.frozen
class SessionRule:
    """What makes a counselling session count for C32 (the plan's ``min_minutes``, ``max_group_size``, ``modes``).

    Attributes:
        modes: the ways of holding a session that count (vocabulary ``psychology_mode``, Chinese terms).
        min_minutes: the shortest session that counts; a session without a recorded duration never counts.
        max_group_size: the most persons one session may list and still count for each of them.
    """

    modes: tuple[str, ...] = ("个别疏导", "团体辅导", "入户走访")
    min_minutes: int = 20
    max_group_size: int = 12

    def refusal(self, mode: str, minutes: int | None, persons: int) -> str | None:
        """Why a session does not count (a short code), or None when it counts."""
        if mode not in self.modes:
            return "mode"
        if minutes is None or minutes < self.min_minutes:
            return "short"
        if persons > self.max_group_size:
            return "crowded"
        return None


def tagged(conn: sa.Connection, store: Any, plan: Any, groups: Sequence[str], start: dt.date, end: dt.date) -> list[Any]:
    """(tag, id_number, name, birth_date, household, start, end) of persons of the plan's villages holding a tag of
    ``groups`` in the period (one row per tag held)."""
    tg, p, h = store.table("person_tags"), store.table("persons"), store.table("households")
    return conn.execute(
        sa.select(tg.c.tag, p.c.id_number, p.c.name, p.c.birth_date, h.c.number.label("household"), tg.c.start, tg.c.end)
        .join(p, p.c.id == tg.c.person_id).join(h, h.c.id == p.c.household_id)
        .where(tg.c.tag.in_(list(groups)), tg.c.start <= end, sa.or_(tg.c.end.is_(None), tg.c.end >= start), plan_villages_condition(plan))
        .distinct().order_by(tg.c.tag, h.c.number, p.c.id_number)
    ).all()


def plan_sessions(conn: sa.Connection, store: Any, plan: Any, start: dt.date, end: dt.date) -> list[Any]:
    """(ref, date, mode, persons, referral, risk_level, duration_min) of the plan's sessions in the period (never the note).

    The plan's sessions are those one of its units registered naming the plan
    (:func:`fupin.queries.own_records`): a session of another unit, or of one of its
    units for another plan, is not the plan's work.
    """
    t = store.table(SESSIONS)
    return conn.execute(
        sa.select(t.c.ref, t.c.date, t.c.mode, t.c.persons, t.c.referral, t.c.risk_level, t.c.duration_min)
        .where(own_records(t, plan, plan_units(conn, plan)), t.c.date >= start, t.c.date <= end).order_by(t.c.date, t.c.ref)
    ).all()


def coverage(conn: sa.Connection, store: Any, plan: Any, groups: Sequence[str], start: dt.date, end: dt.date,
             min_sessions: int = 1, rule: SessionRule | None = None) -> tuple[dict[str, GroupCoverage], Counter[str]]:
    """Group -> its coverage in the period, and the plan's sessions not counted by reason (``mode``, ``short``, ``crowded``).

    A person of the group is counselled when at least ``min_sessions`` of the
    plan's sessions that pass ``rule`` name them on a day they hold the group's tag.
    """
    rule = rule or SessionRule()
    out = {g: GroupCoverage(g) for g in groups}
    held: dict[tuple[str, str], list[tuple[dt.date, dt.date | None]]] = {}
    for r in tagged(conn, store, plan, groups, start, end):
        out[r.tag].tagged.add(r.id_number)
        held.setdefault((r.tag, r.id_number), []).append((r.start, r.end))
    refused: Counter[str] = Counter()
    sessions: dict[str, list[tuple[dt.date, str]]] = {}
    for s in plan_sessions(conn, store, plan, start, end):
        persons = set(s.persons or ())
        why = rule.refusal(s.mode, s.duration_min, len(persons))
        if why:
            refused[why] += 1
            continue
        for person in persons:
            sessions.setdefault(person, []).append((s.date, s.ref))
    for g in out.values():
        for person in g.tagged:
            spans = held[(g.group, person)]
            # Only sessions on a day the person holds the tag count for the group.
            mine = [(day, ref) for day, ref in sessions.get(person, ()) if any(a <= day and (b is None or day <= b) for a, b in spans)]
            if len(mine) >= min_sessions:
                g.counselled.add(person)
                g.sessions |= {ref for _, ref in mine}
    return out, refused


def step_dates(steps: Sequence[str] | None) -> list[dt.date]:
    """The dates social-work steps are written with (``2016-03-05 入户评估``); a step without a date gives none."""
    out = []
    for step in steps or ():
        head = str(step).strip()[:10]
        try:
            out.append(dt.date.fromisoformat(head))
        except ValueError:
            continue
    return out


def cases_active(conn: sa.Connection, store: Any, plan: Any, start: dt.date, end: dt.date) -> list[Any]:
    """The plan's social-work cases (registered by its units naming it) of its villages' households open at some time in the period."""
    c, h = store.table(CASES), store.table("households")
    return conn.execute(
        sa.select(c.c.ref, c.c.household, c.c.opened, c.c.closed, c.c.status, c.c.goals, c.c.steps)
        .join(h, h.c.number == c.c.household)
        .where(own_records(c, plan, plan_units(conn, plan)), plan_villages_condition(plan), c.c.opened <= end,
               sa.or_(c.c.closed.is_(None), c.c.closed >= start))
        .order_by(c.c.opened, c.c.ref)
    ).all()


# -- listings -------------------------------------------------------------------------------


def sessions_in(store: Any, year: int) -> list[dict[str, Any]]:
    """The sessions of ``year`` the actor's ``psychology.read`` reaches: no note, no names."""
    t = store.table(SESSIONS)
    with store.reading(READ) as conn:
        rows = conn.execute(
            sa.select(t).where(t.c.date >= dt.date(year, 1, 1), t.c.date <= dt.date(year, 12, 31)).order_by(t.c.date, t.c.ref)
        ).mappings().all()
    return [
        {"ref": r["ref"], "date": r["date"].isoformat(), "counsellor": r["counsellor"], "mode": r["mode"],
         "persons": len(r["persons"] or ()), "duration_min": r["duration_min"], "topics": list(r["topics"] or ()),
         "risk_level": r["risk_level"], "follow_up": r["follow_up"].isoformat() if r["follow_up"] else None,
         "referral": r["referral"], "consent": bool(r["consent_by"]), "has_note": bool(r["note_cipher"]), "unit": r["unit_code"]}
        for r in rows if store.access.unit_allowed(READ, r["unit_code"])
    ]


def cases_in(store: Any, year: int | None = None) -> list[dict[str, Any]]:
    """Social-work cases (open at some time in ``year`` if given) the actor's ``psychology.read`` reaches."""
    t = store.table(CASES)
    query = sa.select(t).order_by(t.c.opened, t.c.ref)
    if year is not None:
        query = query.where(t.c.opened <= dt.date(year, 12, 31), sa.or_(t.c.closed.is_(None), t.c.closed >= dt.date(year, 1, 1)))
    with store.reading(READ) as conn:
        rows = conn.execute(query).mappings().all()
    return [
        {"ref": r["ref"], "household": r["household"], "worker": r["worker"], "opened": r["opened"].isoformat(),
         "closed": r["closed"].isoformat() if r["closed"] else None, "status": r["status"],
         "goals": list(r["goals"] or ()), "steps": list(r["steps"] or ())}
        for r in rows if store.access.unit_allowed(READ, r["unit_code"])
    ]


def roster(store: Any, plan: Any, group: str, year: int) -> dict[str, Any]:
    """The yearly roster of a special group in the plan's villages.

    With ``psychology.read`` over the plan: each person (name, masked ID number,
    age, household, sessions in the year). Otherwise (``aggregates.read``) the
    counts only, small counts shown as ``<5``.
    """
    group = store.vocab.check("person_tag", group, field="group")
    start, end = max(dt.date(year, 1, 1), plan.period_start), min(dt.date(year, 12, 31), plan.period_end)
    named = store.access.has(READ) and store.access.plan_allowed(READ, plan.helping_unit.code)
    if not named:
        store.access.require("aggregates.read", "名册 / roster")
    with store.reading(READ if named else "aggregates.read") as conn:
        people = tagged(conn, store, plan, [group], start, end)
        times: Counter[str] = Counter()
        for s in plan_sessions(conn, store, plan, start, end):
            times.update(set(s.persons or ()))
    counselled = sum(1 for r in people if times[r.id_number])
    out: dict[str, Any] = {"group": group, "year": year, "persons": small(len(people)), "counselled": small(counselled)}
    if named:
        out["persons"], out["counselled"] = len(people), counselled
        out["roster"] = [
            {"name": r.name, "id_number": mask_id(r.id_number), "age": end.year - r.birth_date.year if r.birth_date else None,
             "household": r.household, "sessions": times[r.id_number]}
            for r in people
        ]
    return out
