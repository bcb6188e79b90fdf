"""Plausible counselling and social work for ``fupin demo`` (the ``fupin_simulate`` hook).

Every year of the plan the university's counsellors see the persons of the
groups C32 names (left-behind children, empty-nest elderly ...) in the plan's
villages one by one (at school or at home, each child's session with the
guardian's consent, 30 to 60 minutes); some elderly also get a short phone
follow-up, which C32 does not count. A few sessions find a higher risk and
refer the person on. From 2016 social workers open cases for a few poor
households, with goals and the dated steps taken; an open case gets a
follow-up step each later year.

Session notes are written only when ``FUPIN_PSYCHOLOGY_KEY`` is set, encrypted
with that key. The demo never invents a key of its own: a key in the code
would open every demo note for anyone, and a throwaway key would leave notes
nobody can read.

Honest shortfalls:

- 2015: no social-work case yet (the first opens in March 2016): C33 not met;
- 2018: a counsellor left in the spring, and only about 60 % of the empty-nest
  elderly were visited: C32 not met.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import sqlalchemy as sa

from fupin_psychology import crypto
from fupin_psychology.model import ADULT_AGE, Case, Session, age_on
from fupin.ext import plan_villages_condition

from fupin_psychology.records import add_case, record_session

_COUNSELLORS = ("李心怡", "赵静", "周明远", "杨慧")
_WORKERS = ("社工 陈晓", "社工 马丽")
_CHILD_TOPICS = ("亲子沟通", "学习压力", "同伴关系", "情绪管理", "安全教育", "思念父母")
_ELDER_TOPICS = ("孤独感", "慢性病与情绪", "子女联系", "睡眠", "生活照料", "邻里互助")
_NOTES = ("情绪基本稳定, 愿意交流。", "谈到想念外出务工的父母, 哭了一会儿, 约定下月再来。", "睡眠不好, 建议到卫生院复查血压。",
          "与同学关系紧张, 已与班主任沟通。", "独居, 白天到邻居家串门, 情绪尚可。")
_GOALS = ("稳定家庭收入", "子女完成义务教育", "改善家庭关系", "建立邻里互助", "掌握一门实用技术", "按时就医服药")
_STEPS = ("入户评估", "制定服务计划", "链接技能培训资源", "协助申请临时救助", "家庭会议", "回访评估")


def _people(store: Any, plan: Any, groups: list[str]) -> tuple[list[Any], dict[int, list[Any]]]:
    tg, p, h = store.table("person_tags"), store.table("persons"), store.table("households")
    with store.reading("registry.read") as conn:
        tagged = conn.execute(
            sa.select(tg.c.tag, tg.c.start, tg.c.end, p.c.id_number, p.c.birth_date, p.c.household_id)
            .join(p, p.c.id == tg.c.person_id).join(h, h.c.id == p.c.household_id)
            .where(tg.c.tag.in_(groups), plan_villages_condition(plan)).order_by(tg.c.tag, p.c.id_number)
        ).all()
        ids = sorted({r.household_id for r in tagged})
        members: dict[int, list[Any]] = {}
        for r in conn.execute(sa.select(p.c.household_id, p.c.name, p.c.birth_date).where(p.c.household_id.in_(ids))):
            members.setdefault(r.household_id, []).append(r)
    return tagged, members


def _guardian(members: list[Any], child_birth: dt.date, day: dt.date) -> str | None:
    adults = [m for m in members if m.birth_date and age_on(m.birth_date, day) >= ADULT_AGE and m.birth_date != child_birth]
    return min(adults, key=lambda m: m.birth_date).name if adults else None


def simulate(store: Any, plan: Any, seed: int) -> None:
    """Record the stream's years for ``plan`` (deterministic for ``seed``)."""
    if not any(c.target.startswith("psychology.") for c in plan.commitments):
        return
    rng = random.Random(seed * 173 + 32)
    unit = plan.helping_unit.code
    c32 = next((c for c in plan.commitments if c.target == "psychology.counselling_coverage"), None)
    groups = [store.vocab.check("person_tag", g) for g in (c32.params.get("groups", ()) if c32 else ())] or ["留守儿童", "空巢老人"]
    tagged, members = _people(store, plan, groups)
    with_notes = crypto.has_key()
    n = 0
    for year in plan.years():
        start, end = max(dt.date(year, 1, 1), plan.period_start), min(dt.date(year, 12, 31), plan.period_end)
        for r in tagged:
            if r.start > end or (r.end is not None and r.end < start):
                continue
            child = r.birth_date is not None and age_on(r.birth_date, start) < ADULT_AGE
            reach = 0.92 if child else (0.6 if year == plan.years()[min(3, len(plan.years()) - 1)] else 0.9)  # the fourth year (2018)
            if rng.random() >= reach:
                continue
            for _ in range(rng.choice((1, 1, 2)) if child else 1):
                day = start + dt.timedelta(days=rng.randint(0, (end - start).days))
                if r.start > day:
                    day = r.start
                risk = rng.choices(("低", "中", "高"), weights=(80, 17, 3))[0]
                consent_by = consent_date = None
                if child and age_on(r.birth_date, day) < ADULT_AGE:
                    consent_by = _guardian(members.get(r.household_id, []), r.birth_date, day)
                    if consent_by is None:
                        continue  # no guardian to ask: no session
                    consent_date = max(start, day - dt.timedelta(days=rng.randint(0, 10)))
                n += 1
                record_session(store, Session(
                    ref=f"{unit}-PSY-{year}-{n:04d}", date=day, counsellor=rng.choice(_COUNSELLORS),
                    mode=rng.choice(("个别疏导", "入户走访")),
                    persons=(r.id_number,), unit_code=unit, duration_min=rng.choice((30, 40, 45, 60)),
                    topics=tuple(rng.sample(_CHILD_TOPICS if child else _ELDER_TOPICS, 2)), risk_level=risk,
                    follow_up=day + dt.timedelta(days=30) if risk != "低" else None,
                    referral=("学校" if child else "医院") if risk == "高" else None,
                    consent_by=consent_by, consent_date=consent_date, plan_name=plan.name,
                    note=rng.choice(_NOTES) if with_notes else None,
                ))
                if not child and rng.random() < 0.3 and day < end:
                    # A short phone follow-up: recorded, but not counselling that counts for C32.
                    n += 1
                    record_session(store, Session(
                        ref=f"PSY-{year}-{n:04d}", date=min(end, day + dt.timedelta(days=14)), counsellor=rng.choice(_COUNSELLORS),
                        mode="电话", persons=(r.id_number,), unit_code=unit, duration_min=10,
                        topics=tuple(rng.sample(_ELDER_TOPICS, 1)), risk_level="低", plan_name=plan.name,
                    ))
    _cases(store, plan, rng, unit)


def _cases(store: Any, plan: Any, rng: random.Random, unit: str) -> None:
    """From March 2016, three or four new social-work cases a year for poor households; most close within a year."""
    h = store.table("households")
    with store.reading("registry.read") as conn:
        households = conn.execute(
            sa.select(h.c.number).where(plan_villages_condition(plan), h.c.status.in_(["未脱贫", "返贫"])).order_by(h.c.number)
        ).scalars().all()
    if not households:
        return
    n = 0
    for year in plan.years()[1:]:
        for household in rng.sample(households, min(len(households), rng.randint(3, 4))):
            n += 1
            opened = dt.date(year, rng.randint(3, 9), rng.randint(1, 28))
            days = sorted([rng.randint(1, 30), *rng.sample(range(31, 200), 2)])  # the first step within a month
            steps = tuple(f"{opened + dt.timedelta(days=d)} {s}" for d, s in zip(days, rng.sample(_STEPS, 3), strict=True))
            closed = opened + dt.timedelta(days=rng.randint(240, 420)) if rng.random() < 0.7 else None
            if closed is not None and closed > plan.period_end:
                closed = None
            last = closed or plan.period_end
            # An open case is worked on every year: a follow-up step each later spring it is still open.
            later = tuple(f"{dt.date(y, 4, 10)} 回访评估" for y in range(year + 1, last.year + 1) if dt.date(y, 4, 10) <= last)
            steps = tuple(x for x in steps if dt.date.fromisoformat(x[:10]) <= last) + later
            add_case(store, Case(
                ref=f"{unit}-SW-{year}-{n:03d}", household=household, worker=rng.choice(_WORKERS), opened=opened,
                status="已结案" if closed else "进行中", goals=tuple(rng.sample(_GOALS, 2)), unit_code=unit,
                closed=closed, steps=steps, plan_name=plan.name,
            ))
