"""``fupin demo``: build a plan's village in a database and summarise it.

Everything comes from data: the plan (every village with its parents, groups
and profile, the helping unit, cadre head counts by rank, the schools its
commitments name), an optional demo file ``fupin/data/demo/PLAN.toml``
(departments, where cadres work, a few actions, users) and the synthetic
register (:mod:`fupin.synth`) for the poor households each profile counts.
Any plan that loads builds: a plan without a profile gets
:data:`DEFAULT_HOUSEHOLDS` households in one group per village, a plan without
a demo file puts every cadre in the helping unit itself.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import random
import tomllib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa

from fupin.access import User
from fupin.actions import SupportAction
from fupin.errors import PlanError
from fupin.model import Area, Cadre, Unit, VillageProfile
from fupin.plans import Plan, load_plan
from fupin.serial import Serialisable
from fupin.storage import schema as S
from fupin.synth import GIVEN, SURNAMES, Synthesizer
from fupin.text import table, yuan, yuan_to_fen

#: A demo village with no poor-household count in its profile gets this many.
DEFAULT_HOUSEHOLDS = 50

#: Parameters of commitments that name schools (C23's trainees, C25's host schools).
SCHOOL_PARAMS = ("schools", "host_schools")

#: The unit kind of the helping unit, guessed from the end of its Chinese name.
_UNIT_KINDS = (
    (("大学", "学院", "学校"), "university"),
    (("公司", "集团", "银行", "企业"), "enterprise"),
    (("局", "厅", "委", "办", "政府", "院", "部"), "government"),
)


@attrs.frozen
class DemoSummary(Serialisable):
    """What the demo built, read back from the database."""

    plan: Plan
    village: Area
    profile: VillageProfile | None
    groups: tuple[tuple[str, int, int], ...]  # (group name, households, persons)
    households: int
    persons: int
    attributes: tuple[tuple[str, int], ...]
    causes: tuple[tuple[str, int], ...]
    tags: tuple[tuple[str, int], ...]
    units: int
    schools: tuple[str, ...]
    cadres_by_rank: tuple[tuple[str, int], ...]
    actions: tuple[SupportAction, ...]
    sample_household: str | None
    users: tuple[tuple[str, str], ...] = ()
    villages: tuple[Area, ...] = ()


def _demo_data(plan: Plan) -> dict[str, Any]:
    resource = importlib.resources.files("fupin") / "data" / "demo" / f"{plan.name}.toml"
    if not resource.is_file():
        return {}
    return tomllib.loads(resource.read_text(encoding="utf-8"))


def build_demo(
    store: Any, plan_name: str = "qjnu-tuomu", *, seed: int = 2015, progress: Callable[[int, int], object] | None = None
) -> DemoSummary:
    """Build the villages of plan ``plan_name`` (a packaged name or a file) in ``store`` (one transaction) and return a summary.

    Every village of the plan is built with its parent areas, its villager
    groups and the poor households its profile counts; the helping unit, its
    cadres by rank and the schools the commitments name are registered.
    ``progress`` is called as ``progress(done, total)``, counting the
    households of every village, as they are written.

    Raises:
        PlanError: the plan names no village or no cadre rank (nothing to build).
    """
    plan = load_plan(plan_name)
    if not plan.villages:
        raise PlanError(f"{plan.origin}: 方案没有村 / the plan names no village")
    if not plan.cadres.ranks or not plan.cadres.head_count():
        raise PlanError(f"{plan.origin}: 方案没有参加的干部 (cadres.ranks) / the plan names no cadres taking part")
    data = _demo_data(plan)
    rng = random.Random(seed)
    store.save_plan(plan)
    with store.transaction():
        level_area: dict[str, str] = {}
        built: list[tuple[Area, list[str], int, dt.date]] = []  # village, its group codes, households, first identified
        added: set[str] = set()  # villages of one plan share their parent areas
        for village_ref in plan.villages:
            village, groups, parents = _village_areas(village_ref)
            for area in [*parents, village, *groups]:
                if area.code not in added and not _exists(store, S.areas.c.code, area.code):
                    store.add_area(area)
                added.add(area.code)
            profile = village_ref.profile
            village_profile = _profile(village.code, profile)
            if village_profile is not None:
                store.put_village_profile(village_profile)
            if not level_area:  # the demo file's schools sit in the first village's areas
                level_area = {a.level: a.code for a in parents} | {"village": village.code}
            count = (profile.poor_households if profile and profile.poor_households else None) or DEFAULT_HOUSEHOLDS
            first = dt.date(profile.year - 1, 10, 1) if profile else plan.period_start
            built.append((village, [g.code for g in groups], count, first))

        unit = plan.helping_unit
        store.add_unit(Unit.new(code=unit.code, name=unit.name_zh, kind=_unit_kind(unit.name_zh), vocab=store.vocab))
        for dept in data.get("departments", []):
            store.add_unit(Unit.new(code=dept["code"], name=dept["name"], kind="department", parent_code=unit.code, vocab=store.vocab))
        schools = list(data.get("schools", []))
        named = {school["name"] for school in schools}
        for n, name in enumerate(name for name in plan_schools(plan) if name not in named):
            schools.append({"code": f"{unit.code}-SCH{n + 1:02d}", "name": name, "area_code": _school_area(plan, name)})
        for school in schools:
            area_code = school.get("area_code") or level_area.get(school.get("area", ""))
            store.add_unit(Unit.new(code=school["code"], name=school["name"], kind="school", area_code=area_code, vocab=store.vocab))

        cadre_codes = _add_cadres(store, plan, data.get("cadres", {}), rng)
        # One generator for all villages, so no ID number is given out twice in a county.
        synth = Synthesizer(seed=seed, county_code=built[0][0].code[:6], first_identified=built[0][3], vocab=store.vocab)
        numbers: list[str] = []
        total = sum(count for _, _, count, _ in built)
        for i, (village, group_codes, count, first) in enumerate(built):
            synth.seed, synth.first_identified = seed + i, first
            if village.code[:6] != synth.county_code:
                synth = Synthesizer(seed=seed + i, county_code=village.code[:6], first_identified=first, vocab=store.vocab)
            before = len(numbers)  # households of the villages already built

            def report(done: int, _count: int, before: int = before) -> None:
                if progress is not None:
                    progress(before + done, total)

            synth.write(store, households=count, groups=group_codes, progress=report)
            numbers += synth.household_numbers(group_codes, count)
        village = built[0][0]
        for spec in data.get("actions", []):
            store.record_action(_action(store, plan, spec, cadre_codes, numbers, village.code))
        # The demo's users act through the login that built the demo (PostgreSQL),
        # so one may try each role with --as.
        db_login = store.session_login()
        for spec in data.get("users", []):
            unit, _, login = spec["login"].partition(":")
            cadre = spec.get("cadre")
            store.add_user(
                User(
                    unit,
                    login,
                    tuple(spec["roles"]),
                    areas=tuple(level_area[a] for a in spec.get("areas", [])),
                    cadre=cadre_codes[cadre - 1] if cadre else None,
                    login=db_login,
                )
            )
    return summarise(store, plan, village.code, sample=numbers[0] if numbers else None)


def _village_areas(ref: Any) -> tuple[Area, list[Area], list[Area]]:
    """The village, its villager groups and its parent areas (largest first) as the plan gives them."""
    parents: list[Area] = []
    for parent in ref.parents:
        parents.append(Area(parent.code, parent.name_zh, parent.level, parents[-1].code if parents else None))
    village = Area(ref.code, ref.name_zh, "village", parents[-1].code if parents else None)
    profile = ref.profile
    names = profile.villager_groups if profile and profile.villager_groups else ("第一组",)
    groups = [Area(f"{village.code}{i + 1:02d}", name, "group", village.code) for i, name in enumerate(names)]
    return village, groups, parents


def plan_schools(plan: Plan) -> list[str]:
    """The schools the plan's commitments name (``schools``, ``host_schools``), in order, once each."""
    names: dict[str, None] = {}
    for c in plan.commitments:
        for key in SCHOOL_PARAMS:
            value = c.params.get(key)
            if isinstance(value, list | tuple):
                names.update((v, None) for v in value if isinstance(v, str) and v)
    return list(names)


def _school_area(plan: Plan, name: str) -> str | None:
    """Where a named school sits: the village, town, county or city of the plan whose name it starts with."""

    def stem(area_name: str) -> str:
        # "会泽一中" names 会泽县 without its 县; "者海镇一中" names the town in full.
        return area_name[:-1] if len(area_name) > 2 and area_name[-1] in "村镇乡县市区" else area_name

    for level in ("village", "town", "county", "city"):
        for v in plan.villages:
            area = v if level == "village" else v.parent(level)
            if area is not None and name.startswith(stem(area.name_zh)):
                return area.code
    county = plan.villages[0].parent("county")
    return county.code if county else None


def _unit_kind(name: str) -> str:
    for endings, kind in _UNIT_KINDS:
        if name.endswith(endings):
            return kind
    return "other"


def _exists(store: Any, column: sa.Column, value: str) -> bool:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(column).where(column == value)).first() is not None


def _profile(village_code: str, p: Any) -> VillageProfile | None:
    if p is None or p.households is None or p.population is None:
        return None

    def dec(value: float | None) -> Decimal | None:
        return None if value is None else Decimal(str(value))

    return VillageProfile(
        village_code=village_code,
        year=p.year,
        households=p.households,
        population=p.population,
        poor_households=p.poor_households,
        poor_people=p.poor_people,
        area_km2=dec(p.area_km2),
        altitude_m=None if p.altitude_m is None else int(p.altitude_m),
        mean_temp_c=dec(p.mean_temp_c),
        rainfall_mm=None if p.rainfall_mm is None else int(p.rainfall_mm),
        arable_mu=dec(p.arable_mu),
        net_income_per_capita_fen=p.net_income_per_capita_fen,
        earth_wood_houses=p.earth_wood_houses,
        migrant_workers=p.migrant_workers,
    )


def _add_cadres(store: Any, plan: Plan, where: dict[str, list[str]], rng: random.Random) -> list[str]:
    """Register the plan's cadres by rank (synthetic names); returns their codes in order."""
    codes = []
    n = 0
    for rank in plan.cadres.ranks:
        units = where.get(rank.rank) or [plan.helping_unit.code]
        for i in range(rank.count):
            n += 1
            code = f"{plan.helping_unit.code}-C{n:03d}"
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
            store.add_cadre(Cadre.new(code=code, name=name, unit=units[i % len(units)], rank=rank.rank, vocab=store.vocab))
            codes.append(code)
    return codes


def _action(store: Any, plan: Plan, spec: dict[str, Any], cadres: list[str], households: list[str], village: str) -> SupportAction:
    def beneficiary(ref: str) -> str:
        if ref == "village":
            return f"village:{village}"
        kind, _, value = ref.partition(":")
        if kind == "household":
            return f"household:{households[int(value) - 1]}"
        if kind == "school":
            return f"unit:{value}"
        return ref

    return SupportAction.new(
        store.hooks.action_kind(spec["kind"]),
        start=spec["date"],
        end=spec.get("end"),
        unit=spec["unit"],
        plan=plan.name,
        helpers=[cadres[i - 1] for i in spec.get("helpers", []) if i <= len(cadres)],
        beneficiaries=[beneficiary(b) for b in spec.get("beneficiaries", [])],
        quantities=spec.get("quantities", {}),
        amount_fen=yuan_to_fen(spec["amount_yuan"]) if "amount_yuan" in spec else 0,
        details=spec.get("details"),
        title=spec.get("title", ""),
        ref=spec.get("ref"),
    )


def summarise(store: Any, plan: Plan, village_code: str, sample: str | None = None) -> DemoSummary:
    """Read the figures of a plan's villages back from the database (SQL aggregates); ``village_code`` is the first."""
    codes = list(dict.fromkeys([village_code, *(v.code for v in plan.villages)]))
    with store.engine.connect() as conn:
        village_rows = {r.code: r for r in conn.execute(sa.select(S.areas).where(S.areas.c.code.in_(codes)))}
        village_row = village_rows[village_code]
        group_rows = conn.execute(
            sa.select(
                S.areas.c.name,
                sa.func.count(sa.distinct(S.households.c.id)),
                sa.func.count(S.persons.c.id),
            )
            .select_from(S.areas)
            .outerjoin(S.households, S.households.c.group_code == S.areas.c.code)
            .outerjoin(S.persons, S.persons.c.household_id == S.households.c.id)
            .where(S.areas.c.parent_code.in_(codes))
            .group_by(S.areas.c.code, S.areas.c.name)
            .order_by(S.areas.c.code)
        ).all()
        in_village = S.households.c.group_code.in_(
            sa.select(S.areas.c.code).where(S.areas.c.parent_code.in_(codes))
        )

        def counted(column: sa.Column) -> tuple[tuple[str, int], ...]:
            rows = conn.execute(
                sa.select(column, sa.func.count()).where(in_village).group_by(column).order_by(sa.func.count().desc(), column)
            ).all()
            return tuple((r[0], r[1]) for r in rows)

        tag_rows = conn.execute(
            sa.select(S.person_tags.c.tag, sa.func.count(sa.distinct(S.person_tags.c.person_id)))
            .join(S.persons, S.persons.c.id == S.person_tags.c.person_id)
            .join(S.households, S.households.c.id == S.persons.c.household_id)
            .where(in_village)
            .group_by(S.person_tags.c.tag)
            .order_by(sa.func.count(sa.distinct(S.person_tags.c.person_id)).desc())
        ).all()
        ranks = conn.execute(
            sa.select(S.cadres.c.rank, sa.func.count()).group_by(S.cadres.c.rank).order_by(sa.func.count())
        ).all()
        schools = conn.execute(sa.select(S.units.c.name).where(S.units.c.kind == "学校").order_by(S.units.c.code)).scalars().all()
        unit_count = conn.execute(sa.select(sa.func.count()).select_from(S.units)).scalar_one()
        attributes = counted(S.households.c.attribute)
        causes = counted(S.households.c.main_cause)
        profile_year = conn.execute(
            sa.select(sa.func.max(S.village_profiles.c.year)).where(S.village_profiles.c.village_code == village_code)
        ).scalar()
    profile = store.village_profile(village_code, profile_year) if profile_year else None
    return DemoSummary(
        plan=plan,
        village=Area(village_row.code, village_row.name, village_row.level, village_row.parent_code),
        profile=profile,
        groups=tuple((r[0], r[1], r[2]) for r in group_rows),
        households=sum(r[1] for r in group_rows),
        persons=sum(r[2] for r in group_rows),
        attributes=attributes,
        causes=causes,
        tags=tuple((r[0], r[1]) for r in tag_rows),
        units=unit_count,
        schools=tuple(schools),
        cadres_by_rank=tuple((r[0], r[1]) for r in ranks),
        actions=tuple(store.actions()),
        sample_household=sample,
        users=tuple((u.key, ", ".join(u.roles)) for u in store.users()),
        villages=tuple(Area(r.code, r.name, r.level, r.parent_code) for code in codes if (r := village_rows.get(code)) is not None),
    )


def render_summary(s: DemoSummary, lang: str = "zh") -> str:
    """The demo summary as readable text (Chinese by default)."""
    zh = lang != "en"

    def t(a: str, b: str) -> str:
        return a if zh else b

    plan, p = s.plan, s.profile
    lines = [
        t(f"【{'、'.join(v.name for v in s.villages) or s.village.name}】扶贫示范数据已建立",
          f"Demo village {', '.join(v.name for v in s.villages) or s.village.name} built"),
        t(f"方案: {plan.title_zh}", f"Plan: {plan.title_en or plan.title_zh}"),
        t(f"帮扶单位: {plan.helping_unit.name_zh}    期限: {plan.period_start} 至 {plan.period_end}    承诺事项: {len(plan.commitments)} 项",
          f"Helping unit: {plan.helping_unit.name_en or plan.helping_unit.name_zh}    period: {plan.period_start} to {plan.period_end}    commitments: {len(plan.commitments)}"),
        "",
    ]
    if p is not None:
        lines.append(t(f"村情 ({p.year} 年, 方案所述)", f"Village profile ({p.year}, as stated)"))
        lines.append(t(
            f"  {p.households} 户 {p.population} 人; 贫困户 {p.poor_households} 户, 贫困人口 {p.poor_people} 人 "
            f"(贫困发生率 {p.poverty_incidence:.2%}); 耕地 {p.arable_mu} 亩; 农民人均纯收入 {yuan(p.net_income_per_capita_fen or 0)} 元",
            f"  {p.households} households, {p.population} people; poor: {p.poor_households} households, {p.poor_people} people "
            f"(incidence {p.poverty_incidence:.2%}); arable {p.arable_mu} mu; net income per person {yuan(p.net_income_per_capita_fen or 0)} yuan",
        ))
        lines.append("")
    lines.append(t(f"建档立卡登记 (合成数据): {s.households} 户 {s.persons} 人", f"Registered (synthetic): {s.households} households, {s.persons} people"))
    lines += table([t("村民小组", "villager group"), t("户数", "households"), t("人数", "people")],
                   [[g, str(h), str(n)] for g, h, n in s.groups])
    lines.append("")
    lines.append(t("贫困户属性: ", "Attributes: ") + "; ".join(f"{a} {n}" for a, n in s.attributes))
    lines.append(t("主要致贫原因: ", "Main causes: ") + "; ".join(f"{a} {n}" for a, n in s.causes))
    if s.tags:
        lines.append(t("人员标签: ", "Person tags: ") + "; ".join(f"{a} {n}" for a, n in s.tags))
    lines.append("")
    cadres = sum(n for _, n in s.cadres_by_rank)
    lines.append(t(f"挂包帮干部 {cadres} 人: ", f"Cadres {cadres}: ") + "; ".join(f"{r} {n}" for r, n in s.cadres_by_rank))
    lines.append(t(f"单位 {s.units} 个 (含学校: {'、'.join(s.schools) or '无'})", f"Units {s.units} (schools: {', '.join(s.schools) or 'none'})"))
    lines.append("")
    lines.append(t(f"帮扶记录 {len(s.actions)} 条:", f"Support actions {len(s.actions)}:"))
    for a in s.actions[:12]:
        money = t(f"  {yuan(a.amount_fen)} 元", f"  {yuan(a.amount_fen)} yuan") if a.amount_fen else ""
        lines.append(f"  {a.start}  {a.kind:<16} {a.title}{money}")
    if len(s.actions) > 12:
        lines.append(f"  … ({len(s.actions) - 12})")
    if s.users:
        lines += ["", t("用户与角色 (fupin --as 用户 ...):", "Users and roles (fupin --as USER ...):")]
        lines += table([t("用户", "user"), t("角色", "roles")], [[login, roles] for login, roles in s.users])
    if s.sample_household:
        lines += ["", t(f"查看一户: fupin show household {s.sample_household}", f"See a household: fupin show household {s.sample_household}")]
    return "\n".join(lines)


#: Short status marks for the year-by-year table.
_MARKS = {"met": "✓", "not_met": "✗", "not_due": "…", "no_data": "–", "not_measurable": "○"}


def render_played(store: Any, plan: Plan, played: Any, lang: str = "zh") -> str:
    """What the simulation recorded, every commitment year by year, and the last year's report."""
    from fupin.checks import check_plan
    from fupin.report import build_report, render_report_text

    zh = lang != "en"
    t = (lambda a, b: a) if zh else (lambda a, b: b)
    years = list(played.years)
    as_of = dt.date(plan.period_end.year + 1, 3, 31)  # fixed, so the same seed gives the same report
    exits = ", ".join(f"{y}: {n}" for y, n in sorted(played.exits.items()))
    lines = [
        t(f"模拟 {years[0]}–{years[-1]} 年帮扶工作 (种子固定, 结果可重复)", f"Simulated {years[0]}–{years[-1]} (seeded, repeatable)"),
        t(f"  结对 {played.pairings} 户, 走访 {played.visits} 次, 民情日记 {played.diary_entries} 条, 案件 {played.cases} 件; 脱贫户数 {exits}",
          f"  {played.pairings} households paired, {played.visits} visits, {played.diary_entries} diary entries, {played.cases} cases; exits {exits}"),
        "",
        t("承诺逐年检查 (✓ 达成  ✗ 未达成  … 未到期  – 无数据/插件未安装  ○ 不可量化)", "Commitments year by year (✓ met  ✗ not met  … not yet due  – no data / plugin not installed  ○ not measurable)"),
    ]
    by_year = {y: {r.commitment: r for r in check_plan(store, plan, y, as_of=as_of)} for y in years}
    titles = {c.id: c.title(lang) for c in plan.commitments}
    rows = []
    for c in plan.commitments:
        if c.id not in by_year[years[0]]:
            continue
        rows.append([c.id, *(_MARKS[by_year[y][c.id].status.value] for y in years), titles[c.id][:26]])
    lines += table([t("编号", "id"), *map(str, years), t("承诺", "commitment")], rows)
    lines += ["", render_report_text(build_report(store, plan, years[-1], as_of=as_of), lang)]
    lines += ["", t(f"其他年份: fupin report --year {years[1]} --format html -o 报告.html", f"Other years: fupin report --year {years[1]} --format html -o report.html")]
    return "\n".join(lines)
