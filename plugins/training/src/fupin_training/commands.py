"""The ``fupin training`` commands: skills of a household, households without a technique, the catalogue."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import click
import sqlalchemy as sa

from fupin import NotFound
from fupin.cli import pass_store
from fupin.ext import mask_id, plan_units, table


from fupin_training import catalogue as cat
from fupin_training import queries as q


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _plan(store: Any, name: str | None) -> Any:
    """The named plan, the only stored one, or None when none is stored (the defaults then apply)."""
    try:
        return store.plan(name)
    except NotFound:
        if name is not None:
            raise
        return None


def _hours(value: Decimal) -> str:
    return f"{value.normalize():f}"


@click.group()
def training() -> None:
    """Agricultural-technology courses, skills mastered, party-cadre training, research projects (C17, C20–C22)."""


@training.command()
@click.option("--household", "number", required=True, metavar="NUMBER", help="The household's number (户编号).")
@click.option("--on", "on", default=None, metavar="DATE", help="Skills mastered by this day (default: today).")
@click.option("--plan", "plan_name", default=None, help="Plan whose skill rule applies (default: the only stored plan).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_store
def skills(store: Any, number: str, on: str | None, plan_name: str | None, as_json: bool) -> None:
    """Techniques a household masters: each member's, by assessment or by hours of sessions.

    A person masters a technique with a passed assessment, or after the
    plan's skill_hours of its sessions (C21's parameter, default 8), in the
    plan's own courses and assessments.

    \b
    Example:
      fupin training skills --household 530326106200010001
      fupin training skills --household 530326106200010001 --on 2017-12-31 --json
    """
    try:
        day = dt.date.fromisoformat(on) if on else dt.date.today()
    except ValueError:
        raise click.BadParameter("应为 YYYY-MM-DD / expected YYYY-MM-DD", param_hint="--on") from None
    plan = _plan(store, plan_name)
    need = q.settings(plan)["skill_hours"]
    t = q.Tables.of(store)
    with store.reading("registry.read") as conn:
        row = conn.execute(sa.select(t.households.c.id, t.households.c.head_name, t.households.c.group_code)
                           .where(t.households.c.number == number)).first()
        if row is None:
            raise NotFound(f"户 {number} 未登记 / household not registered")
        store.access.require_household(conn, "registry.read", number)
        members = conn.execute(sa.select(t.persons.c.id_number, t.persons.c.name, t.persons.c.relation)
                               .where(t.persons.c.household_id == row.id).order_by(t.persons.c.id)).all()
        group = conn.execute(sa.select(t.areas.c.name).where(t.areas.c.code == row.group_code)).scalar()
        # The plan's own courses and assessments, as C21 counts them.
        found = q.household_members_skills(conn, t, row.id, day, need, q.plan_work(t, plan, plan_units(conn, plan)))
    names = {m.id_number: m.name for m in members}
    techniques: dict[str, list[q.MemberSkill]] = {}
    for s in found:
        techniques.setdefault(s.technique, []).append(s)
    vocab = store.vocab
    if as_json:
        _echo_json({
            "household": number, "group": group, "on": day.isoformat(), "skill_hours": need, "count": len(techniques),
            "techniques": [
                {"technique": code, "label": cat.label(vocab, cat.TECHNIQUES, code), "area": cat.area_of(code),
                 "members": [{"name": names.get(s.id_number, ""), "id_number": mask_id(s.id_number), "how": s.how,
                              "hours": float(s.hours), "evidence": [f"action:{r}" for r in s.refs]} for s in who]}
                for code, who in sorted(techniques.items())
            ],
        })
        return
    click.echo(f"户 {number} (户主 {row.head_name}, {group or row.group_code}): 截至 {day} 掌握 {len(techniques)} 门实用技术 "
               f"/ masters {len(techniques)} technique(s)")
    if not techniques:
        click.echo(f"  尚未掌握 (考核合格或同一技术满 {need} 学时) / none yet (a passed assessment or {need} hours of one technique)")
        return
    rows = []
    for code, who in sorted(techniques.items()):
        for s in who:
            how = f"考核合格 / assessed ({s.refs[-1]})" if s.how == "assessment" else f"{_hours(s.hours)} 学时 / hours ({len(s.refs)} 场 / sessions)"
            rows.append([cat.label(vocab, cat.TECHNIQUES, code), cat.area_label(vocab, cat.area_of(code)), names.get(s.id_number, mask_id(s.id_number)), how])
    for line in table(["技术", "领域", "成员", "方式"], rows):
        click.echo(line)


@training.command()
@click.option("--year", type=int, required=True, help="Households without a technique at this year's end.")
@click.option("--plan", "plan_name", default=None, help="Plan (default: the only stored plan).")
@click.option("--limit", type=int, default=3, show_default=True, help="Sessions shown per household.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_store
def gaps(store: Any, year: int, plan_name: str | None, limit: int, as_json: bool) -> None:
    """Poor households without a technique at the year's end, with the sessions nearest to them.

    Nearest: the year's sessions held in the household's villager group, else
    in its village, else the next sessions after the year.

    \b
    Example:
      fupin training gaps --year 2017
      fupin training gaps --year 2019 --json
    """
    plan = store.plan(plan_name)
    if year not in plan.years():
        raise click.BadParameter(f"不在方案期内 / outside the plan period ({plan.years()[0]}–{plan.years()[-1]})", param_hint="--year")
    store.access.require("registry.read", "技术缺口 / skill gaps")
    start, end = max(dt.date(year, 1, 1), plan.period_start), min(dt.date(year, 12, 31), plan.period_end)
    t = q.Tables.of(store)
    with store.reading("registry.read") as conn:
        units = plan_units(conn, plan)
        cov = q.coverage(conn, t, plan, end, evidence=False)
        rows = q.households_without(conn, t, plan, end, store.access.household_condition("registry.read"))
        in_year = q.sessions_between(conn, t, plan, units, start, end)
        later = q.sessions_between(conn, t, plan, units, end + dt.timedelta(days=1), None)
        groups = dict(conn.execute(sa.select(t.areas.c.code, t.areas.c.name).where(t.areas.c.code.in_(sorted({r.group_code for r in rows})))).all())
    vocab = store.vocab
    out = []
    for r in rows:
        where, near = q.nearest_sessions(in_year, later, r.group_code, limit)
        out.append({
            "household": r.number, "head": r.head_name, "group": groups.get(r.group_code, r.group_code), "members": r.members,
            "able_to_work": r.able, "best_hours": float(r.best_hours or 0), "nearest": where,
            "sessions": [{"ref": s.ref, "date": s.date.isoformat(), "technique": s.technique,
                          "label": cat.label(vocab, cat.TECHNIQUES, s.technique), "place": s.place, "hours": float(s.hours)} for s in near],
        })
    if as_json:
        _echo_json({"year": year, "on": end.isoformat(), "households": cov.households, "without": cov.without,
                    "skill_hours": q.settings(plan)["skill_hours"], "gaps": out})
        return
    click.echo(f"{end}: {cov.households} 户中 {cov.without} 户尚未掌握实用技术 / of {cov.households} households, "
               f"{cov.without} master no technique" + (f" (显示权限内 {len(out)} 户 / {len(out)} in your scope)" if len(out) != cov.without else ""))
    where_zh = {"group": "本组", "village": "本村", "next": "下次"}
    lines = []
    for g in out:
        near = "; ".join(f"{where_zh[g['nearest']]} {s['date']} {s['label']} @{s['place']} ({s['ref']})" for s in g["sessions"]) or "-"
        lines.append([g["household"], g["head"], g["group"], str(g["members"]), str(g["able_to_work"]),
                      f"{Decimal(str(g['best_hours'])).normalize():f}", near])
    if lines:
        for line in table(["户编号", "户主", "村民小组", "人口", "劳动力", "最多学时", "最近的培训 / nearest sessions"], lines):
            click.echo(line)


@training.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_store
def techniques(store: Any, as_json: bool) -> None:
    """The technique catalogue (vocabulary training_technique), by area.

    \b
    Example:
      fupin training techniques
    """
    vocab = store.vocab
    terms = vocab.terms(cat.TECHNIQUES)
    if as_json:
        _echo_json([{"code": x.code, "zh": x.zh, "en": x.en, "area": cat.area_of(x.code), "aliases": list(x.aliases)} for x in terms])
        return
    for line in table(["代码 / code", "技术", "领域"], [[x.code, x.zh, cat.area_label(vocab, cat.area_of(x.code))] for x in terms]):
        click.echo(line)
