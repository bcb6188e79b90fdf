"""Plan lint: where a plan contradicts itself, with the arithmetic.

A plan keeps its figures exactly as written, even where they disagree with
each other (see :mod:`fupin.plans`). :func:`lint_plan` recomputes what can be
recomputed from the plan's own data and reports every disagreement as a
:class:`Finding` that shows the sum, the quotient or the dates it compared.
Nothing about a particular unit or village is known here: every number comes
from the :class:`~fupin.plans.Plan`.

What is checked (each check is skipped when the plan does not give its data):

``head_count``
    The cadres of all ranks added up, against ``cadres.stated.total``.
``quota_split``
    Per kind (key-help, contact): the sum over ranks of head count × per-cadre
    quota, against ``cadres.stated.key_help`` / ``contact``; the message also
    adds both kinds up and compares them with the stated total and with
    ``cadres.stated.visited``.
``quota_total``
    The households the quotas cover (both kinds) and the stated key-help plus
    contact households, against ``cadres.stated.visited``.
``land_per_person``
    ``arable_mu / population`` of each village profile against
    ``arable_mu_per_person_stated``.
``share``
    Each percentage in a profile's ``shares_stated_pct`` table recomputed
    (``earth_wood_houses`` and ``poor_households`` over ``households``,
    ``poor_people`` and ``migrant_workers`` over ``population``).
``visited_vs_poor``
    The households to visit (``cadres.stated.visited``, or else what the
    quotas cover) against the poor households of the village profiles.
``date_outside_period``, ``year_outside_period``
    Dates and years in commitment parameters that fall outside the plan
    period.
``calendar_years``, ``calendar_event``
    A calendar event (``[calendar.spring_festival]``) that lacks a year of the
    plan, or a commitment due ``before``/``after`` an event the calendar does
    not have.
``target_namespace``
    A commitment target without a well-formed namespace (``"core.roles"``).

Notes (severity ``"note"``: not a contradiction, an explanation the plan office
may want in its appendix):

``quota_split_explained``
    When the stated key-help and contact totals disagree with the quotas, every
    split of the cadres' head count between the ranks that reproduces both
    stated totals exactly, found by searching all splits (for the reference
    plan: 9 厅级 and 39 处级, 9×4 + 39×3 = 153 and 9×3 + 39×4 = 183, so 5 of
    the 14 厅级 were counted with the 处级 quotas), or that none does.
``short_notice``
    A deadline (a commitment parameter ``by`` or ``*_by``) falling within
    :data:`SHORT_NOTICE_DAYS` days after the plan was issued, with the days
    counted.
``two_titles``
    An item of a commitment parameter that gives a document under two titles
    (``title_zh`` and ``also_zh``, such as the visit questionnaires the plan
    text names in two ways), with what the second title adds or drops.

A stated figure is compared with tolerance of half a unit in its last stated
decimal place: 0.67 (two decimals) disagrees with a computed value when they
differ by more than 0.005; 35.48 % with 35.476 % agrees.

Severity: a contradiction is a ``"warning"``. An ``"error"`` means the plan
states a figure that cannot be checked because what it rests on is missing or
malformed (totals stated without any ranks, a quota missing for a rank, a share
of a figure the profile does not give, a target without namespace).

Example:
    >>> from fupin.plans import load_plan
    >>> findings = lint_plan(load_plan("qjnu-tuomu"))
    >>> [f.figures["computed"] for f in findings if f.code == "quota_split"]
    [158, 178]
"""

from __future__ import annotations

import datetime as dt
import re
import types
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

import attrs

from fupin.plans import Cadres, Plan, Village, VillageProfile
from fupin.serial import Serialisable

if TYPE_CHECKING:
    from fupin.checks import Param

__all__ = ["SHARE_BASES", "Finding", "Severity", "lint_plan", "render_findings"]

Severity = Literal["warning", "error", "note"]

#: A deadline this many days or fewer after the plan was issued is noted (``short_notice``).
SHORT_NOTICE_DAYS = 31

#: At most this many splits of the head count are searched (``quota_split_explained``).
_MAX_SPLITS = 200_000

#: For each key of ``shares_stated_pct``: the profile figure it is a share of.
SHARE_BASES: Mapping[str, str] = types.MappingProxyType(
    {
        "earth_wood_houses": "households",
        "poor_households": "households",
        "poor_people": "population",
        "migrant_workers": "population",
    }
)

_NAMESPACE = re.compile(r"[a-z][a-z0-9_]*")
_MONTH_DAY = re.compile(r"\d{2}-\d{2}")
_EVENT_KEYS = ("before", "after")

_KIND = {
    "key_help": ("重点帮扶", "key-help"),
    "contact": ("联系", "contact"),
}

_SHARE_NAMES = {
    "earth_wood_houses": ("土木结构住房", "earth-and-wood houses"),
    "poor_households": ("贫困户", "poor households"),
    "poor_people": ("贫困人口", "poor people"),
    "migrant_workers": ("外出务工人员", "migrant workers"),
    "households": ("户数", "households"),
    "population": ("人口", "population"),
}


def _frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(value))


@attrs.frozen
class Finding(Serialisable):
    """One place where a plan disagrees with itself, or cannot be checked.

    Attributes:
        code: Which check found it (``"quota_split"``, ``"land_per_person"``,
            ``"visited_vs_poor"``, ...; see the module documentation).
        severity: ``"warning"`` for a contradiction, ``"error"`` for a stated
            figure that cannot be checked.
        where: The plan key path or commitment id the finding is about
            (``"cadres.stated.key_help"``, ``"C10.params.pairing_by"``).
        message_zh: The finding with its arithmetic, in Chinese.
        message_en: The same in English.
        figures: The numbers used, JSON-ready (read-only).
    """

    code: str
    severity: Severity
    where: str
    message_zh: str
    message_en: str
    figures: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_mapping, hash=False)

    def message(self, lang: str = "zh") -> str:
        """Return the message in ``lang`` (``"zh"`` or ``"en"``)."""
        return self.message_en if lang == "en" else self.message_zh


# --------------------------------------------------------------------------- numbers


def _num(value: int | float) -> str:
    """A figure as the plan would write it: 1905, 12.79, 0.67."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _exact(value: int | float) -> Fraction:
    """The number as written (0.67 is 67/100, not the nearest binary float)."""
    return Fraction(Decimal(repr(value))) if isinstance(value, float) else Fraction(value)


def _decimals(value: int | float) -> int:
    """How many decimals ``value`` was written with (0.67: 2, 55.1: 1, 3: 0)."""
    exponent = Decimal(repr(value)).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _compare(computed: Fraction, stated: int | float) -> dict[str, Any] | None:
    """Figures for a computed value against a stated one, None if they agree.

    They agree when they differ by at most half a unit in the stated value's
    last decimal place.
    """
    places = _decimals(stated)
    tolerance = Fraction(1, 2 * 10**places)
    difference = computed - _exact(stated)
    if abs(difference) <= tolerance:
        return None
    shown = places + 1
    return {
        "computed": round(float(computed), shown),
        "stated": stated,
        "decimals": places,
        "tolerance": float(tolerance),
        "difference": round(float(difference), shown),
        "shown": f"{float(computed):.{shown}f}",
    }


def _sum(terms: Sequence[str]) -> str:
    return " + ".join(terms) if terms else "0"


# --------------------------------------------------------------------------- checks


def lint_plan(
    plan: Plan, targets: Mapping[str, Any] | None = None, settings: Mapping[str, Sequence[Param]] | None = None
) -> list[Finding]:
    """Return where ``plan`` contradicts itself, in a fixed order of checks.

    Every check takes its figures from the plan and is skipped when the plan
    does not give them; see the module documentation for the list. The plan is
    not changed.

    Args:
        plan: A loaded plan (:func:`fupin.plans.load_plan`).
        targets: the installed targets by name (``store.hooks.targets()``): when
            given, every commitment's parameters are checked against its
            target's declared ones (unknown key, wrong type, missing required
            key: an error each).
        settings: the installed plugins' plan settings (``store.hooks.plan_settings()``):
            when given, the ``[plugins.NAME]`` tables are checked against them too.

    Returns:
        The findings; empty when everything the plan states agrees.
    """
    findings: list[Finding] = []
    findings += _cadre_findings(plan.cadres)
    findings += _split_findings(plan.cadres)
    for index, village in enumerate(plan.villages):
        if village.profile is not None:
            prefix = f"plan.villages[{index}].profile"
            findings += _land_findings(village.profile, prefix)
            findings += _share_findings(village.profile, prefix)
    findings += _visited_findings(plan.cadres, plan.villages)
    findings += _period_findings(plan)
    findings += _calendar_findings(plan)
    findings += _target_findings(plan)
    findings += _notice_findings(plan)
    findings += _title_findings(plan)
    if targets is not None or settings is not None:
        findings += _param_findings(plan, targets or {}, settings)
    return findings


def _param_findings(plan: Plan, targets: Mapping[str, Any], settings: Mapping[str, Sequence[Param]] | None) -> Iterator[Finding]:
    from fupin.checks import plan_problems

    for problem in plan_problems(plan, targets, settings):
        where, _, reason = problem.partition(": ")
        yield Finding("param", "error", where, f"{plan.origin}: {problem}", f"{plan.origin}: {problem}", {"reason": reason})


def _cadre_findings(cadres: Cadres) -> Iterator[Finding]:
    stated = {
        "total": cadres.stated_total,
        "key_help": cadres.stated_key_help,
        "contact": cadres.stated_contact,
    }
    given = [k for k, v in stated.items() if v is not None]
    if not cadres.ranks:
        if given:
            paths = ", ".join(f"cadres.stated.{k}" for k in given)
            yield Finding(
                "quota_split" if given != ["total"] else "head_count",
                "error",
                "cadres.ranks",
                f"无法核对 {paths}: 方案没有干部级别 (cadres.ranks)",
                f"cannot check {paths}: the plan has no cadre ranks (cadres.ranks)",
                {"stated": {k: stated[k] for k in given}, "ranks": 0},
            )
        return

    # Head count.
    counts = [r.count for r in cadres.ranks]
    head = cadres.head_count()
    if cadres.stated_total is not None and head != cadres.stated_total:
        arithmetic = f"{_sum([str(c) for c in counts])} = {head}"
        yield Finding(
            "head_count",
            "warning",
            "cadres.stated.total",
            f"干部人数: {arithmetic}, 方案写 {cadres.stated_total}",
            f"cadres: {arithmetic}, the plan states {cadres.stated_total}",
            {
                "ranks": [r.rank for r in cadres.ranks],
                "counts": counts,
                "computed": head,
                "stated": cadres.stated_total,
                "difference": head - cadres.stated_total,
            },
        )

    # Quotas per kind. A kind is checked when the plan states its total.
    missing = {
        kind: [r.rank for r in cadres.ranks if getattr(r, kind) is None]
        for kind in _KIND
        if stated[kind] is not None
    }
    for kind, ranks in missing.items():
        if ranks:
            zh, en = _KIND[kind]
            yield Finding(
                "quota_split",
                "error",
                f"cadres.stated.{kind}",
                f"无法核对{zh}户数 {stated[kind]}: 级别 {'、'.join(ranks)} 没有每人{zh}户数 ({kind})",
                f"cannot check the {en} total {stated[kind]}: rank(s) {', '.join(ranks)} "
                f"give no {en} quota per cadre ({kind})",
                {"stated": stated[kind], "ranks_without_quota": ranks},
            )
    checkable = [k for k, ranks in missing.items() if not ranks]
    totals = cadres.quota_totals()
    terms = {
        kind: [f"{r.count}×{getattr(r, kind) or 0}" for r in cadres.ranks] for kind in _KIND
    }
    both_quoted = all(r.key_help is not None and r.contact is not None for r in cadres.ranks)
    both_stated = cadres.stated_key_help is not None and cadres.stated_contact is not None
    computed_total = totals["key_help"] + totals["contact"]
    stated_total = (cadres.stated_key_help or 0) + (cadres.stated_contact or 0)
    visited = cadres.stated_visited

    def totals_note() -> tuple[str, str]:
        if not (both_quoted and both_stated):
            return "", ""
        kh, ct = totals["key_help"], totals["contact"]
        skh, sct = cadres.stated_key_help, cadres.stated_contact
        if computed_total == stated_total:
            zh = f"; 两项合计相同: {kh} + {ct} = {skh} + {sct} = {computed_total}"
            en = f"; both kinds add up the same: {kh} + {ct} = {skh} + {sct} = {computed_total}"
        else:
            zh = f"; 两项合计: {kh} + {ct} = {computed_total}, 方案 {skh} + {sct} = {stated_total}"
            en = (
                f"; both kinds together: {kh} + {ct} = {computed_total}, "
                f"as stated {skh} + {sct} = {stated_total}"
            )
        if visited is not None:
            same = visited == computed_total == stated_total
            zh += f", {'与' if same else '而'}遍访户数 {visited} {'一致' if same else ''}".rstrip()
            en += f", {'matching' if same else 'against'} {visited} households to visit"
        return zh, en

    for kind in checkable:
        computed, declared = totals[kind], stated[kind]
        assert declared is not None
        if computed == declared:
            continue
        zh_kind, en_kind = _KIND[kind]
        arithmetic = f"{_sum(terms[kind])} = {computed}"
        note_zh, note_en = totals_note()
        yield Finding(
            "quota_split",
            "warning",
            f"cadres.stated.{kind}",
            f"{zh_kind}: {arithmetic}, 方案写 {declared}{note_zh}",
            f"{en_kind}: {arithmetic}, the plan states {declared}{note_en}",
            {
                "kind": kind,
                "ranks": [r.rank for r in cadres.ranks],
                "counts": counts,
                "quotas": [getattr(r, kind) for r in cadres.ranks],
                "computed": computed,
                "stated": declared,
                "difference": computed - declared,
                "computed_total": computed_total if both_quoted else None,
                "stated_total": stated_total if both_stated else None,
                "visited": visited,
            },
        )

    # Both kinds against the households to visit.
    if visited is None:
        return
    pairs = []
    if both_quoted and computed_total != visited:
        arithmetic = " + ".join(
            f"{r.count}×({r.key_help}+{r.contact})" for r in cadres.ranks
        )
        pairs.append(
            (
                f"结对标准合计 {arithmetic} = {computed_total}",
                f"the quotas cover {arithmetic} = {computed_total}",
                "computed_total",
                computed_total,
            )
        )
    if both_stated and stated_total != visited:
        arithmetic = f"{cadres.stated_key_help} + {cadres.stated_contact}"
        pairs.append(
            (
                f"方案写重点帮扶加联系 {arithmetic} = {stated_total}",
                f"the stated key-help plus contact households {arithmetic} = {stated_total}",
                "stated_total",
                stated_total,
            )
        )
    if pairs:
        yield Finding(
            "quota_total",
            "warning",
            "cadres.stated.visited",
            "; ".join(p[0] for p in pairs) + f", 而遍访户数写 {visited}",
            "; ".join(p[1] for p in pairs) + f", but the plan states {visited} households to visit",
            {"visited": visited, **{p[2]: p[3] for p in pairs}},
        )


def _splits(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    """Every way of writing ``total`` as ``parts`` non-negative integers, in order."""
    if parts == 1:
        yield (total,)
        return
    for first in range(total, -1, -1):
        for rest in _splits(total - first, parts - 1):
            yield (first, *rest)


def _split_findings(cadres: Cadres) -> Iterator[Finding]:
    """Which head counts per rank would give the stated key-help and contact totals."""
    kh, ct = cadres.stated_key_help, cadres.stated_contact
    ranks = cadres.ranks
    if kh is None or ct is None or not ranks or any(r.key_help is None or r.contact is None for r in ranks):
        return
    totals = cadres.quota_totals()
    if (totals["key_help"], totals["contact"]) == (kh, ct):
        return
    head = cadres.head_count()
    # Stars and bars: the number of splits to search; refuse a search too big to be quick.
    size = 1
    for i in range(1, len(ranks)):
        size = size * (head + i) // i
    if size > _MAX_SPLITS:
        return
    found = [
        split for split in _splits(head, len(ranks))
        if sum(n * r.key_help for n, r in zip(split, ranks, strict=True)) == kh  # type: ignore[operator]
        and sum(n * r.contact for n, r in zip(split, ranks, strict=True)) == ct  # type: ignore[operator]
    ]
    names = [r.rank for r in ranks]
    counts = [r.count for r in ranks]
    if not found:
        yield Finding(
            "quota_split_explained", "note", "cadres.ranks",
            f"没有一种把 {head} 名干部分到各级别的方式能同时得出重点帮扶 {kh} 户和联系 {ct} 户",
            f"no split of the {head} cadres between the ranks gives both {kh} key-help and {ct} contact households",
            {"head_count": head, "stated_key_help": kh, "stated_contact": ct, "splits": []},
        )
        return
    for split in found:
        people_zh = " + ".join(f"{n} 名{name}" for n, name in zip(split, names, strict=True))
        people_en = " + ".join(f"{n} {name}" for n, name in zip(split, names, strict=True))
        kh_terms = " + ".join(f"{n}×{r.key_help}" for n, r in zip(split, ranks, strict=True))
        ct_terms = " + ".join(f"{n}×{r.contact}" for n, r in zip(split, ranks, strict=True))
        moved_zh, moved_en = _moved(names, counts, split)
        yield Finding(
            "quota_split_explained",
            "note",
            "cadres.ranks",
            f"所述重点帮扶 {kh} 户、联系 {ct} 户恰好由 {people_zh} 得出: {kh_terms} = {kh}, {ct_terms} = {ct}; {moved_zh}",
            f"the stated {kh} key-help and {ct} contact households are exactly what {people_en} give: "
            f"{kh_terms} = {kh}, {ct_terms} = {ct}; {moved_en}",
            {"ranks": names, "counts": counts, "split": list(split), "stated_key_help": kh, "stated_contact": ct,
             "head_count": head, "splits_found": len(found)},
        )


def _moved(names: Sequence[str], counts: Sequence[int], split: Sequence[int]) -> tuple[str, str]:
    """How a split differs from the stated head counts, in words."""
    fewer = [(name, c - n, c) for name, c, n in zip(names, counts, split, strict=True) if n < c]
    more = [name for name, c, n in zip(names, counts, split, strict=True) if n > c]
    if len(fewer) == 1 and len(more) == 1:
        name, moved, count = fewer[0]
        return (
            f"即方案把 {count} 名{name}中的 {moved} 名按{more[0]}的标准计算 ({count} − {moved} = {count - moved})",
            f"so the plan counted {moved} of its {count} {name} cadres with the {more[0]} quotas ({count} − {moved} = {count - moved})",
        )
    diffs_zh = ", ".join(f"{name} {c} → {n}" for name, c, n in zip(names, counts, split, strict=True) if n != c)
    return f"与所述人数不同: {diffs_zh}", f"against the stated head counts: {diffs_zh}"


def _notice_findings(plan: Plan) -> Iterator[Finding]:
    """Deadlines due within a month of the plan's issue date."""
    issued = plan.issued
    if issued is None:
        return
    for c in plan.commitments:
        for key, value in c.params.items():
            if not (key == "by" or key.endswith("_by")) or not isinstance(value, dt.date):
                continue
            days = (value - issued).days
            if not 0 <= days <= SHORT_NOTICE_DAYS:
                continue
            yield Finding(
                "short_notice",
                "note",
                f"{c.id}.params.{key}",
                f"{c.id} {key} = {value}, 在方案印发 ({issued}) 后仅 {days} 天: {value} − {issued} = {days} 天",
                f"{c.id} {key} = {value} is due only {days} days after the plan was issued ({issued}): "
                f"{value} − {issued} = {days} days",
                {"date": value, "issued": issued, "days": days, "limit_days": SHORT_NOTICE_DAYS},
            )


def _title_findings(plan: Plan) -> Iterator[Finding]:
    """Documents a commitment names under two titles (title_zh and also_zh)."""
    import difflib

    for c in plan.commitments:
        sections = "、".join([c.section, *c.see_also]) if c.section else ""
        for path, item in _tables(c.params, f"{c.id}.params"):
            first, second = item.get("title_zh"), item.get("also_zh")
            if not isinstance(first, str) or not isinstance(second, str) or not first or first == second:
                continue
            ops = difflib.SequenceMatcher(a=first, b=second, autojunk=False).get_opcodes()
            added = "".join(second[j1:j2] for op, _, _, j1, j2 in ops if op in ("insert", "replace"))
            dropped = "".join(first[i1:i2] for op, i1, i2, _, _ in ops if op in ("delete", "replace"))
            change_zh = "; ".join(x for x in (f"后者多“{added}”" if added else "", f"少“{dropped}”" if dropped else "") if x)
            change_en = "; ".join(x for x in (f"the second adds “{added}”" if added else "", f"drops “{dropped}”" if dropped else "") if x)
            where_zh = f" (方案第 {sections} 部分)" if sections else ""
            where_en = f" (plan sections {sections.replace('、', ', ')})" if sections else ""
            yield Finding(
                "two_titles",
                "note",
                path,
                f"{c.id}{where_zh} 以两个名称称呼同一文件: 《{first}》与《{second}》, {change_zh}; 按同一文件计",
                f"{c.id}{where_en} names one document under two titles: 《{first}》 and 《{second}》 ({change_en}); "
                "both count as the same document",
                {"title_zh": first, "also_zh": second, "added": added, "dropped": dropped,
                 "sections": [c.section, *c.see_also] if c.section else list(c.see_also)},
            )


def _tables(value: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every table inside a params value, with its key path."""
    if isinstance(value, Mapping):
        yield path, value
        for key, item in value.items():
            yield from _tables(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _tables(item, f"{path}[{i}]")


def _land_findings(profile: VillageProfile, prefix: str) -> Iterator[Finding]:
    stated = profile.arable_mu_per_person_stated
    if stated is None:
        return
    where = f"{prefix}.arable_mu_per_person_stated"
    if profile.arable_mu is None or not profile.population:
        lacking = "arable_mu" if profile.arable_mu is None else "population"
        yield Finding(
            "land_per_person",
            "error",
            where,
            f"无法核对人均耕地 {_num(stated)} 亩: 村情没有 {lacking}",
            f"cannot check {_num(stated)} mu of arable land per person: the profile gives no {lacking}",
            {"stated": stated, "arable_mu": profile.arable_mu, "population": profile.population},
        )
        return
    compared = _compare(_exact(profile.arable_mu) / profile.population, stated)
    if compared is None:
        return
    arithmetic = f"{_num(profile.arable_mu)} ÷ {profile.population} = {compared.pop('shown')}"
    yield Finding(
        "land_per_person",
        "warning",
        where,
        f"人均耕地: {arithmetic} 亩, 方案写 {_num(stated)} 亩",
        f"arable land per person: {arithmetic} mu, the plan states {_num(stated)}",
        {"arable_mu": profile.arable_mu, "population": profile.population, **compared},
    )


def _share_findings(profile: VillageProfile, prefix: str) -> Iterator[Finding]:
    shares = profile.extra.get("shares_stated_pct")
    if shares is None:
        return
    table_path = f"{prefix}.shares_stated_pct"
    if not isinstance(shares, Mapping):
        yield Finding(
            "share", "error", table_path,
            f"{table_path} 应为表 (键 = 百分比), 无法核对",
            f"{table_path} must be a table of percentages; cannot check it",
            {"value": repr(shares)},
        )
        return
    for key, stated in shares.items():
        where = f"{table_path}.{key}"
        base = SHARE_BASES.get(key)
        if base is None:
            # A share fupin does not know the base of: nothing to recompute.
            continue
        part_zh, part_en = _SHARE_NAMES[key]
        base_zh, base_en = _SHARE_NAMES[base]
        if isinstance(stated, bool) or not isinstance(stated, int | float):
            yield Finding(
                "share", "error", where,
                f"{part_zh}占比应为数字, 而方案写 {stated!r}",
                f"the share of {part_en} must be a number, the plan gives {stated!r}",
                {"stated": repr(stated)},
            )
            continue
        part, whole = getattr(profile, key), getattr(profile, base)
        if part is None or not whole:
            lacking = key if part is None else base
            yield Finding(
                "share", "error", where,
                f"无法核对{part_zh}占比 {_num(stated)}%: 村情没有 {lacking}",
                f"cannot check the share of {part_en} ({_num(stated)} %): the profile gives no {lacking}",
                {"stated": stated, key: part, base: whole},
            )
            continue
        compared = _compare(Fraction(100 * part, whole), stated)
        if compared is None:
            continue
        arithmetic = f"{part} ÷ {whole} = {compared.pop('shown')}%"
        yield Finding(
            "share",
            "warning",
            where,
            f"{part_zh}占{base_zh}: {arithmetic}, 方案写 {_num(stated)}%",
            f"{part_en} as a share of {base_en}: {arithmetic}, the plan states {_num(stated)} %",
            {"part": key, "base": base, key: part, base: whole, **compared},
        )


def _visited_findings(cadres: Cadres, villages: Sequence[Village]) -> Iterator[Finding]:
    poor = [v.profile.poor_households if v.profile else None for v in villages]
    if not poor or any(p is None for p in poor):
        return
    poor_total = sum(p for p in poor if p is not None)
    quoted = bool(cadres.ranks) and all(
        r.key_help is not None and r.contact is not None for r in cadres.ranks
    )
    capacity = sum(r.count * ((r.key_help or 0) + (r.contact or 0)) for r in cadres.ranks)
    capacity_terms = " + ".join(f"{r.count}×({r.key_help}+{r.contact})" for r in cadres.ranks)
    if cadres.stated_visited is not None:
        promised, where = cadres.stated_visited, "cadres.stated.visited"
        what_zh, what_en = f"遍访户数 {promised}", f"{promised} households to visit"
    elif quoted:
        promised, where = capacity, "cadres.ranks"
        what_zh, what_en = f"结对标准覆盖 {capacity} 户", f"the quotas cover {capacity} households"
    else:
        return
    if promised == poor_total:
        return
    poor_arith = f"{' + '.join(str(p) for p in poor)} = {poor_total}" if len(poor) > 1 else str(poor_total)
    if promised < poor_total:
        gap = poor_total - promised
        zh = (
            f"{what_zh} 少于村情贫困户 {poor_arith} 户: {poor_total} − {promised} = {gap} 户贫困户"
            f"没有承诺结对或走访"
        )
        en = (
            f"{what_en}, but the profile counts {poor_arith} poor households: "
            f"{poor_total} − {promised} = {gap} poor households with no pairing or visit promised"
        )
    else:
        gap = poor_total - promised
        zh = f"{what_zh} 多于村情贫困户 {poor_arith} 户: {promised} − {poor_total} = {-gap}"
        en = (
            f"{what_en}, more than the {poor_arith} poor households the profile counts: "
            f"{promised} − {poor_total} = {-gap}"
        )
    if quoted and cadres.stated_visited is not None:
        zh += f"; 结对标准可覆盖 {capacity_terms} = {capacity} 户"
        en += f"; the quotas can cover {capacity_terms} = {capacity} households"
    yield Finding(
        "visited_vs_poor",
        "warning",
        where,
        zh,
        en,
        {
            "promised": promised,
            "poor_households": poor_total,
            "difference": gap,
            "quota_capacity": capacity if quoted else None,
            "head_count": cadres.head_count() if cadres.ranks else None,
        },
    )


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every leaf of a params table with its key path."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]")
    else:
        yield path, value


def _is_year_key(path: str) -> bool:
    """True for a key naming calendar years (``years``, ``start_year``), not rates (``min_per_year``)."""
    key = re.sub(r"\[\d+\]$", "", path).rsplit(".", 1)[-1]
    if key in ("year", "years"):
        return True
    return key.endswith(("_year", "_years")) and "per_year" not in key


def _period_findings(plan: Plan) -> Iterator[Finding]:
    start, end = plan.period_start, plan.period_end
    years = plan.years()
    for c in plan.commitments:
        for path, value in _walk(c.params, f"{c.id}.params"):
            key = path.removeprefix(f"{c.id}.params.")
            if isinstance(value, dt.date):
                day = value.date() if isinstance(value, dt.datetime) else value
                if start <= day <= end:
                    continue
                side_zh, side_en = ("早于", "before") if day < start else ("晚于", "after")
                zh = f"{c.id} {key} = {day} {side_zh}方案期限 {start} 至 {end}"
                en = f"{c.id} {key} = {day} is {side_en} the plan period {start} to {end}"
                if plan.issued is not None and day < plan.issued:
                    zh += f", 也早于方案印发日期 {plan.issued}"
                    en += f", and before the plan was issued ({plan.issued})"
                yield Finding(
                    "date_outside_period",
                    "warning",
                    path,
                    zh,
                    en,
                    {
                        "date": day,
                        "period_start": start,
                        "period_end": end,
                        "issued": plan.issued,
                        "days_outside": (day - start).days if day < start else (day - end).days,
                    },
                )
            elif (
                isinstance(value, int)
                and not isinstance(value, bool)
                and _is_year_key(path)
                and value not in years
            ):
                yield Finding(
                    "year_outside_period",
                    "warning",
                    path,
                    f"{c.id} {key} = {value} 不在方案期限 {years[0]}–{years[-1]} 年内",
                    f"{c.id} {key} = {value} is not a year of the plan period {years[0]}–{years[-1]}",
                    {"year": value, "plan_years": years},
                )


def _calendar_findings(plan: Plan) -> Iterator[Finding]:
    years = plan.years()
    for event, dates in plan.calendar.items():
        missing = [y for y in years if y not in dates]
        if missing:
            shown = ", ".join(str(y) for y in missing)
            yield Finding(
                "calendar_years",
                "warning",
                f"calendar.{event}",
                f"日历 {event} 缺少方案年份 {shown} 的日期 (方案期限 {years[0]}–{years[-1]})",
                f"calendar {event} has no date for plan year(s) {shown} "
                f"(plan period {years[0]}–{years[-1]})",
                {"event": event, "missing_years": missing, "plan_years": years},
            )
    for c in plan.commitments:
        for key in _EVENT_KEYS:
            event = c.params.get(key)
            if not isinstance(event, str) or _MONTH_DAY.fullmatch(event) or event in plan.calendar:
                continue
            yield Finding(
                "calendar_event",
                "warning",
                f"{c.id}.params.{key}",
                f"{c.id} 以 {event} 为期限, 但方案日历没有 [calendar.{event}]",
                f"{c.id} is due {key} {event}, but the plan has no [calendar.{event}]",
                {"event": event, "calendar_events": sorted(plan.calendar)},
            )


def _target_findings(plan: Plan) -> Iterator[Finding]:
    for c in plan.commitments:
        namespace, dot, name = c.target.partition(".")
        if dot and _NAMESPACE.fullmatch(namespace) and name:
            continue
        yield Finding(
            "target_namespace",
            "error",
            c.id,
            f"{c.id} 的目标 {c.target!r} 没有有效的命名空间前缀 (如 \"core.roles\")",
            f"{c.id}: target {c.target!r} has no valid namespace prefix (like \"core.roles\")",
            {"target": c.target, "namespace": namespace if dot else ""},
        )


# --------------------------------------------------------------------------- text


_LABEL = {"warning": "警告 / warning", "error": "错误 / error", "note": "说明 / note"}


def render_findings(findings: Sequence[Finding], *, lang: str = "zh", plan_name: str = "") -> str:
    """Return findings as text: one line each, then a summary line.

    Each line starts with the bilingual severity (``警告 / warning``) and the
    finding's ``where``; messages and the summary are in ``lang``.
    """
    lines = [f"{_LABEL[f.severity]} {f.where}: {f.message(lang)}" for f in findings]
    warnings = sum(f.severity == "warning" for f in findings)
    errors = sum(f.severity == "error" for f in findings)
    notes = len(findings) - warnings - errors
    name = f" {plan_name}" if plan_name else ""
    if lang == "en":
        if warnings or errors:
            lines.append(f"plan{name}: {warnings} warning(s), {errors} error(s)" + (f", {notes} note(s)" if notes else ""))
        else:
            lines.append(f"plan{name}: no contradictions found" + (f", {notes} note(s)" if notes else ""))
    elif warnings or errors:
        lines.append(f"方案{name}: {warnings} 条警告, {errors} 条错误" + (f", {notes} 条说明" if notes else ""))
    else:
        lines.append(f"方案{name}: 未发现矛盾" + (f", {notes} 条说明" if notes else ""))
    return "\n".join(lines)
