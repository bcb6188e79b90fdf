"""Recurring aid (C29 to C31): who is eligible, who has been paid, who is missing, the list to sign.

Eligibility is read from the registry on the programme's day:

- **study_aid** (C29, due 31 August, from the commitment's ``due``): every
  member of a poor household of the plan's villages who is in school on the
  due day: ``student_status`` not one of ``not_in_school`` (非在校生, 学前教育)
  or tagged 在校生. Poor means the household's dated status on that day is
  one of ``poor_statuses`` of ``[plugins.funding]``; by default 未脱贫, 返贫
  *and* 已脱贫(享受政策): a household that exits keeps its policies
  (脱贫不脱政策) until it no longer enjoys them.
- **festival_support** (C30): every person of the plan's villages tagged
  孤寡老人 on the day before the Spring Festival (``plan.spring_festival(year)``),
  whatever the household's status.
- **foster_reward** (C31): every household recorded as having taken in such
  a person (``funding_foster_homes``) on that day.

The commitment's parameters say who and when (:func:`rule`): ``due`` (C29,
``MM-DD``) or ``before`` (C30, C31: a ``[calendar]`` event of the plan; due
the day before it), ``beneficiary_tag`` (the tag that makes a person
eligible: 在校生 besides the student status, 孤寡老人), ``per`` (``person``
or ``household``, as the programme pays), ``min_amount_fen`` and
``window_days``.

A payment counts for the plan's programme and year only when it is all of:
of the plan (out of one of the plan's own funds or a fund shared with it,
and naming no other plan), for that programme and ``aid_year``, *dated*
inside the year's window (``window_days`` days up to and including the due
day: the year label alone never suffices), to a beneficiary eligible on the
due day (tagged, in the plan's villages); and the beneficiary's payments in
the window add up to at least ``min_amount_fen``. A payment after the due
day is *late*; one before the window *early*; payments in the window below
the minimum *short*: none of them counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import attrs
import sqlalchemy as sa

from fupin import PlanError

from fupin.ext import count_if, joined, key, plan_villages_condition, split, status_on

from fupin_funding.ledger import PROGRAMMES, of_plan, voucher_numbers
from fupin_funding.scope import funds_condition
from fupin_funding.tables import ENTRIES, FOSTER

DEFAULTS: dict[str, Any] = {
    "poor_statuses": ["未脱贫", "返贫", "已脱贫(享受政策)"],
    "not_in_school": ["非在校生", "学前教育"],
    "amounts_fen": {"study_aid": 50000, "festival_support": 30000, "foster_reward": 100000},
}
TARGETS = {"study_aid": "funding.study_aid", "festival_support": "funding.festival_visits", "foster_reward": "funding.foster_family_reward"}
#: The parameters of C29 to C31 when the plan does not set them (the targets declare these defaults).
#: The minimum and the window are not in the seed (它只说"一定的经费"): a plan office sets its own.
PARAMS: dict[str, dict[str, Any]] = {
    "study_aid": {"due": "08-31", "beneficiary_tag": "在校生", "per": "person", "min_amount_fen": 10_000, "window_days": 123},
    "festival_support": {"before": "spring_festival", "beneficiary_tag": "孤寡老人", "per": "person", "min_amount_fen": 10_000, "window_days": 45},
    "foster_reward": {"before": "spring_festival", "beneficiary_tag": "孤寡老人", "per": "household", "min_amount_fen": 10_000, "window_days": 45},
}


def settings(plan: Any) -> dict[str, Any]:
    """``[plugins.funding]`` of the plan over the defaults."""
    own = dict(plan.plugins.get("funding", {})) if plan is not None else {}
    out = {**DEFAULTS, **own}
    given = {k.removesuffix("_fen"): int(v) for k, v in dict(own.get("aid_amounts", {})).items()}
    out["amounts_fen"] = {**DEFAULTS["amounts_fen"], **given}
    return out


def commitment_params(plan: Any, target: str) -> dict[str, Any]:
    """The parameters of the plan's commitment naming ``target`` ({} when none does)."""
    return next((dict(c.params) for c in plan.commitments if c.target == target), {})


def check_programme(programme: str) -> str:
    if programme not in PROGRAMMES:
        from fupin import ValidationError

        raise ValidationError.of("programme", f"未知资助项目 / unknown programme; known: {', '.join(PROGRAMMES)}", programme)
    return programme


@attrs.frozen
class Rule:
    """What one programme's year owes and counts: the due day, the window's first day, the tag, per whom, the minimum."""

    programme: str
    year: int
    due: dt.date
    earliest: dt.date
    tag: str
    per: str
    min_amount_fen: int


def rule(plan: Any, programme: str, year: int, params: Mapping[str, Any] | None = None) -> Rule:
    """The programme's :class:`Rule` for ``year`` from ``params`` (default: its commitment's in the plan) over :data:`PARAMS`.

    Raises :class:`~fupin.PlanError` for a ``due`` that is not ``MM-DD``, a
    ``before`` event the plan's calendar lacks for the year, or a ``per``
    other than the programme's (study aid and festival support are paid per
    person, the foster reward per household).
    """
    given = commitment_params(plan, TARGETS[programme]) if params is None else params
    p = {**PARAMS[programme], **{k: v for k, v in given.items() if v is not None}}
    where = f"{plan.origin}: {TARGETS[programme]}"
    if programme == "study_aid":
        try:
            month, day = (int(x) for x in str(p["due"]).split("-"))
            due = dt.date(year, month, day)
        except ValueError:
            raise PlanError(f"{where}.due: 应为 MM-DD / expected MM-DD, got {p['due']!r}") from None
    else:
        due = plan.calendar_date(str(p["before"]), year) - dt.timedelta(days=1)
    per = PROGRAMMES[programme][1]
    if p["per"] != per:
        raise PlanError(f"{where}.per: {programme} 按{'人' if per == 'person' else '户'}发放 / is paid per {per}, not {p['per']!r}")
    earliest = due - dt.timedelta(days=int(p["window_days"]) - 1)
    return Rule(programme, year, due, earliest, str(p["beneficiary_tag"]), per, int(p["min_amount_fen"]))


def due_day(plan: Any, programme: str, year: int) -> dt.date:
    """The last day a payment of ``programme`` for ``year`` is on time."""
    return rule(plan, programme, year).due


def _tagged(store: Any, tag: str, day: dt.date) -> sa.Select:
    t = store.table("person_tags")
    return sa.select(t.c.person_id).where(t.c.tag == tag, t.c.start <= day, sa.or_(t.c.end.is_(None), t.c.end >= day))


def eligible_query(store: Any, plan: Any, programme: str, year: int, *, scope: sa.ColumnElement[bool] | None = None,
                   rule_: Rule | None = None) -> sa.Select:
    """SELECT key, name, household, detail of whom ``programme`` owes a payment for ``year`` (``rule_``: its :func:`rule`).

    ``key`` is the ID number (the household number for ``foster_reward``; a family that took
    in two elders has a row for each); ``scope`` is an extra condition on ``households``.
    """
    s = settings(plan)
    r = rule_ or rule(plan, programme, year)
    day, tag = r.due, r.tag
    h, p = store.table("households"), store.table("persons")
    where = [plan_villages_condition(plan)] + ([scope] if scope is not None else [])
    if programme == "study_aid":
        st = status_on(day)
        in_school = sa.and_(p.c.student_status.is_not(None), p.c.student_status.not_in(list(s["not_in_school"])))
        return (
            sa.select(p.c.id_number.label("key"), p.c.name, h.c.number.label("household"), p.c.student_status.label("detail"))
            .join(h, h.c.id == p.c.household_id).join(st, st.c.household_id == h.c.id)
            .where(*where, st.c.status.in_(list(s["poor_statuses"])), sa.or_(in_school, p.c.id.in_(_tagged(store, tag, day))))
        )
    if programme == "festival_support":
        return (
            sa.select(p.c.id_number.label("key"), p.c.name, h.c.number.label("household"), sa.literal(tag).label("detail"))
            .join(h, h.c.id == p.c.household_id)
            .where(*where, p.c.id.in_(_tagged(store, tag, day)))
        )
    fh = store.table(FOSTER)
    elders = sa.select(p.c.id_number).where(p.c.id.in_(_tagged(store, tag, day)))
    return (
        sa.select(h.c.number.label("key"), h.c.head_name.label("name"), h.c.number.label("household"), fh.c.elder.label("detail"))
        .join(fh, fh.c.household == h.c.number)
        .where(*where, fh.c.start <= day, sa.or_(fh.c.end.is_(None), fh.c.end >= day), fh.c.elder.in_(elders))
    )


def eligible(conn: sa.Connection, store: Any, plan: Any, programme: str, year: int, *, scope: sa.ColumnElement[bool] | None = None) -> list[dict[str, Any]]:
    """The persons (or households) ``programme`` owes a payment for ``year``, in household order.

    Each row: ``key`` (ID number or household number), ``name``, ``household``, ``detail``.
    ``scope`` is an extra condition on ``households`` (the reader's access).
    """
    query = eligible_query(store, plan, programme, year, scope=scope)
    rows = [dict(r._mapping) for r in conn.execute(query.order_by(sa.text("household"), sa.text("key")))]
    seen: dict[str, dict[str, Any]] = {}
    for r in rows:  # a family that took in two elders is paid once
        seen.setdefault(r["key"], r)
    return list(seen.values())


def _payments(store: Any, programme: str, year: int) -> sa.Select:
    """SELECT key, voucher, entry_date, amount_fen, id of the aid entries for ``programme`` and ``year`` (of any plan)."""
    e = store.table(ENTRIES)
    who = e.c.person if PROGRAMMES[programme][1] == "person" else e.c.household
    return sa.select(who.label("key"), e.c.voucher, e.c.entry_date, e.c.amount_fen, e.c.id).where(
        e.c.flow == "aid", e.c.programme == programme, e.c.aid_year == year)


class Payments(NamedTuple):
    """What C29 to C31 count of a programme's year: the eligible, how they were paid, and the records."""

    eligible: int
    paid_on_time: int  # paid at least the minimum inside the window
    paid_late: int  # nothing in the window, paid after the due day
    strangers: int  # beneficiaries paid who are not eligible
    amount_fen: int  # of the payments on time to the eligible
    evidence: list[str]  # ``funding_entry:VOUCHER`` of those payments
    paid_short: int = 0  # paid in the window, less than the minimum in all
    paid_early: int = 0  # paid only before the window opened

    @property
    def missing(self) -> int:
        """Eligible and not paid at all."""
        return self.eligible - self.paid_on_time - self.paid_late - self.paid_short - self.paid_early


def payments(conn: sa.Connection, store: Any, plan: Any, programme: str, year: int, *, funds: Iterable[str],
             rule_: Rule | None = None) -> Payments:
    """How the eligible of ``programme`` for ``year`` were paid out of ``funds`` (the plan's own and
    shared funds), by the programme's :func:`rule`, counted in the database (one statement).

    The same figures as comparing :func:`eligible` with the payments, without reading every
    eligible person: a province owes study aid to a hundred thousand students.
    """
    r = rule_ or rule(plan, programme, year)
    owed = eligible_query(store, plan, programme, year, rule_=r).subquery("owed")
    if PROGRAMMES[programme][1] == "household":  # a family that took in two elders has a row for each; a person has one
        owed = sa.select(owed.c.key).distinct().subquery("owed")
    e = store.table(ENTRIES)
    pay = _payments(store, programme, year).where(e.c.fund_code.in_(sorted(set(funds))), of_plan(e.c.plan_name, plan)).subquery()
    inside = sa.and_(pay.c.entry_date >= r.earliest, pay.c.entry_date <= r.due)
    # Each beneficiary paid once, with the payments inside the window; the eligible then join one row each.
    per = (
        sa.select(pay.c.key, sa.func.coalesce(sa.func.sum(sa.case((inside, pay.c.amount_fen))), 0).label("amount"),
                  count_if(pay.c.entry_date > r.due).label("late"), count_if(pay.c.entry_date < r.earliest).label("early"),
                  joined(sa.case((inside, key("funding_entry", pay.c.voucher)))).label("refs"))
        .group_by(pay.c.key)
        .cte("per")
    )
    on_time = per.c.amount >= max(r.min_amount_fen, 1)
    short = sa.and_(per.c.amount > 0, ~on_time)
    none_inside = per.c.amount == 0
    owed_n, on_time_n, short_n, late_n, early_n, paid_n, amount, refs, paid_all = conn.execute(
        sa.select(
            sa.func.count(), count_if(on_time), count_if(short), count_if(sa.and_(none_inside, per.c.late > 0)),
            count_if(sa.and_(none_inside, per.c.late == 0, per.c.early > 0)), count_if(per.c.key.is_not(None)),
            sa.func.coalesce(sa.func.sum(sa.case((on_time, per.c.amount))), 0),
            joined(sa.case((on_time, per.c.refs))), sa.select(sa.func.count()).select_from(per).scalar_subquery(),
        ).select_from(owed.outerjoin(per, per.c.key == owed.c.key))
    ).one()
    return Payments(owed_n, on_time_n, late_n, paid_all - paid_n, int(amount), split(refs), short_n, early_n)


def paid(conn: sa.Connection, store: Any, programme: str, year: int) -> dict[str, list[Any]]:
    """Beneficiary key -> its aid entries (voucher, entry_date, amount_fen) for ``programme`` and ``year``,
    from the funds the actor reaches (``actions.read``)."""
    e = store.table(ENTRIES)
    pay = _payments(store, programme, year).where(funds_condition(store, conn, e.c.fund_code)).subquery()
    rows = conn.execute(sa.select(pay).order_by(pay.c.entry_date, pay.c.id)).all()
    out: dict[str, list[Any]] = {}
    for r in rows:
        out.setdefault(r.key, []).append(r)
    return out


def missing(store: Any, plan: Any, programme: str, year: int) -> list[dict[str, Any]]:
    """Who is eligible for ``programme`` in ``year`` and has no disbursement (needs ``registry.read``; in the reader's scope)."""
    check_programme(programme)
    store.access.require("registry.read", "资助名单 / aid list")
    households = store.access.household_condition("registry.read")
    with store.reading("registry.read") as conn:
        owed = eligible(conn, store, plan, programme, year, scope=households)
        # Paid by anyone counts, whoever's fund it was: the list says who is still owed, not who paid.
        pay = _payments(store, programme, year).subquery()
        done = set(conn.execute(sa.select(pay.c.key).distinct()).scalars())
    return [r for r in owed if r["key"] not in done]


VOUCHER_PREFIX = {"study_aid": "ZXJ", "festival_support": "CJWW", "foster_reward": "AXJL"}


def voucher_stem(programme: str, year: int, unit: str) -> str:
    """``ZXJ2017-QJNU-``: the programme's prefix, the year, the paying unit (numbers follow, see :func:`fupin_funding.ledger.voucher_numbers`)."""
    return f"{VOUCHER_PREFIX[programme]}{year}-{unit}-"


def aid_list(store: Any, plan: Any, programme: str, year: int, fund: str | None = None) -> list[dict[str, Any]]:
    """The payment list to sign: one row per eligible beneficiary not yet paid, with a new voucher number
    (``ZXJ2017-QJNU-000123``: a sequence per programme, year and helping unit, no personal data) and the
    programme's amount. The voucher is the import's key, so re-importing a signed list never pays twice,
    and the import refuses to pay anyone twice for one programme and year under another voucher.

    Needs ``registry.personal`` (the list carries ID numbers to sign against).
    """
    store.access.require("registry.personal", "资助发放表 / aid list with ID numbers")
    amount = int(settings(plan)["amounts_fen"][programme])
    owed = missing(store, plan, programme, year)
    with store.reading("registry.personal") as conn:
        vouchers = voucher_numbers(conn, store.metadata, voucher_stem(programme, year, plan.helping_unit.code), len(owed))
    out = []
    for r, voucher in zip(owed, vouchers, strict=True):
        out.append({
            "voucher": voucher, "programme": programme, "aid_year": year,
            "person": r["key"] if PROGRAMMES[programme][1] == "person" else None, "household": r["household"],
            "name": r["name"], "detail": r["detail"], "amount_fen": amount, "fund_code": fund,
        })
    return out
