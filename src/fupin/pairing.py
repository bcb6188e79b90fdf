"""挂包帮: pairing leaders and units with villages, and cadres with households.

A pairing holds from its start until it is ended (不脱贫不脱钩: a household
keeps its cadre until it exits, unless the pairing is ended on purpose). A
change of helper ends one pairing and starts another, so the history is kept.

Quotas per rank come from the plan (``[cadres.ranks]``: ``key_help`` and
``contact`` households per cadre, C08). :func:`auto_pair` pairs every unpaired
poor household of the plan's villages within those quotas by one documented
rule (:func:`need_key`), deterministically, and reports what it could not do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from fupin import model
from fupin.access import AccessDenied
from fupin.errors import NotFound, Problem, ValidationError
from fupin.storage import schema as S
from fupin.queries import plan_villages_condition, unit_tree
from fupin.serial import Serialisable
from fupin.visits import HOUSEHOLD_LEVEL

KEY_HELP = "重点帮扶"
CONTACT = "联系"
#: Household statuses that count as poor (to be paired, visited, assessed).
POOR_STATUSES = ("未脱贫", "返贫")
#: Household attributes of the safety-net groups, neediest first (need rule, step 1).
_SAFETY_NET = {"特困供养贫困户": 3, "五保户": 3, "低保特困供养贫困户": 3, "低保特困供养户": 3, "低保贫困户": 2, "低保户": 2}
#: Main causes that leave a household least able to help itself (need rule, step 2).
_HARD_CAUSES = {"因病": 2, "因残": 2, "缺劳力": 1}


@attrs.frozen
class PairingRow(Serialisable):
    """A stored pairing, with the names a reader needs."""

    id: int
    level: str
    start: dt.date
    end: dt.date | None
    cadre: str | None
    cadre_name: str | None
    household: str | None
    head_name: str | None
    group_code: str | None
    kind: str | None
    village: str | None
    unit: str | None
    plan: str | None
    end_reason: str



def _active_on(day: dt.date) -> sa.ColumnElement[bool]:
    p = S.pairings
    return sa.and_(p.c.start_date <= day, sa.or_(p.c.end_date.is_(None), p.c.end_date >= day))


def add_pairing(store: Any, pairing: model.Pairing) -> int:
    """Store a pairing; returns its id.

    The cadre, household, village, unit and plan it names must exist; a cadre
    cannot hold two pairings with one household at the same time.
    """
    store.access.require("pairing.write")
    with store.transaction("pairing.write") as conn:
        return _insert(store, conn, pairing)


def _insert(store: Any, conn: sa.Connection, p: model.Pairing) -> int:
    problems: list[Problem] = []
    household_id = None
    if p.household is not None:
        household_id = conn.execute(sa.select(S.households.c.id).where(S.households.c.number == p.household)).scalar()
        if household_id is None:
            problems.append(Problem("household", "户 / household 未登记 / not registered", p.household))
        else:
            store.access.require_household(conn, "pairing.write", p.household)
    if p.village is not None and not store.access.group_allowed("pairing.write", p.village):
        raise AccessDenied(store.actor, "pairing.write", f"村 {p.village} 不在权限范围内 / village outside your scope")
    for field, column, value in (("cadre", S.cadres.c.code, p.cadre), ("unit", S.units.c.code, p.unit), ("plan", S.plans.c.name, p.plan)):
        if value is not None and not store._exists(conn, column, value):
            problems.append(Problem(field, "未登记 / not registered", value))
    _require_helpers(store, conn, p.cadre, p.unit)
    if p.village is not None:
        level = conn.execute(sa.select(S.areas.c.level).where(S.areas.c.code == p.village)).scalar()
        if level != "village":
            problems.append(Problem("village", "不是已登记的行政村 / not a registered village", p.village))
    if household_id is not None and p.cadre is not None:
        overlap = conn.execute(
            sa.select(S.pairings.c.id, S.pairings.c.start_date).where(
                S.pairings.c.cadre_code == p.cadre,
                S.pairings.c.household_id == household_id,
                sa.or_(S.pairings.c.end_date.is_(None), S.pairings.c.end_date >= p.start),
                *([S.pairings.c.start_date <= p.end] if p.end else []),
            )
        ).first()
        if overlap is not None:
            problems.append(Problem("household", f"该干部已与此户结对 (自 {overlap.start_date}) / the cadre is already paired with this household", p.household))
    store._validate(p, "pairing", problems)
    row = {
        "level": p.level, "cadre_code": p.cadre, "unit_code": p.unit, "household_id": household_id,
        "village_code": p.village, "kind": p.kind, "plan_name": p.plan, "start_date": p.start,
        "end_date": p.end, "end_reason": p.end_reason,
    }
    return store._insert(conn, S.pairings, row, f"{p.cadre or p.unit}:{p.household or p.village}:{p.start}")


def _require_helpers(store: Any, conn: sa.Connection, cadre: str | None, unit: str | None) -> None:
    """Raise unless ``pairing.write`` reaches the helping side too: the cadre's unit, the unit.

    A household in scope is not enough: pairing it with another university's
    cadre would hand that cadre its card.
    """
    if cadre is not None:
        unit_of_cadre = conn.execute(sa.select(S.cadres.c.unit_code).where(S.cadres.c.code == cadre)).scalar()
        if unit_of_cadre is not None and not store.access.unit_allowed("pairing.write", unit_of_cadre):
            raise AccessDenied(store.actor, "pairing.write", f"干部 {cadre} 不在权限范围内 / cadre outside your scope")
    if unit is not None and store._exists(conn, S.units.c.code, unit) and not store.access.unit_allowed("pairing.write", unit):
        raise AccessDenied(store.actor, "pairing.write", f"单位 {unit} 不在权限范围内 / unit outside your scope")


def end_pairing(store: Any, pairing_id: int, end: dt.date, reason: str) -> None:
    """End a pairing on ``end`` (the last day it holds), saying why."""
    store.access.require("pairing.write")
    if not reason.strip():
        raise ValidationError.of("reason", "解除结对须说明原因 / ending a pairing needs a reason")
    with store.transaction("pairing.write") as conn:
        _end(store, conn, pairing_id, end, reason)


def _end(store: Any, conn: sa.Connection, pairing_id: int, end: dt.date, reason: str) -> None:
    row = conn.execute(sa.select(S.pairings).where(S.pairings.c.id == pairing_id).with_for_update()).mappings().first()
    if row is None:
        raise NotFound(f"结对 {pairing_id} 不存在 / no such pairing")
    if row["household_id"] is not None:
        number = conn.execute(sa.select(S.households.c.number).where(S.households.c.id == row["household_id"])).scalar_one()
        store.access.require_household(conn, "pairing.write", number)
    if row["end_date"] is not None:
        raise ValidationError.of("end", f"结对已于 {row['end_date']} 解除 / the pairing has already ended", pairing_id)
    if end < row["start_date"]:
        raise ValidationError.of("end", f"早于结对日期 {row['start_date']} / before the pairing started", end.isoformat())
    conn.execute(
        S.pairings.update().where(S.pairings.c.id == pairing_id).values(end_date=end, end_reason=reason, version=row["version"] + 1)
    )
    store._audit(conn, "update", S.pairings, pairing_id, {"end_date": None}, {"end_date": end, "end_reason": reason}, reason)


def pairings(
    store: Any,
    *,
    cadre: str | None = None,
    household: str | None = None,
    active_on: dt.date | None = None,
    level: str | None = None,
) -> list[PairingRow]:
    """Pairings in the actor's scope, filtered; history included unless ``active_on`` is given."""
    store.access.require("registry.read")
    p, h, c = S.pairings, S.households, S.cadres
    query = (
        sa.select(p, h.c.number, h.c.head_name, h.c.group_code, c.c.name.label("cadre_name"))
        .select_from(p.outerjoin(h, h.c.id == p.c.household_id).outerjoin(c, c.c.code == p.c.cadre_code))
        .where(sa.or_(p.c.household_id.is_(None), h.c.id.in_(sa.select(h.c.id).where(store.access.household_condition("registry.read")))))
        .order_by(p.c.cadre_code, p.c.start_date, h.c.number, p.c.id)
    )
    if cadre:
        query = query.where(p.c.cadre_code == cadre)
    if household:
        query = query.where(h.c.number == household)
    if active_on:
        query = query.where(_active_on(active_on))
    if level:
        query = query.where(p.c.level == store.vocab.check("pairing_level", level, field="level"))
    with store.reading("registry.read") as conn:
        return [
            PairingRow(
                r["id"], r["level"], r["start_date"], r["end_date"], r["cadre_code"], r["cadre_name"], r["number"],
                r["head_name"], r["group_code"], r["kind"], r["village_code"], r["unit_code"], r["plan_name"], r["end_reason"],
            )
            for r in conn.execute(query).mappings()
        ]


# -- transfer -------------------------------------------------------------------------


@attrs.frozen
class TransferResult(Serialisable):
    """What a transfer moved, and the quota the receiving cadre now exceeds (if any)."""

    moved: tuple[tuple[int, int], ...]  # (old pairing id, new pairing id)
    warnings: tuple[str, ...] = ()


def transfer(store: Any, from_cadre: str, to_cadre: str, *, on: dt.date, reason: str, plan: Any = None) -> TransferResult:
    """Move every pairing ``from_cadre`` holds on ``on`` to ``to_cadre`` in one transaction.

    The old pairings end the day before ``on`` with ``reason``; new ones of the
    same kind start on ``on``. If ``plan`` is given, a receiving cadre pushed
    over their rank's quota is reported in ``warnings`` (the move still happens:
    a leaving cadre's households must not be left without a helper).
    """
    store.access.require("pairing.write")
    if from_cadre == to_cadre:
        raise ValidationError.of("to", "不能转给本人 / cannot transfer to the same cadre", to_cadre)
    if not reason.strip():
        raise ValidationError.of("reason", "须说明原因 / a reason is required")
    moved = []
    with store.transaction("pairing.write") as conn:
        if not store._exists(conn, S.cadres.c.code, to_cadre):
            raise NotFound(f"干部 {to_cadre} 未登记 / cadre not registered")
        _require_helpers(store, conn, from_cadre, None)
        _require_helpers(store, conn, to_cadre, None)
        rows = conn.execute(
            sa.select(S.pairings, S.households.c.number)
            .select_from(S.pairings.outerjoin(S.households, S.households.c.id == S.pairings.c.household_id))
            .where(S.pairings.c.cadre_code == from_cadre, _active_on(on))
            .order_by(S.pairings.c.id)
        ).mappings().all()
        if not rows:
            raise NotFound(f"干部 {from_cadre} 在 {on} 没有结对 / the cadre holds no pairing on that day")
        for r in rows:
            _end(store, conn, r["id"], on - dt.timedelta(days=1) if on > r["start_date"] else on, reason)
            new = model.Pairing.new(
                vocab=store.vocab, level=r["level"], start=on, cadre=to_cadre, household=r["number"], kind=r["kind"],
                village=r["village_code"], plan=r["plan_name"],
            )
            moved.append((r["id"], _insert(store, conn, new)))
        warnings = _quota_warnings(conn, plan, [to_cadre], on) if plan is not None else []
    return TransferResult(tuple(moved), tuple(warnings))


def _quota_warnings(conn: sa.Connection, plan: Any, cadres: Sequence[str], on: dt.date) -> list[str]:
    quotas = quota_table(plan)
    ranks = dict(conn.execute(sa.select(S.cadres.c.code, S.cadres.c.rank).where(S.cadres.c.code.in_(cadres))).all())
    held = _held(conn, cadres, on)
    out = []
    for code in cadres:
        quota = quotas.get(ranks.get(code, ""))
        if quota is None:
            continue
        for kind, limit in quota.items():
            n = held.get((code, kind), 0)
            if n > limit:
                out.append(f"干部 {code} 现有{kind} {n} 户, 超过定额 {limit} / cadre {code} now holds {n} {kind}, above the quota of {limit}")
    return out


def _held(conn: sa.Connection, cadres: Iterable[str] | None, on: dt.date) -> dict[tuple[str, str], int]:
    p = S.pairings
    query = (
        sa.select(p.c.cadre_code, p.c.kind, sa.func.count())
        .where(p.c.level == HOUSEHOLD_LEVEL, _active_on(on))
        .group_by(p.c.cadre_code, p.c.kind)
    )
    if cadres is not None:
        query = query.where(p.c.cadre_code.in_(list(cadres)))
    return {(c, k): n for c, k, n in conn.execute(query)}


# -- quotas and automatic pairing -------------------------------------------------------


def quota_table(plan: Any) -> dict[str, dict[str, int]]:
    """Rank -> {kind -> households per cadre}, from the plan's ``[cadres.ranks]`` (C08)."""
    return {r.rank: {KEY_HELP: r.key_help, CONTACT: r.contact} for r in plan.cadres.ranks}


def need_key(household: Mapping[str, Any]) -> tuple:
    """The documented need rule: sorts households neediest first.

    1. safety-net attribute: 特困供养/五保 before 低保 before the rest;
    2. main cause: 因病 and 因残 before 缺劳力 before the rest;
    3. housing and water: a dilapidated house, then no safe drinking water;
    4. lower per-capita net income first (unknown income counts as zero);
    5. the household number, so the order is total and deterministic.
    The neediest get the key-help (重点帮扶) places.
    """
    income = household["net_income_per_capita_fen"]
    return (
        -_SAFETY_NET.get(household["attribute"], 0),
        -_HARD_CAUSES.get(household["main_cause"], 0),
        0 if household["dilapidated"] else 1,
        0 if household["safe_water"] is False else 1,
        income if income is not None else 0,
        household["number"],
    )


@attrs.frozen
class AutoResult(Serialisable):
    """What automatic pairing did and could not do."""

    created: tuple[tuple[str, str, str], ...]  # (cadre, household, kind)
    unfilled: tuple[tuple[str, str, int], ...]  # (cadre, kind, places left empty): too few households
    unpaired: tuple[str, ...]  # households left without a cadre: too few places
    skipped_cadres: tuple[str, ...]  # cadres whose rank has no quota in the plan
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, each pairing made or place left empty as an object."""
        return {
            "created": [{"cadre": c, "household": h, "kind": k} for c, h, k in self.created],
            "unfilled": [{"cadre": c, "kind": k, "places": n} for c, k, n in self.unfilled],
            "unpaired": list(self.unpaired),
            "skipped_cadres": list(self.skipped_cadres),
            "dry_run": self.dry_run,
        }


def plan_cadres(conn: sa.Connection, plan: Any) -> list[tuple[str, str]]:
    """(code, rank) of the cadres of the plan's helping unit and its sub-units, by code."""
    tree = unit_tree(conn, plan.helping_unit.code)
    return [tuple(r) for r in conn.execute(
        sa.select(S.cadres.c.code, S.cadres.c.rank).where(S.cadres.c.unit_code.in_(sorted(tree))).order_by(S.cadres.c.code)
    )]


def auto_pair(store: Any, plan: Any, *, on: dt.date, dry_run: bool = False) -> AutoResult:
    """Pair every unpaired poor household of ``plan``'s villages with the plan's cadres, within quotas.

    Households are ranked by :func:`need_key`; the neediest take the key-help
    places (as many as the cadres' remaining key-help quotas), the next the
    contact places. Places are filled cadre by cadre (rank order of the plan,
    then cadre code) walking the households in villager-group order, and a
    cadre's contact households are taken from the groups of its key-help
    households first, so a cadre's households stay together where possible.
    Pairings held on ``on`` count against the quotas. Nothing is left out
    silently: empty places and households without a cadre are reported.
    """
    store.access.require("pairing.write")
    quotas = quota_table(plan)
    rank_order = {r.rank: i for i, r in enumerate(plan.cadres.ranks)}
    with store.transaction("pairing.write") as conn:
        cadres = plan_cadres(conn, plan)
        skipped = tuple(code for code, rank in cadres if rank not in quotas)
        cadres = sorted(((c, r) for c, r in cadres if r in quotas), key=lambda cr: (rank_order[cr[1]], cr[0]))
        held = _held(conn, [c for c, _ in cadres], on)
        h = S.households
        paired = sa.select(S.pairings.c.household_id).where(S.pairings.c.level == HOUSEHOLD_LEVEL, _active_on(on), S.pairings.c.household_id.isnot(None))
        candidates = conn.execute(
            sa.select(h).where(plan_villages_condition(plan), h.c.status.in_(POOR_STATUSES), h.c.id.not_in(paired),
                               store.access.household_condition("pairing.write"))
        ).mappings().all()
        ranked = sorted(candidates, key=need_key)
        places = {kind: sum(max(quotas[r][kind] - held.get((c, kind), 0), 0) for c, r in cadres) for kind in (KEY_HELP, CONTACT)}
        key_help = ranked[: places[KEY_HELP]]
        contact = ranked[places[KEY_HELP] : places[KEY_HELP] + places[CONTACT]]
        unpaired = tuple(sorted(r["number"] for r in ranked[places[KEY_HELP] + places[CONTACT] :]))
        by_group = {KEY_HELP: _group_ordered(key_help), CONTACT: _group_ordered(contact)}
        created: list[tuple[str, str, str]] = []
        unfilled: list[tuple[str, str, int]] = []
        for code, rank in cadres:
            groups: set[str] = set()
            for kind in (KEY_HELP, CONTACT):
                want = max(quotas[rank][kind] - held.get((code, kind), 0), 0)
                taken = _take(by_group[kind], want, groups)
                groups.update(r["group_code"] for r in taken)
                created += [(code, r["number"], kind) for r in taken]
                if len(taken) < want:
                    unfilled.append((code, kind, want - len(taken)))
        if not dry_run:
            for code, number, kind in created:
                _insert(store, conn, model.Pairing(level=HOUSEHOLD_LEVEL, start=on, cadre=code, household=number, kind=kind, plan=plan.name))
    return AutoResult(tuple(created), tuple(unfilled), unpaired, skipped, dry_run)


def _group_ordered(rows: Sequence[Any]) -> list[Any]:
    """Households by villager group, neediest first within a group."""
    position = {r["number"]: i for i, r in enumerate(rows)}
    return sorted(rows, key=lambda r: (r["group_code"], position[r["number"]]))


def _take(pool: list[Any], n: int, groups: set[str]) -> list[Any]:
    """Take ``n`` households from ``pool``: first from ``groups``, then in pool order."""
    if n <= 0:
        return []
    chosen = [r for r in pool if r["group_code"] in groups][:n]
    if len(chosen) < n:
        picked = {id(r) for r in chosen}
        chosen += [r for r in pool if id(r) not in picked][: n - len(chosen)]
    taken = {id(r) for r in chosen}
    pool[:] = [r for r in pool if id(r) not in taken]
    return chosen


def cadre_summary(conn: sa.Connection, plan: Any, on: dt.date) -> list[dict[str, Any]]:
    """Per cadre of the plan: rank, quota and pairings held on ``on`` by kind."""
    quotas = quota_table(plan)
    held = _held(conn, None, on)
    out = []
    for code, rank in plan_cadres(conn, plan):
        quota = quotas.get(rank, {})
        out.append({
            "cadre": code, "rank": rank,
            "key_help": held.get((code, KEY_HELP), 0), "contact": held.get((code, CONTACT), 0),
            "key_help_quota": quota.get(KEY_HELP), "contact_quota": quota.get(CONTACT),
        })
    return out


__all__ = [
    "AutoResult", "PairingRow", "TransferResult", "add_pairing", "auto_pair", "end_pairing", "need_key",
    "pairings", "quota_table", "transfer",
]
