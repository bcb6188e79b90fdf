"""The core's commitment targets: C01, C03, C04, C06 to C16, C34, C36 and C37.

Each target is a function of a :class:`fupin.checks.CheckContext` that counts
in SQL and returns the figure, what the plan requires, and the records that
prove it (evidence keys ``table:number``). They are contributed by the
built-in plugin ``core`` through ``fupin_targets`` like any plugin's targets.
The campaign targets use the one definition of due and overdue in
:mod:`fupin.visits`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any, NamedTuple

import sqlalchemy as sa

from sqlalchemy.ext.compiler import compiles

from fupin.checks import CheckContext, CheckResult, Param, Status, TargetSpec
from fupin.pairing import CONTACT, HOUSEHOLD_LEVEL, KEY_HELP, POOR_STATUSES, quota_table
from fupin.storage import schema as S
from fupin.queries import count_if, joined, key, plan_villages_condition, split, status_on
from fupin.errors import NotFound
from fupin.visits import (
    DEFAULT_COUNTING_KINDS,
    QUESTIONNAIRE_KINDS,
    CampaignRule,
    VisitForms,
    campaign_household_ids,
    campaign_households,
    counted_visit,
    form_filled,
    in_force_during,
    plan_pairing,
    visit_of_plan,
)

EXITED_STATUSES = ("已脱贫(享受政策)", "已脱贫(不再享受政策)")


# -- shared pieces ----------------------------------------------------------------------------


def _refs(prefix: str, items: Iterable[Any]) -> list[str]:
    return [f"{prefix}:{i}" for i in items]


def _in_villages(ctx: CheckContext) -> sa.ColumnElement[bool]:
    """SQL on ``support_actions``: the action names a beneficiary in the plan's villages (the village or one of
    its villager groups, a household or a person of it, or a unit located in it)."""
    a, b, h, p, u = S.support_actions, S.action_beneficiaries, S.households, S.persons, S.units
    codes = sorted(v.code for v in ctx.plan.villages)
    in_plan = lambda column: sa.func.substr(column, 1, 12).in_(codes)  # noqa: E731  (a villager group's code starts with its village's)
    return sa.exists().where(b.c.action_id == a.c.id, sa.or_(
        sa.and_(b.c.type == "village", in_plan(b.c.ref)),
        sa.and_(b.c.type == "household", b.c.ref.in_(sa.select(h.c.number).where(in_plan(h.c.group_code)))),
        sa.and_(b.c.type == "person", b.c.ref.in_(sa.select(p.c.id_number).join(h, h.c.id == p.c.household_id).where(in_plan(h.c.group_code)))),
        sa.and_(b.c.type == "unit", b.c.ref.in_(sa.select(u.c.code).where(in_plan(u.c.area_code)))),
    ))


def _led_by(ctx: CheckContext, ranks: Iterable[str] | None = None) -> sa.ColumnElement[bool]:
    """SQL on ``support_actions``: a helper of the action is a cadre of the plan's units (of one of ``ranks``, if given)."""
    a, ah, c = S.support_actions, S.action_helpers, S.cadres
    where = [ah.c.action_id == a.c.id, c.c.code == ah.c.cadre_code, c.c.unit_code.in_(ctx.units())]
    if ranks is not None:
        where.append(c.c.rank.in_(sorted(ranks)))
    return sa.exists().where(*where)


def _leader_ranks(ctx: CheckContext) -> list[str]:
    """The ranks of the plan's leaders: ``leader_ranks``, else the first rank the plan's [cadres.ranks] lists."""
    ranks = ctx.param("leader_ranks")
    if ranks is None:
        ranks = [r.rank for r in ctx.plan.cadres.ranks[:1]]
    return list(ranks)


def _month_day(ctx: CheckContext, name: str, year: int) -> dt.date:
    """The parameter ``name`` ("MM-DD") as a day of ``year``; a plan error naming the commitment and key if it is not one."""
    text = ctx.param(name)
    try:
        month, day = (int(x) for x in str(text).split("-"))
        return dt.date(year, month, day)
    except ValueError:
        from fupin.errors import PlanError

        raise PlanError(f"{ctx.plan.origin}: {ctx.commitment.id}.params.{name}: 应为 月-日 / expected MM-DD, got {text!r}") from None


def _label(ctx: CheckContext, list_name: str, value: Any, lang: str) -> str:
    """A code's label from the vocabularies (``group_head`` -> 领导小组组长 / head of the leading group); a value
    no list knows (a plan naming a role in words) as it is."""
    term = ctx.store.vocab.find(list_name, value) if list_name in ctx.store.vocab.names() else None
    if term is None:
        return str(value)
    return term.en.replace("_", " ") if lang == "en" else term.zh


def _labels(ctx: CheckContext, list_name: str, values: Iterable[Any], lang: str) -> str:
    """:func:`_label` of each value, joined as the language joins a list."""
    return ("、" if lang != "en" else ", ").join(_label(ctx, list_name, v, lang) for v in values)


def _rank(ctx: CheckContext, rank: str, lang: str) -> str:
    """A rank as the plan names it (厅级), in English its ``rank_en`` (else the vocabulary's label)."""
    if lang != "en":
        return rank
    for r in ctx.plan.cadres.ranks:
        if r.rank == rank and r.rank_en:
            return r.rank_en
    return _label(ctx, "cadre_rank", rank, "en")


def _days_counted(ctx: CheckContext, found: list[Any], what_zh: str, what_en: str, ever: bool, note: str = "", note_en: str = "") -> CheckResult:
    """At least ``min_per_year`` different days with a counting action (a meeting recorded twice is one meeting)."""
    need = ctx.param("min_per_year")
    days = sorted({r.start_date for r in found})
    return ctx.judge(
        len(days) >= need, f"每年至少 {need} {what_zh}", str(len(days)), _refs("action", (r.ref for r in found)),
        required_en=f"at least {need} {what_en} a year", actual_en=f"{len(days)}",
        anything_recorded=ever, required_n=need, actual_n=len(days), note=note, note_en=note_en,
    )


def poor_households_on(plan: Any, day: dt.date) -> sa.Select:
    """SELECT id of the households of ``plan``'s villages that are poor on ``day`` (by their dated status)."""
    st = status_on(day)
    h = S.households
    return sa.select(h.c.id).join(st, st.c.household_id == h.c.id).where(plan_villages_condition(plan), st.c.status.in_(POOR_STATUSES))


def held(ctx: CheckContext, day: dt.date) -> sa.Subquery:
    """SQL: household pairings (帮户) of the plan (naming it or no plan, with a cadre of its units) in its villages,
    in force on ``day``: id, cadre_code, household_id, kind. Another plan's pairings in a shared village never count."""
    p, h = S.pairings, S.households
    return (
        sa.select(p.c.id, p.c.cadre_code, p.c.household_id, p.c.kind)
        .join(h, h.c.id == p.c.household_id)
        .where(plan_pairing(ctx.plan, ctx.units()), ctx.villages(), p.c.start_date <= day, sa.or_(p.c.end_date.is_(None), p.c.end_date >= day))
        .subquery()
    )



# -- C01, C03, C04, C06, C07 ------------------------------------------------------------------------


def roles(ctx: CheckContext) -> CheckResult:
    """C01: every role of the leading group is held on the check day (the year's end, or ``as_of`` if earlier).

    Counts a ``core.appointment`` of the plan's own units (naming this plan or none) whose role is one of
    ``roles``, in force on that day, naming as helper a cadre of the plan's units of one of ``leader_ranks``
    (default: the plan's first rank). Does not count an appointment naming no cadre or a cadre of another
    unit, one that ended before the day (a one-day appointment), or one of another plan.
    """
    wanted = list(ctx.param("roles"))
    day = ctx.check_day
    kind = "core.appointment"
    found = [a for a in ctx.actions(kind, day, day, where=[_led_by(ctx, _leader_ranks(ctx))]) if (a.details or {}).get("role") in wanted]
    held = {a.details["role"] for a in found}
    missing = [r for r in wanted if r not in held]
    actual = _labels(ctx, "leading_role", sorted(held), "zh") or "无"
    actual_en = _labels(ctx, "leading_role", sorted(held), "en") or "none"
    if missing:
        actual += f" (缺{_labels(ctx, 'leading_role', missing, 'zh')})"
        actual_en += f" (missing: {_labels(ctx, 'leading_role', missing, 'en')})"
    return ctx.judge(not missing, _labels(ctx, "leading_role", wanted, "zh") + f" ({day} 在任)", actual, _refs("action", (a.ref for a in found)),
                     required_en=_labels(ctx, "leading_role", wanted, "en") + f" (held on {day})", actual_en=actual_en,
                     anything_recorded=bool(ctx.actions(kind)), missing=missing)


def meetings(ctx: CheckContext) -> CheckResult:
    """C03: the leadership of the helping unit studies the work at least ``min_per_year`` times a year.

    Counts a ``core.meeting`` dated in the year, registered by the plan's helping unit itself (not by a
    department below it), naming this plan (a meeting about the work), and, when the plan lists ``bodies``,
    held by one of them (``details.body``: 党委常委会, 校长办公会 ...). Meetings on the same day count once.
    Does not count a department's meeting, a meeting of another plan or naming no plan, or one of another body.
    """
    a = S.support_actions
    bodies = ctx.param("bodies")
    kind = "core.meeting"
    where = [a.c.unit_code == ctx.plan.helping_unit.code, a.c.plan_name == ctx.plan.name, a.c.start_date >= ctx.year_start]
    found = [r for r in ctx.actions(kind, ctx.year_start, ctx.year_end, where=where)
             if bodies is None or (r.details or {}).get("body") in bodies]
    return _days_counted(ctx, found, "次领导班子专题研究", "leadership meetings on the work", bool(found) or bool(ctx.actions(kind)))


#: How a plan names the kinds of site visit (C04 ``kinds``), and the mode a site visit records.
SITE_VISIT_MODES = {"research": "调研", "on_site_office": "现场办公", "调研": "调研", "现场办公": "现场办公"}


def site_visits(ctx: CheckContext) -> CheckResult:
    """C04: the plan's leaders go on site (research or on-site office) at least ``min_per_year`` times a year.

    Counts a ``core.site_visit`` of the plan's own units dated in the year, of one of the ``kinds``
    (``research`` 调研, ``on_site_office`` 现场办公), at the plan's villages (a beneficiary in them: the
    village, a household, a person or a unit located there), with a helper who is a leader: a cadre of the
    plan's units of one of ``leader_ranks`` (default: the plan's first rank, the 校级领导 of the reference
    plan). Visits on the same day count once. Does not count a visit elsewhere (a meeting in the provincial
    capital names no beneficiary in the village), one without a leader, or one of another plan.
    """
    a = S.support_actions
    kinds = ctx.param("kinds")
    unknown = [k for k in (kinds or ()) if k not in SITE_VISIT_MODES]
    modes = None if kinds is None else {SITE_VISIT_MODES[k] for k in kinds if k in SITE_VISIT_MODES}
    kind = "core.site_visit"
    where = [a.c.start_date >= ctx.year_start, _in_villages(ctx), _led_by(ctx, _leader_ranks(ctx))]
    found = [r for r in ctx.actions(kind, ctx.year_start, ctx.year_end, where=where)
             if modes is None or (r.details or {}).get("mode", "调研") in modes]
    note = f"方案写了未知的到点方式: {'、'.join(unknown)} (可用: 调研、现场办公)" if unknown else ""
    note_en = f"the plan names unknown kinds of site visit: {', '.join(unknown)} (known: research, on-site office)" if unknown else ""
    return _days_counted(ctx, found, "次校领导到点调研或现场办公", "leaders' site visits (research or on-site office)",
                         bool(found) or bool(ctx.actions(kind)), note, note_en)


def _local(place: str, ctx: CheckContext) -> str:
    """``place`` without the names of the areas above the plan's towns (会泽县者海镇 -> 者海镇), to compare places."""
    place = "".join(str(place or "").split())
    above = {a.name_zh for v in ctx.plan.villages for a in v.parents if a.level in ("province", "city", "county")}
    changed = True
    while changed:
        changed = False
        for name in above:
            if name and place.startswith(name) and len(place) > len(name):
                place, changed = place[len(name):], True
    return place


def _held_days(postings: list[Any], start: dt.date, end: dt.date) -> int:
    """Days of [start, end] covered by at least one of ``postings`` (overlaps counted once)."""
    days: set[dt.date] = set()
    for p in postings:
        day = max(p.start_date, start)
        while day <= min(p.end_date, end):
            days.add(day)
            day += dt.timedelta(days=1)
    return len(days)


def secondments(ctx: CheckContext) -> CheckResult:
    """C06: roles moved by ``moved_by``; from ``seconded_from`` the seconded roles held every year.

    A ``core.secondment`` counts only when it is of the plan's own units, names as helper a cadre of the
    plan's units, lasts at least ``min_days`` days (start to end) and is posted to the plan's place:

    - in ``moved_by``'s year, a moved role counts when its posting starts inside the plan period and by
      ``moved_by``, is to ``moved_to_zh`` and (when the plan says where from) from ``moved_from_zh``;
    - from ``seconded_from``'s year, a seconded role counts for a year when postings starting on or after
      ``seconded_from``, to one of the plan's towns or villages, hold it at least ``min_days`` days of the
      year (all of it, if the year checked is shorter).

    Places are compared without the province, city and county names (会泽县者海镇 is 者海镇). Does not
    count a posting naming no cadre, elsewhere (昆明), too short, or begun before the plan's window.
    """
    moved_by, seconded_from = ctx.param("moved_by"), ctx.param("seconded_from")
    min_days = ctx.param("min_days")
    moved_to, moved_from = ctx.param("moved_to_zh"), ctx.param("moved_from_zh")
    moved_roles, seconded_roles = list(ctx.param("moved_roles") or ()), list(ctx.param("seconded_roles") or ())
    a = S.support_actions
    kind = "core.secondment"
    long_enough = lambda r: (r.end_date - r.start_date).days + 1 >= min_days  # noqa: E731
    towns = {_local(v.parent("town").name_zh, ctx) for v in ctx.plan.villages if v.parent("town")}
    places = towns | {v.name_zh for v in ctx.plan.villages} | {t + v.name_zh for t in towns for v in ctx.plan.villages}
    ever = bool(ctx.actions(kind))
    # A year can need both: the move (in moved_by's year) and the yearly secondments (from seconded_from's year).
    parts: list[tuple[str, str, list[str], set[str]]] = []  # (what is required in Chinese, in English, roles wanted, roles held)
    found: list[Any] = []
    deadline = None
    if moved_by is not None and ctx.year == moved_by.year:
        to = {_local(moved_to, ctx)} if moved_to else places
        rows = ctx.actions(kind, ctx.plan.period_start, moved_by,
                           where=[a.c.start_date >= ctx.plan.period_start, _led_by(ctx)])
        moved = [r for r in rows if (r.details or {}).get("role") in moved_roles and long_enough(r)
                 and _local((r.details or {}).get("posted_to"), ctx) in to
                 and (not moved_from or _local((r.details or {}).get("moved_from"), ctx) == _local(moved_from, ctx))]
        found += moved
        where_to = f"{moved_from + ' → ' if moved_from else ''}{moved_to or '、'.join(sorted(places))}"
        moved_held = {r.details["role"] for r in moved}
        parts.append((_labels(ctx, "leading_role", moved_roles, "zh") + f" 于 {moved_by} 前迁至 {where_to}, 每次至少 {min_days} 天",
                      _labels(ctx, "leading_role", moved_roles, "en") + f" moved by {moved_by} ({where_to}), at least {min_days} days each",
                      moved_roles, moved_held))
        # A move missing once its deadline has passed is not met, whatever the rest of the year brings.
        deadline = moved_by if set(moved_roles) - moved_held else None
    if seconded_from is not None and ctx.year >= seconded_from.year:
        rows = ctx.actions(kind, ctx.year_start, ctx.year_end, where=[a.c.start_date >= seconded_from, _led_by(ctx)])
        postings = [r for r in rows if (r.details or {}).get("role") in seconded_roles and long_enough(r)
                    and _local((r.details or {}).get("posted_to"), ctx) in places]
        need = min(min_days, (ctx.year_end - ctx.year_start).days + 1)
        held = set()
        for role in seconded_roles:
            mine = [r for r in postings if r.details["role"] == role]
            if _held_days(mine, ctx.year_start, ctx.year_end) >= need:
                held.add(role)
                found += mine
        parts.append((_labels(ctx, "leading_role", seconded_roles, "zh") + f" 本年在{'、'.join(sorted(places))}派驻至少 {need} 天",
                      _labels(ctx, "leading_role", seconded_roles, "en") + f" posted to {', '.join(sorted(places))} at least {need} days this year",
                      seconded_roles, held))
    if not parts:
        return ctx.result(Status.NOT_YET_DUE, "", "", note="本年无要求", note_en="nothing required this year")
    missing = [role for *_, wanted, held in parts for role in wanted if role not in held]
    return ctx.judge(
        not missing, "; ".join(p[0] for p in parts), "; ".join(_labels(ctx, "leading_role", sorted(p[3]), "zh") or "无" for p in parts),
        _refs("action", sorted({r.ref for r in found})), deadline=deadline, anything_recorded=ever, missing=missing,
        required_en="; ".join(p[1] for p in parts), actual_en="; ".join(_labels(ctx, "leading_role", sorted(p[3]), "en") or "none" for p in parts),
    )


def cadres_by_rank(ctx: CheckContext) -> CheckResult:
    """C07: cadres of each rank taking part (holding a pairing during the year) against the plan's head counts."""
    p, c = S.pairings, S.cadres
    taking_part = sa.exists().where(p.c.cadre_code == c.c.code, p.c.level == HOUSEHOLD_LEVEL, in_force_during(ctx.year_start, ctx.year_end))
    by_rank: dict[str, int] = {}
    refs: list[str] = []
    for rank, n, codes in ctx.conn.execute(
        sa.select(c.c.rank, sa.func.count(), joined(key("cadre", c.c.code))).where(c.c.unit_code.in_(ctx.units()), taking_part).group_by(c.c.rank)
    ):
        by_rank[rank] = n
        refs += split(codes)
    anything = bool(by_rank) or ctx.conn.execute(sa.select(c.c.code).where(c.c.unit_code.in_(ctx.units())).limit(1)).first() is not None
    wanted = {r.rank: r.count for r in ctx.plan.cadres.ranks}
    short = {r: n - by_rank.get(r, 0) for r, n in wanted.items() if by_rank.get(r, 0) < n}
    fmt = lambda counts: ", ".join(f"{r} {counts.get(r, 0)}" for r in wanted)  # noqa: E731
    fmt_en = lambda counts: ", ".join(f"{_rank(ctx, r, 'en')} {counts.get(r, 0)}" for r in wanted)  # noqa: E731
    return ctx.judge(not short, fmt(wanted), fmt(by_rank), sorted(refs), anything_recorded=anything,
                     required_en=fmt_en(wanted), actual_en=fmt_en(by_rank), required_by_rank=wanted, actual_by_rank=by_rank)


# -- C08, C09, C12: pairings -----------------------------------------------------------------------


def pairing_quota(ctx: CheckContext) -> CheckResult:
    """C08: every cadre of a rank with quotas holds exactly its quota of key-help and contact households."""
    day = ctx.check_day
    quotas = quota_table(ctx.plan)
    hp = held(ctx, day)
    c = S.cadres
    ours = sa.and_(c.c.unit_code.in_(ctx.units()), c.c.rank.in_(list(quotas)))
    # Cadres taking part: those holding a pairing on the day (one who left and handed over is not counted),
    # with their households of each kind and the pairings (the evidence, cadre by cadre).
    cadres = ctx.conn.execute(
        sa.select(c.c.code, c.c.rank, count_if(hp.c.kind == KEY_HELP), count_if(hp.c.kind == CONTACT), joined(key("pairing", hp.c.id)))
        .select_from(hp.join(c, c.c.code == hp.c.cadre_code)).where(ours).group_by(c.c.code, c.c.rank).order_by(c.c.code)
    ).all()
    ok_cadres = {code for code, rank, k, n, _ in cadres if (k, n) == (quotas[rank][KEY_HELP], quotas[rank][CONTACT])}
    off = [code for code, *_ in cadres if code not in ok_cadres]
    evidence = [ref for *_, refs in cadres for ref in split(refs)]
    wanted = sum(r.count for r in ctx.plan.cadres.ranks if r.rank in quotas)
    quota_text = "; ".join(f"{r} 重点帮扶 {q[KEY_HELP]} 户、联系 {q[CONTACT]} 户" for r, q in quotas.items())
    quota_en = "; ".join(f"{_rank(ctx, r, 'en')} {q[KEY_HELP]} key-help and {q[CONTACT]} contact households" for r, q in quotas.items())
    shown = f"{'、'.join(off[:20])}{' …' if len(off) > 20 else ''}"
    return ctx.judge(
        not off and len(ok_cadres) >= wanted, f"{wanted} 名干部各按定额结对 ({quota_text})",
        f"{len(ok_cadres)}/{len(cadres)} 名干部达定额 ({day})", evidence,
        required_en=f"{wanted} cadres each paired at quota ({quota_en})", actual_en=f"{len(ok_cadres)}/{len(cadres)} cadres at quota (on {day})",
        deadline=ctx.params.get("by"), note=f"未达定额的干部: {shown}" if off else "", note_en=f"cadres off quota: {shown}" if off else "",
        anything_recorded=bool(cadres),
        cadres_at_quota=len(ok_cadres), cadres=len(cadres), off_quota=off,
    )


def pairing_totals(ctx: CheckContext) -> CheckResult:
    """C09: households paired, by kind, against the totals the plan states; its inconsistency with C08 is noted."""
    day = ctx.check_day
    hp = held(ctx, day)
    distinct = lambda kind: sa.func.count(sa.distinct(sa.case((hp.c.kind == kind, hp.c.household_id))))  # noqa: E731
    households, key_help, contact, refs = ctx.conn.execute(
        sa.select(sa.func.count(sa.distinct(hp.c.household_id)), distinct(KEY_HELP), distinct(CONTACT), joined(key("pairing", hp.c.id)))
    ).one()
    c = ctx.plan.cadres
    quota = c.quota_totals()
    notes = []
    if c.stated_key_help is not None and quota["key_help"] != c.stated_key_help:
        notes.append((f"按C08定额应为重点帮扶 {quota['key_help']} 户、联系 {quota['contact']} 户, 方案写 {c.stated_key_help}、{c.stated_contact} 户",
                      f"the quotas of C08 give {quota['key_help']} key-help and {quota['contact']} contact households, "
                      f"the plan states {c.stated_key_help} and {c.stated_contact}"))
    need = c.stated_visited or (c.stated_key_help or 0) + (c.stated_contact or 0)
    return ctx.judge(
        households >= need,
        f"至少 {need} 户 (重点帮扶 {c.stated_key_help}, 联系 {c.stated_contact})",
        f"{households} 户 (重点帮扶 {key_help}, 联系 {contact})",
        split(refs), note="; ".join(n[0] for n in notes), note_en="; ".join(n[1] for n in notes), anything_recorded=bool(households),
        required_en=f"at least {need} households ({c.stated_key_help} key-help, {c.stated_contact} contact)",
        actual_en=f"{households} households ({key_help} key-help, {contact} contact)",
        households=households, key_help=key_help, contact=contact, required_households=need,
    )


def household_classification(ctx: CheckContext) -> CheckResult:
    """C12: every campaign household of the year is classified key-help or contact.

    Counts: the campaign households of :mod:`fupin.visits` (the households C09, C10, C13 and C15
    count: those of the plan's villages with a pairing of the plan in force during the year; the
    seed classifies the 336 visited households, not every poor household of the village), and among
    them those with a pairing of the plan of one of the classes ``kinds`` in force during the year.
    Does not count: pairings of another plan or with a cadre of another unit, pairings outside the
    year, households of other villages.
    """
    kinds = [ctx.store.vocab.check("pairing_kind", k, field="kinds") for k in ctx.param("kinds")]
    p = S.pairings
    camp = campaign_household_ids(ctx.plan, ctx.year_start, ctx.year_end, ctx.units()).cte("camp")
    # Each campaign household's pairings of a class, through the index on pairings.household_id.
    of_class = sa.and_(p.c.household_id == camp.c.household_id, plan_pairing(ctx.plan, ctx.units()),
                       in_force_during(ctx.year_start, ctx.year_end), p.c.kind.in_(kinds))
    households, classified, refs = ctx.conn.execute(
        sa.select(sa.func.count(sa.distinct(camp.c.household_id)), sa.func.count(sa.distinct(p.c.household_id)), joined(key("pairing", p.c.id)))
        .select_from(camp.outerjoin(p, of_class))
    ).one()
    missing = households - classified
    return ctx.judge(
        bool(households) and not missing, f"{households} 户结对户全部分为{_labels(ctx, 'pairing_kind', kinds, 'zh')}",
        f"{classified}/{households}", sorted(split(refs)), anything_recorded=bool(households),
        required_en=f"all {households} paired households classified as {' or '.join(_label(ctx, 'pairing_kind', k, 'en') for k in kinds)}",
        actual_en=f"{classified}/{households}",
        note=f"{missing} 户未分类" if missing else "", note_en=f"{missing} households not classified" if missing else "",
        classified=classified, households=households,
    )



# -- C10, C11, C13: visits -------------------------------------------------------------------------


#: The questionnaire answer that records a household's help needs (C13).
NEEDS_QUESTION = "help_needs"


class _NonEmptyList(sa.sql.expression.ColumnElement):
    """SQL: the JSON column's ``key`` holds a non-empty list (questionnaire answers read in the database)."""

    type = sa.Boolean()
    inherit_cache = True

    def __init__(self, column: sa.ColumnElement, key: str) -> None:
        self.column, self.key = column, key


@compiles(_NonEmptyList, "sqlite")
def _non_empty_sqlite(element: _NonEmptyList, compiler: Any, **kw: Any) -> str:
    return f"(coalesce(json_array_length({compiler.process(element.column, **kw)}, '$.\"{element.key}\"'), 0) > 0)"


@compiles(_NonEmptyList, "postgresql")
def _non_empty_postgresql(element: _NonEmptyList, compiler: Any, **kw: Any) -> str:
    item = f"({compiler.process(element.column, **kw)} -> '{element.key}')"
    return f"(CASE WHEN json_typeof{item} = 'array' THEN json_array_length{item} > 0 ELSE false END)"


class CampaignYear(NamedTuple):
    """What C10, C13 and C15 count of a year's campaign households, from one statement."""

    households: int
    visited: int  # with the year's counted visits (C10)
    visit_refs: str | None  # the keys of those visits, joined (C10)
    with_needs: int  # with help needs recorded in a visit of the year meeting C11's form rule (C13)
    needs_refs: str | None  # the key of each one's latest such visit, joined (C13)
    status_changes: int  # status rows dated in the year (C13)
    with_cause: int  # with a main cause of poverty on the card (C13)


def campaign_rule(ctx: CheckContext) -> CampaignRule | None:
    """The plan's campaign rule (read once per check), or None when it has no C10-like commitment."""
    if "campaign_rule" not in ctx.cache:
        try:
            ctx.cache["campaign_rule"] = CampaignRule.of(ctx.plan, ctx.store.vocab)
        except NotFound:
            ctx.cache["campaign_rule"] = None
    return ctx.cache["campaign_rule"]


def campaign_year(ctx: CheckContext) -> CampaignYear:
    """The year's figures of the campaign households for C10 (after the first round), C13 and C15.

    One statement, read once per check: the campaign households and one pass over the plan's
    visits of the year to them (made by a cadre of the plan's units, naming this plan or none),
    as the three targets would otherwise each find them again.
    """
    cached = ctx.cache.get(("campaign_year", ctx.year))
    if cached is not None:
        return cached
    rule = campaign_rule(ctx)
    forms = rule.forms if rule else VisitForms.of(ctx.plan, ctx.store.vocab)
    v, hs, h = S.visits, S.household_status, S.households
    units = ctx.units()
    camp = campaign_household_ids(ctx.plan, ctx.year_start, ctx.year_end, units).cte("camp")
    filled = form_filled(forms, "household")
    counting = sa.and_(v.c.kind.in_(rule.counts_as_visit), filled) if rule else sa.false()
    needs = sa.and_(filled, _NonEmptyList(v.c.answers, NEEDS_QUESTION))
    start = rule.counts_from(ctx.year_start) if rule else ctx.year_start
    per = (
        sa.select(
            v.c.household_id, count_if(counting).label("n"), joined(sa.case((counting, key("visit", v.c.ref)))).label("refs"),
            sa.func.max(sa.case((needs, v.c.ref))).label("needs_ref"),
        )
        .join(camp, camp.c.household_id == v.c.household_id)
        .where(v.c.visit_date >= start, v.c.visit_date <= ctx.year_end, visit_of_plan(ctx.plan, units))
        .group_by(v.c.household_id)
        .subquery()
    )
    done = sa.func.coalesce(per.c.n, 0) >= (rule.visits_needed(ctx.year) if rule else 1)
    changes = (
        sa.select(sa.func.count()).select_from(hs.join(camp, camp.c.household_id == hs.c.household_id))
        .where(hs.c.effective >= ctx.year_start, hs.c.effective <= ctx.year_end)
        .scalar_subquery()
    )
    causes = sa.select(sa.func.count()).select_from(h.join(camp, camp.c.household_id == h.c.id)).where(h.c.main_cause != "").scalar_subquery()
    row = ctx.conn.execute(
        sa.select(
            sa.func.count(), count_if(done), joined(sa.case((done, per.c.refs))),
            sa.func.count(per.c.needs_ref), joined(key("visit", per.c.needs_ref)), changes, causes,
        ).select_from(camp.outerjoin(per, per.c.household_id == camp.c.household_id))
    ).one()
    found = ctx.cache[("campaign_year", ctx.year)] = CampaignYear(*row)
    return found


def visit_campaign(ctx: CheckContext) -> CheckResult:
    """C10: pairing by its date and the first round by its deadline; then every household visited each year.

    Counts (:func:`fupin.visits.counted_visit`): interview visits (``counts_as_visit``, default
    首轮走访 and 回访) of campaign households, made by a cadre of the plan's units, naming this plan or
    none, meeting C11's questionnaire rule, dated from the plan period's first day. The first round
    needs one such visit per household paired on ``first_round_by``, dated up to it; each later year
    needs ``revisit_per_year`` in the year. Does not count: 送温暖 gift visits and phone calls, visits
    before the plan period (a visit from 2014 proves nothing of 2015), visits by another unit's
    cadres or for another plan, visits without the household questionnaire, its answers or (when
    C11 asks) its record, households of another plan's pairings or villages.
    """
    for name in ("pairing_by", "first_round_by", "revisit_per_year", "counts_as_visit", "first_visit_days"):
        ctx.param(name)  # all read through the rule below, shared with the worklist and the report
    rule = CampaignRule.of(ctx.plan, ctx.store.vocab)
    if ctx.year < rule.first_year:
        return ctx.result(ctx.judge(False, "", "", deadline=dt.date.max).status, "", "", note="首轮走访之前", note_en="before the first round of visits")
    if ctx.year == rule.first_year:
        deadline = rule.first_round_by
        households, visited, refs, paired_late, late_visits = _first_round(ctx, rule)
        required = f"{rule.pairing_by} 前结对, {rule.counts_from(dt.date(1, 1, 1))} 至 {deadline} 每户首轮走访 1 次"
        required_en = f"paired by {rule.pairing_by}, one first-round visit per household from {rule.counts_from(dt.date(1, 1, 1))} to {deadline}"
    else:
        deadline = ctx.year_end
        year = campaign_year(ctx)
        households, visited, refs, paired_late, late_visits = year.households, year.visited, year.visit_refs, 0, 0
        required = f"{ctx.year} 年每户至少回访 {rule.revisit_per_year} 次"
        required_en = f"at least {rule.revisit_per_year} follow-up visit(s) per household in {ctx.year}"
    missing = households - visited
    notes = []
    if paired_late:
        notes.append((f"{paired_late} 户在 {rule.pairing_by} 之后才结对", f"{paired_late} households paired after {rule.pairing_by}"))
    if late_visits:
        notes.append((f"{late_visits} 户在期限后才走访", f"{late_visits} households visited after the deadline"))
    if missing:
        notes.append((f"{missing} 户未按期走访", f"{missing} households not visited in time"))
    return ctx.judge(
        bool(households) and not missing and not paired_late, required,
        f"{visited}/{households} 户", split(refs), deadline=deadline, note="; ".join(n[0] for n in notes),
        required_en=required_en, actual_en=f"{visited}/{households} households", note_en="; ".join(n[1] for n in notes),
        anything_recorded=bool(households), households=households, visited=visited,
        paired_late=paired_late, visited_late=late_visits, visits_needed=rule.visits_needed(ctx.year),
    )


def _first_round(ctx: CheckContext, rule: CampaignRule) -> tuple[int, int, str | None, int, int]:
    """C10 in the first-round year: households paired by the deadline, with a counted visit from the plan's first
    day to the deadline (joined evidence), paired after ``pairing_by``, visited only after the deadline; one statement."""
    v = S.visits
    deadline, since = rule.first_round_by, rule.counts_from(dt.date(1, 1, 1))
    units = ctx.units()
    camp = campaign_households(ctx.plan, deadline, deadline, units).subquery()
    counting = counted_visit(rule, ctx.plan, units)
    in_camp = v.c.household_id.in_(sa.select(camp.c.household_id))
    per = (
        sa.select(v.c.household_id, sa.func.count().label("n"), joined(key("visit", v.c.ref)).label("refs"))
        .where(in_camp, counting, v.c.visit_date >= since, v.c.visit_date <= deadline)
        .group_by(v.c.household_id)
        .subquery()
    )
    late = sa.select(v.c.household_id).where(in_camp, counting, v.c.visit_date > deadline, v.c.visit_date <= ctx.year_end)
    done = sa.func.coalesce(per.c.n, 0) >= rule.visits_needed(rule.first_year)
    households, visited, refs, paired_late, late_visits = ctx.conn.execute(
        sa.select(
            sa.func.count(), count_if(done), joined(sa.case((done, per.c.refs))),
            count_if(camp.c.paired_from > (rule.pairing_by or dt.date.max)),
            count_if(sa.and_(sa.not_(done), camp.c.household_id.in_(late))),
        ).select_from(camp.outerjoin(per, per.c.household_id == camp.c.household_id))
    ).one()
    return households, visited, refs, paired_late, late_visits


def visit_questionnaire(ctx: CheckContext) -> CheckResult:
    """C11: every interview visit of the year fills the questionnaire of its scope, and every plan village has one.

    Counts: the plan's interview visits of the year (kinds ``visit_kinds`` and C10's ``counts_as_visit``,
    made by a cadre of the plan's units, naming this plan or none) to a household of the plan's villages
    or to a plan village. Each needs a questionnaire of its scope that the plan names in
    ``questionnaires`` (by ``title_zh`` or ``also_zh``; any stored one of the scope when the plan names
    none), its answers, and a written record when ``visit_record``; each plan village needs at least one
    such village visit in the year (the seed: "走访贫困村贫困户, 认真填写《云南省贫困村访谈问卷》和
    《云南省贫困户访谈问卷》"; the village is visited each year as the households are). Does not count:
    visits by another unit's cadres or for another plan, other villages' visits, a household visit with
    the village form (or the other way round), empty answers.
    """
    given = {name: ctx.param(name) for name in ("visit_kinds", "visit_record", "questionnaires")}
    forms = VisitForms.from_params({k: x for k, x in given.items() if x is not None}, ctx.commitment.id, ctx.store.vocab)
    rule = campaign_rule(ctx)
    kinds = sorted(set(forms.kinds) | set(rule.counts_as_visit if rule else ()))
    v, h = S.visits, S.households
    codes = sorted(x.code for x in ctx.plan.villages)
    to_household = sa.and_(v.c.household_id.isnot(None), ctx.villages())
    to_village = sa.and_(v.c.household_id.is_(None), v.c.village_code.in_(codes))
    good_village = sa.and_(to_village, form_filled(forms, "village"))
    good = sa.or_(sa.and_(to_household, form_filled(forms, "household")), good_village)
    visits, with_answers, refs, villages = ctx.conn.execute(
        sa.select(sa.func.count(), count_if(good), joined(sa.case((good, key("visit", v.c.ref)))),
                  joined(sa.case((good_village, v.c.village_code))))
        .select_from(v.outerjoin(h, h.c.id == v.c.household_id))
        .where(v.c.visit_date >= ctx.year_start, v.c.visit_date <= ctx.year_end, v.c.kind.in_(kinds),
               visit_of_plan(ctx.plan, ctx.units()), sa.or_(to_household, to_village))
    ).one()
    bad = visits - with_answers
    unvisited = [c for c in codes if c not in set(split(villages))]
    titles = "、".join(f"《{t}》" for scope in ("village", "household") for t in forms.titles.get(scope, ())[:1]) or "访谈问卷"
    names = {x.code: x.name_zh for x in ctx.plan.villages}
    unvisited_names = [names.get(c, c) for c in unvisited]
    notes = [(f"{bad} 次走访缺问卷、答案或记录", f"{bad} visits without the questionnaire, its answers or a record") if bad else ("", ""),
             (f"{'、'.join(unvisited_names)} 本年无村级问卷", f"no village questionnaire this year for {', '.join(unvisited_names)}")
             if unvisited else ("", "")]
    return ctx.judge(
        bool(visits) and not bad and not unvisited,
        f"每次走访填写{titles}" + ("并记录" if forms.visit_record else "") + "; 每村每年填写村级问卷",
        f"{with_answers}/{visits}", sorted(split(refs)), note="; ".join(n[0] for n in notes if n[0]),
        required_en="every visit with its questionnaire" + (" and a written record" if forms.visit_record else "")
        + "; the village questionnaire for every village each year",
        actual_en=f"{with_answers}/{visits} visits", note_en="; ".join(n[1] for n in notes if n[1]),
        anything_recorded=bool(visits), with_answers=with_answers, visits=visits, villages_without=unvisited,
    )


def registration_data(ctx: CheckContext) -> CheckResult:
    """C13: each campaign household's registration data is on record: its main cause (on its card) and its needs.

    Counts: the campaign households (as C10, C12 and C15); a main cause of poverty on the household's
    card (``required`` has ``main_cause``); help needs (``required`` has ``needs``) answered in a visit of
    the plan meeting C11's form rule: with ``track_changes`` (动态管理, kept up to date) in a visit of the
    year checked, else in any such visit from the plan's first day to the year's end. Status changes
    dated in the year are reported. Does not count: needs from another unit's or plan's visits, from
    a visit without the plan's questionnaire, or (with ``track_changes``) from an earlier year.
    """
    required = list(ctx.param("required"))
    track = bool(ctx.param("track_changes"))
    unknown = [r for r in required if r not in REGISTRATION_ITEMS]
    if unknown:
        return ctx.result(Status.NO_DATA, "", "", note=f"方案写了未知的资料项: {'、'.join(unknown)}",
                          note_en=f"the plan names unknown items: {', '.join(unknown)}")
    year = campaign_year(ctx)
    households = year.households
    with_needs, needs_refs = (year.with_needs, year.needs_refs) if track else _needs_so_far(ctx)
    found = {"main_cause": year.with_cause, "needs": with_needs}
    short = {r: households - found[r] for r in required if found[r] < households}
    labels = {"main_cause": "致贫原因", "needs": "帮扶需求"}
    labels_en = {"main_cause": "main cause of poverty", "needs": "help needs"}
    when, when_en = ("本年", "this year") if track else (f"截至 {ctx.year_end}", f"by {ctx.year_end}")
    return ctx.judge(
        bool(households) and not short, "每户" + "、".join(labels[r] for r in required) + " 在案" + (" (动态管理: 每年更新)" if track else ""),
        ", ".join(f"{labels[r]} {found[r]}/{households}" for r in required) + f" ({when})",
        sorted(split(needs_refs)),
        required_en="every household's " + " and ".join(labels_en[r] for r in required) + " on record"
        + (" (kept up to date each year)" if track else ""),
        actual_en=", ".join(f"{labels_en[r]} {found[r]}/{households}" for r in required) + f" ({when_en})",
        anything_recorded=bool(households), note="; ".join(f"{n} 户缺{labels[r]}" for r, n in short.items()),
        note_en="; ".join(f"{n} households without their {labels_en[r]}" for r, n in short.items()),
        with_needs=with_needs, with_cause=year.with_cause, households=households, status_changes=year.status_changes,
    )


#: What C13's ``required`` may name: a main cause on the card, help needs answered in a visit.
REGISTRATION_ITEMS = ("main_cause", "needs")


def _needs_so_far(ctx: CheckContext) -> tuple[int, str | None]:
    """C13 without ``track_changes``: campaign households with needs answered in a visit of the plan up to the year's end."""
    rule = campaign_rule(ctx)
    forms = rule.forms if rule else VisitForms.of(ctx.plan, ctx.store.vocab)
    v = S.visits
    units = ctx.units()
    camp = campaign_household_ids(ctx.plan, ctx.year_start, ctx.year_end, units).subquery()
    latest = (
        sa.select(v.c.household_id, sa.func.max(v.c.ref).label("ref"))
        .where(v.c.household_id.in_(sa.select(camp.c.household_id)), v.c.visit_date >= ctx.plan.period_start, v.c.visit_date <= ctx.year_end,
               visit_of_plan(ctx.plan, units), form_filled(forms, "household"), _NonEmptyList(v.c.answers, NEEDS_QUESTION))
        .group_by(v.c.household_id)
        .subquery()
    )
    n, refs = ctx.conn.execute(sa.select(sa.func.count(), joined(key("visit", latest.c.ref))).select_from(latest)).one()
    return n, refs


# -- C14, C15, C16, C34, C36 -----------------------------------------------------------------------


def _about_villages(ctx: CheckContext, table: sa.Table) -> sa.ColumnElement[bool]:
    """SQL on ``diary_entries``/``cases``: about a household of the plan's villages, or one of the villages (or its groups)."""
    h = S.households
    codes = sorted(v.code for v in ctx.plan.villages)
    return sa.or_(
        table.c.household_id.in_(sa.select(h.c.id).where(ctx.villages())),
        sa.func.substr(table.c.village_code, 1, 12).in_(codes),
    )


def _diary(ctx: CheckContext, start: dt.date, end: dt.date) -> list[Any]:
    """Diary entries dated in [start, end] of cadres of the plan's units about the plan's villages or their households."""
    d, c = S.diary_entries, S.cadres
    return ctx.conn.execute(
        sa.select(d.c.ref, d.c.kind, d.c.entry_date, d.c.case_ref)
        .join(c, c.c.code == d.c.cadre_code)
        .where(d.c.entry_date >= start, d.c.entry_date <= end, c.c.unit_code.in_(ctx.units()), _about_villages(ctx, d))
        .order_by(d.c.entry_date, d.c.id)
    ).all()


#: C14's ``records``: what each names.
PUBLICITY_RECORDS = {"publicity_event": ("宣传活动", "publicity event"), "feedback_item": ("意见反馈", "villagers' opinion passed on")}


def publicity_feedback(ctx: CheckContext) -> CheckResult:
    """C14: policy publicity in the year, and villagers' opinions collected and passed on, as ``records`` lists.

    ``publicity_event`` needs a ``core.publicity`` of the plan's own units dated in the year at the plan's
    villages (a beneficiary there); ``feedback_item`` needs an opinion: an item of such an event's
    ``feedback_items`` with ``passed_to`` (whom it was passed to) recorded, or a diary entry 意见建议 of a
    cadre of the plan's units about the plan's villages or households. Does not count publicity elsewhere or
    of another plan or unit, nor opinions never passed on.
    """
    records = list(ctx.param("records") or PUBLICITY_RECORDS)
    a = S.support_actions
    kind = "core.publicity"
    events = ctx.actions(kind, ctx.year_start, ctx.year_end, where=[a.c.start_date >= ctx.year_start, _in_villages(ctx)])
    passed = [e for e in events if (e.details or {}).get("passed_to")]
    items = sum(len(e.details.get("feedback_items") or ()) for e in passed)
    feedback = [d for d in _diary(ctx, ctx.year_start, ctx.year_end) if d.kind == "意见建议"]
    have = {"publicity_event": bool(events), "feedback_item": (items + len(feedback)) > 0}
    missing = [r for r in records if not have.get(r, False)]
    unknown = [r for r in records if r not in PUBLICITY_RECORDS]
    return ctx.judge(
        not missing, "、".join(PUBLICITY_RECORDS.get(r, (r, r))[0] for r in records) + "各至少 1 次",
        f"{len(events)} 次宣传, {items + len(feedback)} 条意见",
        _refs("action", (e.ref for e in (events if "publicity_event" in records else passed))) + _refs("diary", (d.ref for d in feedback)),
        required_en="at least one " + " and one ".join(PUBLICITY_RECORDS.get(r, (r, r))[1] for r in records),
        actual_en=f"{len(events)} publicity events, {items + len(feedback)} opinions",
        note=f"方案写了未知的记录: {'、'.join(unknown)}" if unknown else "",
        note_en=f"the plan names unknown records: {', '.join(unknown)}" if unknown else "",
        anything_recorded=bool(events or feedback or ctx.actions(kind)),
        events=len(events), feedback=items + len(feedback), missing=missing,
    )


def exit_plans(ctx: CheckContext) -> CheckResult:
    """C15: a village exit plan, and a development plan for every campaign household, in force during the year.

    Counts: ``core.development_plan`` actions of the plan (naming it, or naming no plan and registered
    by one of its units) made from the plan period's first day (the seed: plans are made "根据走访了解的
    情况", after the visits begin) up to the year's end and not ended before the year; a village plan
    names a plan village as beneficiary (when ``village_plan``), a household plan names a campaign
    household (when ``household_plans``; the campaign households as C10, C12 and C13). Does not count:
    another plan's or another unit's plans, plans of other villages or households, plans made before
    the plan period or ended before the year. Counted in SQL (a province has a plan per household);
    the household plans come back joined as evidence.
    """
    want_village, want_households = bool(ctx.param("village_plan")), bool(ctx.param("household_plans"))
    a, b, h = S.support_actions, S.action_beneficiaries, S.households
    units = ctx.units()
    ours = sa.or_(a.c.plan_name == ctx.plan.name, sa.and_(a.c.plan_name.is_(None), a.c.unit_code.in_(sorted(units))))
    plans = (
        sa.select(a.c.id, a.c.ref)
        .where(a.c.kind == "core.development_plan", ours, a.c.start_date >= ctx.plan.period_start, a.c.start_date <= ctx.year_end,
               a.c.end_date >= ctx.year_start)
        .subquery()
    )
    households = campaign_year(ctx).households
    village_refs: list[str] = []
    planned, refs = 0, None
    anything = ctx.conn.execute(sa.select(sa.func.count()).select_from(plans)).scalar_one() > 0
    if anything:
        village_refs = list(ctx.conn.execute(
            sa.select(plans.c.ref).where(plans.c.id.in_(
                sa.select(b.c.action_id).where(b.c.type == "village", b.c.ref.in_(sorted(v.code for v in ctx.plan.villages)))
            )).order_by(plans.c.id)
        ).scalars())
        camp = campaign_household_ids(ctx.plan, ctx.year_start, ctx.year_end, units).subquery()
        planned, refs = ctx.conn.execute(
            sa.select(sa.func.count(sa.distinct(b.c.ref)), joined(key("action", plans.c.ref)))
            .select_from(plans.join(b, sa.and_(b.c.action_id == plans.c.id, b.c.type == "household")).join(h, h.c.number == b.c.ref))
            .where(h.c.id.in_(sa.select(camp.c.household_id)))
        ).one()
    missing = households - planned if want_households else 0
    ok = bool(households) and (bool(village_refs) or not want_village) and not missing and (want_village or want_households)
    notes = [(f"{missing} 户无发展计划", f"{missing} households without a development plan") if missing else ("", ""),
             ("无村脱贫规划", "no village exit plan") if want_village and anything and not village_refs else ("", "")]
    return ctx.judge(
        ok, "、".join((["村脱贫规划"] if want_village else []) + (["每户发展计划"] if want_households else [])),
        f"村规划 {len(village_refs)}, 户计划 {planned}/{households}", _refs("action", village_refs) + split(refs),
        required_en=" and ".join((["a village exit plan"] if want_village else []) + (["a development plan per household"] if want_households else [])),
        actual_en=f"village plans {len(village_refs)}, household plans {planned}/{households}",
        anything_recorded=anything, note="; ".join(n[0] for n in notes if n[0]), note_en="; ".join(n[1] for n in notes if n[1]),
        village_plans=len(village_refs), household_plans=planned, households=households,
    )


#: C16's ``records``: the diary kind each names (``dispute_case`` is the cases, closed within ``max_case_days``).
SENTIMENT_RECORDS = {"talk": "民情恳谈", "visitor": "接待来访", "sentiment_diary": "民情日记", "sentiment_report": "民情报告", "dispute_case": None}


def sentiment_work(ctx: CheckContext) -> CheckResult:
    """C16: talks, visitors received, the sentiment diary and reports kept in the year; cases closed in time.

    Every diary kind ``records`` names (talk 民情恳谈, visitor 接待来访, sentiment_diary 民情日记,
    sentiment_report 民情报告) needs an entry dated in the year by a cadre of the plan's units about the
    plan's villages or their households. With ``dispute_case``, the cases of those cadres about those
    villages open in the year must each be closed within ``max_case_days`` days (an open one is overdue
    once the days have passed). Does not count entries of other units' cadres, or about other villages,
    or naming no household or village.
    """
    records = list(ctx.param("records") or SENTIMENT_RECORDS)
    max_days = ctx.param("max_case_days")
    entries = _diary(ctx, ctx.year_start, ctx.year_end)
    kinds = Counter(e.kind for e in entries)
    wanted = [SENTIMENT_RECORDS[r] for r in records if SENTIMENT_RECORDS.get(r)]
    missing = [k for k in wanted if not kinds.get(k)]
    unknown = [r for r in records if r not in SENTIMENT_RECORDS]
    cases, closed, overdue = [], [], []
    if "dispute_case" in records:
        k, c = S.cases, S.cadres
        cases = ctx.conn.execute(
            sa.select(k.c.ref, k.c.opened, k.c.closed, k.c.status).join(c, c.c.code == k.c.cadre_code)
            .where(c.c.unit_code.in_(ctx.units()), _about_villages(ctx, k), k.c.opened <= ctx.year_end,
                   sa.or_(k.c.closed.is_(None), k.c.closed >= ctx.year_start))
        ).all()
        day = ctx.check_day
        overdue = [x.ref for x in cases if max_days is not None and (x.closed or day) > x.opened + dt.timedelta(days=max_days)
                   and (x.closed is None or x.closed.year == ctx.year)]
        closed = [x for x in cases if x.closed is not None and x.closed <= ctx.year_end]
    shown = [e for e in entries if e.kind in wanted or e.case_ref]
    said = lambda values, lang: _labels(ctx, "diary_kind", values, lang)  # noqa: E731
    actual = ", ".join(f"{said([kind], 'zh')} {n}" for kind, n in sorted(kinds.items())) or "无"
    actual_en = ", ".join(f"{said([kind], 'en')} {n}" for kind, n in sorted(kinds.items())) or "none"
    cases_due = max_days is not None and "dispute_case" in records
    notes = [(f"缺{said(missing, 'zh')}", f"no {said(missing, 'en')}") if missing else ("", ""),
             (f"超期案件: {'、'.join(overdue)}", f"cases overdue: {', '.join(overdue)}") if overdue else ("", ""),
             (f"方案写了未知的记录: {'、'.join(unknown)}", f"the plan names unknown records: {', '.join(unknown)}") if unknown else ("", "")]
    return ctx.judge(
        bool(entries) and not missing and not overdue and not unknown,
        f"{said(wanted, 'zh') or '民情记录'}各至少 1 条" + (f"; 案件 {max_days} 天内办结" if cases_due else ""),
        f"{actual}; 案件 {len(cases)} (办结 {len(closed)}, 超期 {len(overdue)})",
        _refs("diary", (e.ref for e in shown)) + _refs("case", (x.ref for x in closed)),
        required_en=f"at least one entry of each kind: {said(wanted, 'en') or 'sentiment records'}"
        + (f"; cases closed within {max_days} days" if cases_due else ""),
        actual_en=f"{actual_en}; cases {len(cases)} ({len(closed)} closed, {len(overdue)} overdue)",
        anything_recorded=bool(entries or cases), note="; ".join(n[0] for n in notes if n[0]), note_en="; ".join(n[1] for n in notes if n[1]),
        diary=dict(kinds), cases=len(cases), closed=len(closed), overdue=overdue, missing=missing,
    )


#: C34's ``methods``: the method each names in an inspection's details.
INSPECTION_METHODS = {"spot_check": "平时抽查", "year_end_inspection": "年终检查"}


def annual_assessment(ctx: CheckContext) -> CheckResult:
    """C34: spot checks during the year, the year-end inspection, and its results in each cadre's annual assessment.

    Counts ``core.inspection`` records of the plan's own units. A spot check (平时抽查) counts when dated in
    the year and circulated (通报, as the seed says 抽查通报); at least ``min_spot_checks`` are needed. The
    year-end inspection (年终检查) counts only when dated from ``year_end_from`` of the year to
    ``year_end_until`` (of the next year when it is the earlier day): one dated 2 January is not the
    year's. With ``per = "cadre"`` every cadre of the plan's units holding a household pairing of the plan's
    villages on the check day must be named in a counting year-end inspection's ``assessed_cadres`` (the
    cadres whose annual assessment its results entered); software cannot see the assessment sheet itself,
    only this record. ``methods`` says which of the two are required.
    """
    methods = list(ctx.param("methods") or INSPECTION_METHODS)
    per = ctx.param("per")
    need_spot = ctx.param("min_spot_checks")
    window_from = _month_day(ctx, "year_end_from", ctx.year)
    window_until = _month_day(ctx, "year_end_until", ctx.year)
    if window_until < window_from:
        window_until = window_until.replace(year=ctx.year + 1)
    a = S.support_actions
    kind = "core.inspection"
    method = lambda r: (r.details or {}).get("method")  # noqa: E731
    spot = [r for r in ctx.actions(kind, ctx.year_start, ctx.year_end, where=[a.c.start_date >= ctx.year_start])
            if method(r) == "平时抽查" and (r.details or {}).get("circulated")]
    year_end = [r for r in ctx.actions(kind, window_from, window_until, where=[a.c.start_date >= window_from])
                if method(r) == "年终检查"]
    wanted_spot = "spot_check" in methods
    wanted_year_end = "year_end_inspection" in methods or per == "cadre"
    shortfalls = []
    if wanted_spot and len(spot) < need_spot:
        shortfalls.append((f"平时抽查通报 {len(spot)} 次, 少于 {need_spot} 次", f"{len(spot)} circulated spot checks, fewer than {need_spot}"))
    if wanted_year_end and not year_end:
        shortfalls.append((f"{window_from} 至 {window_until} 无年终检查", f"no year-end inspection from {window_from} to {window_until}"))
    unassessed: list[str] = []
    taking_part = 0
    if per == "cadre" and year_end:
        hp, c = held(ctx, ctx.check_day), S.cadres
        codes = ctx.conn.execute(
            sa.select(hp.c.cadre_code).distinct().join(c, c.c.code == hp.c.cadre_code).where(c.c.unit_code.in_(ctx.units()))
        ).scalars().all()
        assessed = {code for r in year_end for code in (r.details or {}).get("assessed_cadres") or ()}
        taking_part = len(codes)
        unassessed = sorted(set(codes) - assessed)
        if unassessed or not codes:
            who = f"{'、'.join(unassessed[:20])}{' …' if len(unassessed) > 20 else ''}"
            shortfalls.append((f"{len(unassessed)}/{len(codes)} 名干部的年度考核未纳入检查结果: {who}",
                               f"{len(unassessed)}/{len(codes)} cadres whose annual assessment lacks the results: {who}"))
    unknown = [m for m in methods if m not in INSPECTION_METHODS]
    if unknown:
        shortfalls.append((f"方案写了未知的检查方式: {'、'.join(unknown)}", f"the plan names unknown methods: {', '.join(unknown)}"))
    required = "; ".join(
        ([f"平时抽查通报至少 {need_spot} 次"] if wanted_spot else []) + ([f"年终检查 ({window_from} 至 {window_until})"] if wanted_year_end else [])
        + (["结果纳入每名干部年度考核"] if per == "cadre" else [])
    )
    required_en = "; ".join(
        ([f"at least {need_spot} circulated spot checks"] if wanted_spot else [])
        + ([f"a year-end inspection ({window_from} to {window_until})"] if wanted_year_end else [])
        + (["its results in each cadre's annual assessment"] if per == "cadre" else [])
    )
    return ctx.judge(
        not shortfalls, required, f"平时抽查 {len(spot)}, 年终检查 {len(year_end)}"
        + (f", 考核 {taking_part - len(unassessed)}/{taking_part}" if per == "cadre" else ""),
        _refs("action", (r.ref for r in spot + year_end)), deadline=max(window_until, ctx.year_end),
        required_en=required_en, actual_en=f"spot checks {len(spot)}, year-end inspections {len(year_end)}"
        + (f", cadres assessed {taking_part - len(unassessed)}/{taking_part}" if per == "cadre" else ""),
        anything_recorded=bool(ctx.actions(kind)), note="; ".join(n[0] for n in shortfalls), note_en="; ".join(n[1] for n in shortfalls),
        year_end=len(year_end), spot_checks=len(spot), unassessed=unassessed,
    )


def publications(ctx: CheckContext) -> CheckResult:
    """C36: the work's good practice publicised: at least ``min_per_year`` publications for each year.

    Counts a ``core.publication`` (what: its title; where: its medium and outlet; when: its date) of the
    plan's own units about this plan (naming it, or a beneficiary in its villages), dated after the previous
    year's deadline and by ``by`` ("MM-DD") of the next year (the first year from the plan's first day;
    without ``by``, dated in the year). A
    report written to a file is not a publication: exports stay in the audit log and count for nothing here.
    """
    a = S.support_actions
    if ctx.param("by") is None:
        start, deadline = ctx.year_start, ctx.year_end
    else:
        deadline = _month_day(ctx, "by", ctx.year + 1)
        start = max(ctx.plan.period_start, _month_day(ctx, "by", ctx.year) + dt.timedelta(days=1))
    kind = "core.publication"
    found = ctx.actions(kind, start, deadline,
                        where=[a.c.start_date >= start, sa.or_(a.c.plan_name == ctx.plan.name, _in_villages(ctx))])
    need = ctx.param("min_per_year")
    return ctx.judge(
        len(found) >= need, f"至少 {need} 篇宣传报道 ({start} 至 {deadline})", str(len(found)),
        _refs("action", (r.ref for r in found)), required_en=f"at least {need} publications ({start} to {deadline})", actual_en=str(len(found)),
        deadline=deadline, anything_recorded=bool(found) or bool(ctx.actions(kind)),
        publications=len(found), required_n=need,
    )


# -- C37 ------------------------------------------------------------------------------------------


def exit_by(ctx: CheckContext) -> CheckResult:
    """C37: every household of the plan's villages registered poor by the deadline has exited by it.

    Counts the households (and their members) of the plan's villages with a poor status dated by the
    deadline; met when, on the deadline, every one of them (``scope = "poor_households"``) or every
    one of their members (``scope = "poor_people"``, the default: a household without members
    registered proves nothing) is out of poverty by its dated status. Households of other villages,
    and statuses dated after the deadline, do not count.
    """
    by = ctx.param("by") or ctx.plan.period_end
    scope = ctx.param("scope")
    day = min(by, ctx.check_day) if ctx.year <= by.year else by
    h, hs, p, e = S.households, S.household_status, S.persons, S.exit_assessments
    ever_poor = sa.select(hs.c.household_id).where(hs.c.status.in_(POOR_STATUSES), hs.c.effective <= by)
    st = status_on(day)
    members = sa.select(p.c.household_id, sa.func.count().label("n")).group_by(p.c.household_id).subquery()
    assessed = sa.select(e.c.household_id, sa.func.max(e.c.id).label("id")).where(e.c.passed.is_(True)).group_by(e.c.household_id).subquery()
    out = st.c.status.in_(EXITED_STATUSES)
    people = sa.func.coalesce(members.c.n, 0)
    households, exited, all_people, out_people, refs = ctx.conn.execute(
        sa.select(
            sa.func.count(), count_if(out), sa.func.coalesce(sa.func.sum(people), 0),
            sa.func.coalesce(sa.func.sum(sa.case((out, people), else_=0)), 0),
            joined(sa.case((out, sa.func.coalesce(key("exit", assessed.c.id), key("status", st.c.id))))),
        )
        .select_from(h.join(st, st.c.household_id == h.c.id).outerjoin(members, members.c.household_id == h.c.id)
                     .outerjoin(assessed, assessed.c.household_id == h.c.id))
        .where(ctx.villages(), h.c.id.in_(ever_poor))
    ).one()
    evidence = split(refs)
    # Before the deadline's year, a year's check shows progress: not yet due unless already complete.
    deadline = by if ctx.year >= by.year else dt.date.max
    everyone = out_people == all_people > 0 if scope == "poor_people" else exited == households
    return ctx.judge(
        bool(households) and everyone, f"{by} 前全部脱贫", f"{exited}/{households} 户, {out_people}/{all_people} 人 (截至 {day})", evidence,
        required_en=f"all out of poverty by {by}", actual_en=f"{exited}/{households} households, {out_people}/{all_people} people (as of {day})",
        deadline=deadline,
        anything_recorded=bool(households), households=households, exited=exited, people=all_people, people_exited=out_people,
    )


def _spec(name: str, zh: str, en: str, evaluate: Any, *params: Param) -> TargetSpec:
    return TargetSpec(f"core.{name}", zh, en, evaluate, params)


_MIN_PER_YEAR = Param("min_per_year", "positive", default=1, zh="每年至少次数", en="how many a year, at least")
_LEADER_RANKS = Param("leader_ranks", "strings", zh="领导的级别 (默认 [cadres.ranks] 的第一级)",
                      en="ranks of the plan's leaders (default: the first rank of [cadres.ranks])")

CORE_TARGETS = (
    _spec("roles", "领导小组角色", "Leading-group roles", roles,
          Param("roles", "strings", required=True, zh="须有人担任的角色 (词表 leading_role)", en="roles someone must hold (vocabulary leading_role)"),
          _LEADER_RANKS),
    _spec("meetings_per_year", "每年研究次数", "Leadership meetings per year", meetings, _MIN_PER_YEAR,
          Param("bodies", "strings", zh="计入的领导班子会议 (details.body; 不设则不限)", en="leadership bodies whose meetings count (details.body; unset: any)")),
    _spec("site_visits_per_year", "每年到点次数", "Site visits per year", site_visits, _MIN_PER_YEAR, _LEADER_RANKS,
          Param("kinds", "strings", zh="计入的到点方式 (research 调研、on_site_office 现场办公)", en="kinds of site visit that count (research, on_site_office)")),
    _spec("secondments", "选派挂职", "Secondments", secondments,
          Param("moved_by", "date", zh="调整到位的截止日", en="date by which the roles are moved"),
          Param("moved_roles", "strings", zh="须调整的角色", en="roles to be moved"),
          Param("moved_from_zh", "string", zh="原驻地", en="where they were posted before"),
          Param("moved_to_zh", "string", zh="调整后的驻地", en="where they are moved to"),
          Param("seconded_from", "date", zh="起每年选派的首日", en="first day of the yearly secondments"),
          Param("seconded_roles", "strings", zh="每年选派的角色", en="roles seconded every year"),
          Param("min_days", "positive", required=True, zh="派驻至少天数 (每次派驻, 及每年在任)", en="days a posting lasts at least, and a seconded role is held each year")),
    _spec("cadres_by_rank", "按级别参加干部", "Cadres by rank", cadres_by_rank),
    _spec("pairing_quota", "干部结对定额", "Pairings per cadre", pairing_quota,
          Param("by", "date", zh="定额达到的截止日 (默认年底)", en="date by which the quotas hold (default: the year's end)")),
    _spec("pairing_totals", "结对户数", "Households paired by kind", pairing_totals),
    _spec("visit_campaign", "转走访覆盖", "Visit campaign", visit_campaign,
          Param("pairing_by", "date", zh="结对到位的截止日", en="date by which households are paired"),
          Param("first_round_by", "date", required=True, zh="首轮走访的截止日 (每户 1 次, 自方案期首日起)",
                en="date by which the first round is done (one visit per household, from the plan period's first day)"),
          Param("revisit_per_year", "positive", default=1, zh="首轮之后每年每户至少走访次数", en="visits per household in each year after the first round"),
          Param("counts_as_visit", "strings", default=list(DEFAULT_COUNTING_KINDS), zh="计为走访的走访类型 (入户访谈; 送温暖、电话不算)",
                en="visit kinds that count as a visit (interviews in person; not 送温暖 gift visits or calls)"),
          Param("first_visit_days", "count", default=60, zh="首轮后新结对户首次走访的天数", en="days after a later pairing for the first visit")),
    _spec("visit_questionnaire", "走访问卷", "Visits with questionnaires", visit_questionnaire,
          Param("visit_record", "boolean", default=False, zh="每次走访须有走访记录", en="each visit needs a written record"),
          Param("questionnaires", "tables", zh="须填写的问卷 (scope = village/household; 未写则任一该范围问卷)",
                en="questionnaires to fill (scope village or household; when absent, any stored one of the scope)",
                fields=(Param("scope", "string", required=True, zh="村或户", en="village or household"),
                        Param("title_zh", "string", required=True, zh="问卷标题", en="questionnaire title"),
                        Param("also_zh", "string", zh="同一问卷的另一标题", en="another title of the same questionnaire"))),
          Param("visit_kinds", "strings", default=list(QUESTIONNAIRE_KINDS), zh="须填写问卷的走访类型", en="visit kinds that fill a questionnaire")),
    _spec("household_classification", "帮扶对象分类", "Households classified", household_classification,
          Param("kinds", "strings", default=["key_help", "contact"], zh="分类 (词表 pairing_kind: 重点帮扶、联系)",
                en="the classes (vocabulary pairing_kind: key help, contact)")),
    _spec("registration_data", "建档立卡资料核对", "Registration data kept", registration_data,
          Param("required", "strings", default=list(REGISTRATION_ITEMS), zh="每户须在案的资料 (main_cause 致贫原因, needs 帮扶需求)",
                en="what must be on record for each household (main_cause, needs)"),
          Param("track_changes", "boolean", default=False, zh="动态管理: 需求每年在走访中更新",
                en="dynamic management: needs updated in a visit every year")),
    _spec("publicity_feedback", "政策宣传与意见反馈", "Publicity and feedback", publicity_feedback,
          Param("records", "strings", zh="须有的记录 (publicity_event, feedback_item)", en="records needed (publicity_event, feedback_item)")),
    _spec("exit_plans", "脱贫规划与发展计划", "Exit and development plans", exit_plans,
          Param("village_plan", "boolean", default=True, zh="须有村脱贫规划", en="a village exit plan is needed"),
          Param("household_plans", "boolean", default=True, zh="每户须有发展计划", en="a development plan per household is needed")),
    _spec("sentiment_work", "民情工作", "Sentiment work", sentiment_work,
          Param("records", "strings", zh="须有的民情记录 (talk, visitor, sentiment_diary, sentiment_report, dispute_case)",
                en="sentiment records needed (talk, visitor, sentiment_diary, sentiment_report, dispute_case)"),
          Param("max_case_days", "positive", zh="案件办结天数上限 (不设则不限)", en="days within which a case is closed (unset: no limit)")),
    _spec("annual_assessment", "督促检查与年度考核", "Supervision and annual assessment", annual_assessment,
          Param("methods", "strings", zh="检查方式 (spot_check 平时抽查、year_end_inspection 年终检查)", en="methods (spot_check, year_end_inspection)"),
          Param("per", "string", zh="考核到谁 (cadre: 每名干部)", en="who is assessed (cadre: each cadre)"),
          Param("min_spot_checks", "positive", default=1, zh="每年至少平时抽查通报次数", en="circulated spot checks a year, at least"),
          Param("year_end_from", "string", required=True, zh="年终检查最早日 (月-日)", en="first day of the year-end inspection (MM-DD)"),
          Param("year_end_until", "string", required=True, zh="年终检查最晚日 (月-日, 早于最早日则为次年)",
                en="last day of the year-end inspection (MM-DD; next year when before the first day)")),
    _spec("good_practice_publicised", "总结宣传", "Good practice publicised", publications, _MIN_PER_YEAR,
          Param("by", "string", zh="次年宣传报道的截止日 (月-日; 不设则为当年年底)", en="day of the next year by which the year's work is publicised (MM-DD; unset: the year's end)")),
    _spec("exit_by", "如期脱贫", "Exit by the deadline", exit_by,
          Param("by", "date", zh="脱贫截止日 (默认方案末日)", en="exit deadline (default: the plan's last day)"),
          Param("scope", "string", default="poor_people", choices=("poor_people", "poor_households"),
                zh="计数对象: 贫困人口 (poor_people) 或贫困户 (poor_households)", en="what must all be out: poor people or poor households")),
)
