"""Play a plan's years on the demo village: pairings, visits with answers, diary, cases, exits.

``fupin demo`` builds the village (:mod:`fupin.demo`) and then calls
:func:`play`, which records what the helping unit plausibly did from the start
of the plan to its end, through the same library calls a clerk's scripts use
(so every record is validated and audited). Everything is drawn from one
seeded random generator: the same seed gives the same records and the same
report.

The simulation is not perfect on purpose, so the report has real shortfalls
to show: a few households first visited after the first-round deadline, a
year with a missed revisit, a year with one leadership meeting instead of
two, a secondment gap, a case left open too long, and households still poor
at the end of the plan. Nothing about a particular plan is hard-coded: roles,
deadlines and quotas come from the plan's commitments; villages, the town, the
crops and the years from the plan; the shortfalls fall in the plan's third and
fourth years (counted from its first), whatever those are; cadres are picked
by position modulo the plan's head count, so a plan of two cadres plays too.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import attrs
import sqlalchemy as sa

from fupin.actions import SupportAction
from fupin.model import Case, Cadre, DiaryEntry, Visit
from fupin.serial import Serialisable
from fupin.storage import schema as S

HOUSEHOLD_QUESTIONNAIRE = "yunnan-household@1"
VILLAGE_QUESTIONNAIRE = "yunnan-village@1"
_NEEDS = ("产业", "就业", "技术", "资金", "住房", "教育", "医疗", "饮水", "道路")
_EXIT_BOOLS = ("food_clothing_ok", "compulsory_education_ok", "medical_insurance_ok", "housing_safe", "safe_water_ok")


@attrs.frozen
class PlayResult(Serialisable):
    """What the simulation recorded, for the demo's summary."""

    years: tuple[int, ...]
    pairings: int
    visits: int
    diary_entries: int
    cases: int
    exits: dict[int, int]


def _params(plan: Any, target: str) -> dict[str, Any]:
    for c in plan.commitments:
        if c.target == target:
            return dict(c.params)
    return {}


def _day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max((end - start).days, 0)))


def _nth(items: Any, i: int) -> Any:
    """The ``i``-th item, counted round (negative from the end): any head count has one."""
    return items[i % len(items)]


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


#: :func:`play` reports its progress every this many households of a year.
PROGRESS_EVERY = 50


def _quiet(done: int, total: int) -> None:
    """No progress to report."""


class _Player:
    def __init__(self, store: Any, plan: Any, seed: int, progress: Callable[[int, int], object] | None = None) -> None:
        self.store, self.plan = store, plan
        self.progress = progress or _quiet
        self.steps = self.done = 0
        self.rng = random.Random(seed * 7919 + 37)
        self.unit = plan.helping_unit.code
        self.village = plan.villages[0].code
        self.village_name = plan.villages[0].name_zh
        town = plan.villages[0].parent("town")
        c06 = _params(plan, "core.secondments")
        # Where the seconded cadres go: the plan's own words, else the first village's town.
        self.posted_to = c06.get("moved_to_zh") or (town.name_zh if town else self.village_name)
        years = plan.years()
        # The years of the planned shortfalls: the plan's third and fourth years (or its last).
        self.short_year = years[min(2, len(years) - 1)]
        self.missed_year = years[min(3, len(years) - 1)]
        crops = _params(plan, "funding.industry_projects").get("crops", ())
        self.crop = crops[0] if crops else "特色种植"
        self.counts: defaultdict[str, int] = defaultdict(int)
        self.exits: dict[int, int] = {}

    # -- helpers ---------------------------------------------------------------------

    def action(self, kind: str, start: dt.date, title: str, *, end: dt.date | None = None, helpers: list[str] = (),
               beneficiaries: list[str] = (), details: dict[str, Any] | None = None, tag: str = "A", **extra: Any) -> None:
        self.counts[f"{kind}{start.year}"] += 1
        ref = f"{self.unit}-{start.year}-{tag}{self.counts[f'{kind}{start.year}']:03d}"
        self.store.record_action(SupportAction.new(
            self.store.hooks.action_kind(kind), start=start, end=end, unit=self.unit, plan=self.plan.name, title=title,
            helpers=list(helpers), beneficiaries=list(beneficiaries) or [f"village:{self.village}"], details=details, ref=ref, **extra,
        ))

    def visit(self, day: dt.date, kind: str, cadres: list[str], household: str | None = None, answers: dict[str, Any] | None = None,
              findings: str = "入户走访, 核对建档立卡信息", village: str | None = None) -> None:
        from fupin.visits import record_visit

        self.counts[f"visit{day.year}"] += 1
        record_visit(self.store, Visit.new(
            vocab=self.store.vocab, ref=f"{self.unit}-V{day.year}-{self.counts[f'visit{day.year}']:05d}", date=day, kind=kind, cadres=cadres,
            household=household, village=None if household else (village or self.village), plan=self.plan.name,
            questionnaire=(HOUSEHOLD_QUESTIONNAIRE if household else VILLAGE_QUESTIONNAIRE) if answers else None,
            answers=answers, findings=findings,
        ))
        self.counts["visits"] += 1

    # -- the plan's organisation ---------------------------------------------------------

    def organise(self, cadres: list[Cadre]) -> None:
        """Leading group (C01), secondments (C06) with a gap, yearly meetings, site visits, publicity, inspections."""
        start, end = self.plan.period_start, self.plan.period_end
        leaders = [c.code for c in cadres[:2]]
        top = self.plan.cadres.ranks[0].count if self.plan.cadres.ranks else len(cadres)
        for role, who in zip(_params(self.plan, "core.roles").get("roles", ()), leaders, strict=False):
            self.action("core.appointment", start, f"领导小组: {role}", end=end, helpers=[who], details={"role": role}, tag="R")
        c06 = _params(self.plan, "core.secondments")
        moved_by = c06.get("moved_by")
        for i, role in enumerate(c06.get("moved_roles", ())):
            if moved_by:
                # The moved posting lasts the plan's minimum (C06 min_days), not just past the deadline.
                self.action("core.secondment", moved_by - dt.timedelta(days=40 - i), f"调整到位: {role}",
                            end=moved_by + dt.timedelta(days=max(20, c06.get("min_days", 0))),
                            helpers=[_nth(cadres, -1 - i).code], details={"role": role, "posted_to": c06.get("moved_to_zh", ""),
                                                                    "moved_from": c06.get("moved_from_zh", "")}, tag="S")
        seconded_from = c06.get("seconded_from")
        if seconded_from:
            for i, role in enumerate(c06.get("seconded_roles", ())):
                # Two-year postings; the second attached leader arrives a year late: an honest gap.
                first_end = dt.date(seconded_from.year + 1, 12, 31)
                self.action("core.secondment", seconded_from + dt.timedelta(days=4), f"选派挂职: {role}", end=min(first_end, end),
                            helpers=[_nth(cadres, -3 - i).code], details={"role": role, "posted_to": self.posted_to}, tag="S")
                second_start = dt.date(seconded_from.year + (3 if i == 0 else 2), 1, 5)
                if second_start <= end:
                    self.action("core.secondment", second_start, f"选派挂职: {role}", end=end,
                                helpers=[_nth(cadres, -5 - i).code], details={"role": role, "posted_to": self.posted_to}, tag="S")
        body = (_params(self.plan, "core.meetings_per_year").get("bodies") or ["领导班子会议"])[0]
        for year in self.plan.years():
            y0, y1 = max(dt.date(year, 1, 1), start), min(dt.date(year, 12, 31), end)
            meetings = 1 if year == self.short_year else 2  # one meeting short in the third year: C03 not met that year
            for n in range(meetings):
                self.action("core.meeting", _day(self.rng, y0, y1) if n else y0 + dt.timedelta(days=20), f"{self.plan.helping_unit.name_zh}领导班子专题研究扶贫工作",
                            helpers=leaders, details={"topic": f"{year}年挂包帮工作推进", "body": body, "chaired_by": "党委书记"}, quantities={"people": top}, tag="M")
            for _ in range(2 + (year % 2)):
                self.action("core.site_visit", _day(self.rng, y0, y1), f"{self.plan.helping_unit.name_zh}领导深入{self.village_name}调研", helpers=leaders,
                            details={"purpose": "调研脱贫进展", "mode": self.rng.choice(("调研", "现场办公"))}, quantities={"people": 5}, tag="V")
            self.action("core.publicity", _day(self.rng, y0, y1), "精准扶贫政策宣讲", helpers=[_nth(cadres, self.rng.randrange(len(cadres))).code],
                        details={"topic": "精准扶贫政策", "feedback_items": ["希望修通组道路", "希望增加技术培训"], "passed_to": f"{self.posted_to}政府"}, tag="P")
            self.action("core.inspection", dt.date(year, 6, 15) if year > start.year else y0 + dt.timedelta(days=60), "平时抽查",
                        details={"method": "平时抽查", "circulated": True}, tag="I")
            self.action("core.publication", dt.date(year, 12, 28), "挂包帮工作报道",
                        details={"title": f"{self.plan.helping_unit.name_zh}扎实推进挂包帮工作", "medium": "网站",
                                 "outlet": f"{self.plan.helping_unit.name_zh}新闻网"}, tag="B")

    # -- households -------------------------------------------------------------------------

    def answers(self, h: Any, size: int, year: int, exits_in: int | None) -> dict[str, Any]:
        attribute = "五保户" if "特困" in h.attribute or "五保" in h.attribute else ("低保贫困户" if "低保" in h.attribute else "一般贫困户")
        line = self.store.vocab.poverty_line_fen(year, h.group_code[:12])
        ready = exits_in is not None and year >= exits_in
        income = int(line * (self.rng.uniform(1.08, 1.45) if ready else self.rng.uniform(0.62, 0.97)))
        failing = None if ready else self.rng.choice(_EXIT_BOOLS)
        answers = {
            "attribute": attribute, "household_size": size, "labour_force": max(size - 2, 0),
            "drinking_water_difficult": not (h.safe_water or ready), "house_dilapidated": bool(h.dilapidated) and not ready,
            "gross_income": _yuan(income * size * 13 // 10), "disposable_income_per_person": _yuan(income),
            "help_needs": self.rng.sample(_NEEDS, 2), "satisfaction": self.rng.choice(("满意", "满意", "基本满意")),
        }
        answers.update({k: (k != failing) for k in _EXIT_BOOLS})
        answers["housing_safe"] = answers["housing_safe"] and not answers["house_dilapidated"]
        answers["safe_water_ok"] = answers["safe_water_ok"] and not answers["drinking_water_difficult"]
        return answers

    def play(self) -> PlayResult:
        from fupin.exits import assess, record_exit
        from fupin.pairing import auto_pair, plan_cadres, transfer
        from fupin.visits import CampaignRule, add_diary_entry, close_case, open_case

        store, plan, rng = self.store, self.plan, self.rng
        rule = _campaign_rule(plan, store.vocab)
        villages = [v.code for v in plan.villages]
        with store.reading("registry.read") as conn:
            rows = conn.execute(
                sa.select(S.households).where(sa.func.substr(S.households.c.group_code, 1, 12).in_(villages)).order_by(S.households.c.number)
            ).all()
            sizes = dict(conn.execute(sa.select(S.persons.c.household_id, sa.func.count()).group_by(S.persons.c.household_id)).all())
            mine = {code for code, _rank in plan_cadres(conn, plan)}
        cadres = sorted((c for c in store.cadres() if c.code in mine), key=lambda c: c.code)
        self.organise(cadres)
        paired_on = (rule.pairing_by or plan.period_start) - dt.timedelta(days=6)
        auto = auto_pair(store, plan, on=paired_on)
        cadre_of: dict[str, str] = {household: cadre for cadre, household, _ in auto.created}
        # When each household can leave poverty: most by the fourth year, a few not by the end of the plan (C37 shortfall).
        years = plan.years()
        exit_years = [years[min(k, len(years) - 1)] for k in (1, 2, 3)] + [years[-1], None]
        exit_year = {}
        for h in rows:
            exit_year[h.number] = rng.choices(exit_years, weights=[18, 30, 30, 19, 3])[0]
        team_leader = _nth(cadres, -3).code
        paired = sorted(cadre_of)
        late_first = set(rng.sample(paired, min(8, len(paired) // 10)))  # first visited after the deadline: C10 not met in the first year
        missed = {self.missed_year: set(rng.sample(paired, min(4, len(paired) // 20)))}  # no revisit that year
        # Village plan and a development plan per paired household (C15).
        planned_on = min(rule.first_round_by + dt.timedelta(days=20), plan.period_end)
        for village in plan.villages:
            self.action("core.development_plan", planned_on, f"{village.name_zh}脱贫攻坚规划", end=plan.period_end,
                        beneficiaries=[f"village:{village.code}"],
                        details={"scope": "village", "measures": [f"{self.crop}示范种植", "道路硬化", "人畜饮水"], "status": "执行中"}, tag="D")
        for number in sorted(cadre_of):
            self.action("core.development_plan", min(planned_on + dt.timedelta(days=20), plan.period_end), "贫困户脱贫发展计划", end=plan.period_end,
                        helpers=[cadre_of[number]], beneficiaries=[f"household:{number}"],
                        details={"scope": "household", "measures": rng.sample(("种植", "养殖", "务工", "技能培训", "危房改造"), 2)}, tag="D")
        by_number = {h.number: h for h in rows}
        # Steps: each household's year, each year's end (diary, cases, inspection, exits), the plugins' streams.
        self.steps = len(years) * (len(by_number) + 1) + 1
        self.step(0)
        for year in plan.years():
            y0 = max(dt.date(year, 1, 1), plan.period_start)
            if year == self.short_year and year > rule.first_year:
                # A cadre leaves; a new cadre of the same rank takes the households over in one step.
                leaving = _nth(cadres, 9)
                new = Cadre.new(vocab=store.vocab, code=f"{self.unit}-C{len(cadres) + 1:03d}", name="新任干部", unit=leaving.unit, rank=leaving.rank)
                store.add_cadre(new)
                transfer(store, leaving.code, new.code, on=dt.date(year, 3, 1), reason="工作调动 / transferred", plan=plan)
                cadre_of = {h: (new.code if c == leaving.code else c) for h, c in cadre_of.items()}
            for n, (number, h) in enumerate(by_number.items()):
                if n and n % PROGRESS_EVERY == 0:
                    self.step(PROGRESS_EVERY)
                size = sizes.get(h.id, 1)
                cadre = cadre_of.get(number)
                if year == rule.first_year:
                    if cadre is None:
                        continue
                    if number in late_first:
                        day = _day(rng, rule.first_round_by + dt.timedelta(days=3), rule.first_round_by + dt.timedelta(days=40))
                    else:
                        day = _day(rng, max(y0, rule.first_round_by - dt.timedelta(days=55)), rule.first_round_by)
                    self.visit(day, "首轮走访", [cadre], number, self.answers(h, size, year, exit_year[number]))
                    continue
                who = [cadre] if cadre else [team_leader]
                if number in missed.get(year, ()):
                    self.visit(_day(rng, dt.date(year, 3, 1), dt.date(year, 11, 30)), "电话", who, number)  # a call is not a visit
                    continue
                if cadre and rng.random() < 0.3:
                    festival = plan.calendar.get("spring_festival", {}).get(year)
                    if festival:
                        self.visit(festival - dt.timedelta(days=rng.randint(3, 15)), "送温暖", who, number, findings="春节前送温暖慰问")
                # As many revisits a year as the plan asks for, spread over the year's halves.
                for k in range(rule.revisit_per_year):
                    lo = dt.date(year, 4, 1) + dt.timedelta(days=240 * k // rule.revisit_per_year)
                    hi = dt.date(year, 4, 1) + dt.timedelta(days=240 * (k + 1) // rule.revisit_per_year - 1)
                    self.visit(_day(rng, lo, hi), "回访", who, number, self.answers(h, size, year, exit_year[number]))
            for village in plan.villages:
                profile = village.profile
                self.visit(_day(rng, max(y0, dt.date(year, 3, 1)), dt.date(year, 11, 30)), "回访", [cadres[0].code],
                           answers={"total_households": profile.households if profile and profile.households else len(rows),
                                    "total_population": profile.population if profile and profile.population else 0},
                           findings="村情座谈", village=village.code)
            self.diary_and_cases(year, sorted(set(cadre_of.values())), sorted(cadre_of), add_diary_entry, open_case, close_case)
            # The year-end inspection, whose results enter the assessment of every cadre then helping households (C34).
            self.action("core.inspection", dt.date(year, 12, 20), "年终检查", tag="I", details={
                "method": "年终检查", "findings": "个别户走访不及时", "assessed_cadres": sorted(set(cadre_of.values()))})
            if year > rule.first_year:
                passing = [a.household for a in assess(store, plan, year) if a.passed]
                with store.transaction("exits.write"):
                    for number in passing:
                        record_exit(store, number, year, on=dt.date(year, 12, 20), plan=plan)
                self.exits[year] = len(passing)
            self.step(len(by_number) % PROGRESS_EVERY or min(PROGRESS_EVERY, len(by_number)), end_of_year=True)
        return PlayResult(tuple(plan.years()), len(auto.created), self.counts["visits"], self.counts["diary"], self.counts["cases"], dict(self.exits))

    def step(self, n: int, *, end_of_year: bool = False) -> None:
        """``n`` more steps done (and the year's end): tell ``progress``."""
        self.done += n + end_of_year
        self.progress(self.done, self.steps)

    def diary_and_cases(self, year: int, cadres: list[str], households: list[str], add_diary_entry: Any, open_case: Any, close_case: Any) -> None:
        store, rng = self.store, self.rng
        y0 = max(dt.date(year, 1, 1), self.plan.period_start)
        for n, cadre in enumerate(cadres):
            for k in range(2):
                self.counts["diary"] += 1
                # Every kind C16 asks for turns up each year: talks, visitors, reports, opinions, the diary.
                kind = ("意见建议", "民情日记", "民情恳谈", "民情日记", "接待来访", "民情报告", "民情日记")[(n + k) % 7]
                add_diary_entry(store, DiaryEntry.new(
                    vocab=store.vocab, ref=f"{self.unit}-D{year}-{self.counts['diary']:05d}", date=_day(rng, y0, dt.date(year, 12, 15)), cadre=cadre,
                    kind=kind, household=rng.choice(households), text="与户主拉家常, 了解生产生活情况" if kind == "民情日记" else "群众希望硬化入户路",
                ))
        for k in range(5):
            self.counts["cases"] += 1
            ref = f"{self.unit}-K{year}-{k + 1:03d}"
            opened = _day(rng, y0, dt.date(year, 9, 30))
            cadre = rng.choice(cadres)
            open_case(store, Case.new(vocab=store.vocab, ref=ref, kind=rng.choice(("诉求", "矛盾纠纷", "求助")), opened=opened, cadre=cadre,
                                      household=rng.choice(households), summary="邻里宅基地界线纠纷" if k % 2 else "申请危房改造补助"))
            self.counts["diary"] += 1
            add_diary_entry(store, DiaryEntry.new(vocab=store.vocab, ref=f"{self.unit}-D{year}-{self.counts['diary']:05d}", date=opened + dt.timedelta(days=5),
                                                  cadre=cadre, kind="案件跟进", village=self.village, case_ref=ref, text="上门了解情况, 协调村委会"))
            days = 120 if (year == self.short_year and k == 0) else rng.randint(10, 60)  # one case left open too long in the third year
            close_case(store, ref, closed=opened + dt.timedelta(days=days), resolution="已调解 / resolved")


def _campaign_rule(plan: Any, vocab: Any) -> Any:
    """The plan's visit campaign; a plan without one still plays, with a first round two months into its period."""
    from fupin.errors import NotFound
    from fupin.visits import CampaignRule

    try:
        return CampaignRule.of(plan, vocab)
    except NotFound:
        return CampaignRule(None, min(plan.period_start + dt.timedelta(days=60), plan.period_end))


def play(store: Any, plan: Any, *, seed: int = 2015, progress: Callable[[int, int], object] | None = None) -> PlayResult:
    """Record the plan's years of work on the demo village in ``store`` (deterministic for ``seed``),
    then let every plugin record its stream's (``fupin_simulate``).

    ``progress`` is called as ``progress(done, total)`` in steps: each
    household's year (every :data:`PROGRESS_EVERY` households), each year's
    end, and the plugins' streams last.
    """
    with store.transaction():
        player = _Player(store, plan, seed, progress)
        result = player.play()
        store.hooks.simulate(store, plan, seed)
        player.step(1)
        return result
