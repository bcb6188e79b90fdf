"""The records of the psychology stream: counselling sessions and social-work cases.

A :class:`Session`'s ``note`` is plain text only on its way in: it is
encrypted before it is stored, never part of the record's ``repr`` and never
named in a problem.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import attrs

from fupin import Problem, ValidationError

VOCABULARY_FILE = Path(__file__).with_name("vocabularies.toml")

#: Age (on the session date) below which a person is a child whose session needs a guardian's consent.
ADULT_AGE = 18
#: Shown instead of a count from 1 to 4 (small-cell suppression).
SMALL = "<5"


def small(n: int) -> str:
    """A count as reports may show it: ``<5`` for 1 to 4, so no child can be picked out."""
    return SMALL if 0 < n < 5 else str(n)


def _strip_person(value: str) -> str:
    value = value.strip()
    return value[7:] if value.startswith("person:") else value


def _persons(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.replace(",", "、").split("、")
    return tuple(dict.fromkeys(_strip_person(str(v)).upper() for v in value if str(v).strip()))


def _texts(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split("、")
    return tuple(str(v).strip() for v in value if str(v).strip())


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years of age on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@attrs.frozen
class Session:
    """One counselling session: a counsellor with one person (individual, home visit, phone) or a group."""

    ref: str
    date: dt.date = attrs.field(converter=_date)
    counsellor: str
    mode: str
    persons: tuple[str, ...] = attrs.field(converter=_persons)
    unit_code: str
    duration_min: int | None = None
    topics: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    risk_level: str | None = None
    follow_up: dt.date | None = attrs.field(default=None, converter=_date)
    referral: str | None = None
    consent_by: str | None = None
    consent_date: dt.date | None = attrs.field(default=None, converter=_date)
    plan_name: str | None = None
    #: The note in plain text, only until it is encrypted; never shown in a repr.
    note: str | None = attrs.field(default=None, repr=False)

    def __attrs_post_init__(self) -> None:
        problems = []
        if not self.ref.strip():
            problems.append(Problem("ref", "必填 / required"))
        if not self.persons:
            problems.append(Problem("persons", "至少一名疏导对象 / at least one person counselled"))
        if self.follow_up is not None and self.follow_up < self.date:
            problems.append(Problem("follow_up", "回访日期早于疏导日期 / follow-up before the session", self.follow_up.isoformat()))
        if self.consent_date is not None and self.consent_date > self.date:
            problems.append(Problem("consent_date", "同意日期晚于疏导日期 / consent given after the session", self.consent_date.isoformat()))
        if self.consent_date is not None and not self.consent_by:
            problems.append(Problem("consent_by", "有同意日期须写明监护人 / consent needs the guardian's name"))
        if self.duration_min is not None and self.duration_min <= 0:
            problems.append(Problem("duration_min", "时长须为正数 / duration must be positive", self.duration_min))
        if problems:
            raise ValidationError(problems, record=f"session {self.ref}")

    @property
    def has_consent(self) -> bool:
        return bool(self.consent_by and self.consent_date)


@attrs.frozen
class Case:
    """A social-work case (社会工作个案) of a household: goals, the steps taken, status."""

    ref: str
    household: str
    worker: str
    opened: dt.date = attrs.field(converter=_date)
    status: str
    goals: tuple[str, ...] = attrs.field(converter=_texts)
    unit_code: str
    closed: dt.date | None = attrs.field(default=None, converter=_date)
    steps: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    plan_name: str | None = None

    def __attrs_post_init__(self) -> None:
        problems = []
        if not self.goals:
            problems.append(Problem("goals", "至少一个目标 / at least one goal"))
        if self.closed is not None and self.closed < self.opened:
            problems.append(Problem("closed", "结案日期早于开案日期 / closed before it was opened", self.closed.isoformat()))
        if self.status == "已结案" and self.closed is None:
            problems.append(Problem("closed", "已结案须有结案日期 / a closed case needs its closing date"))
        if problems:
            raise ValidationError(problems, record=f"case {self.ref}")


def normalise_session(session: Session, vocab: Any) -> Session:
    """The session with its mode, risk level and referral as the vocabulary's Chinese terms."""
    return attrs.evolve(
        session,
        mode=vocab.check("psychology_mode", session.mode, field="mode"),
        risk_level=vocab.check("psychology_risk", session.risk_level, field="risk_level") if session.risk_level else None,
        referral=vocab.check("psychology_referral", session.referral, field="referral") if session.referral else None,
    )


def normalise_case(case: Case, vocab: Any) -> Case:
    """The case with its status as the vocabulary's Chinese term."""
    return attrs.evolve(case, status=vocab.check("psychology_case_status", case.status, field="status"))


def consent_problems(session: Session, births: dict[str, dt.date | None]) -> list[Problem]:
    """Persons not registered, and children (< 18 on the session date) counselled without a guardian's consent."""
    problems = []
    missing = [p for p in session.persons if p not in births]
    if missing:
        problems.append(Problem("persons", f"人员未登记 / person not registered ({len(missing)})"))
    children = [p for p in session.persons if births.get(p) and age_on(births[p], session.date) < ADULT_AGE]
    if children and not session.has_consent:
        problems.append(Problem("consent_by", "未成年人疏导须有监护人同意 (监护人及同意日期) / a child's session needs the guardian's consent (who and when)"))
    return problems
