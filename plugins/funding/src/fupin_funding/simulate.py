"""Plausible money for ``fupin demo`` (the ``fupin_simulate`` hook).

Every year: the university's dedicated budget appropriated in January (the
plan's first year in October), donations to the foundation (some restricted
to study aid), spending on the projects, study aid by the end of August,
Spring Festival support to every 孤寡老人 and a reward to each family that
took one in. Eligibility is read from the registry like the checks read it.

Everything is derived from the plan: its years, its first village, the
budget C02 asks for, the crops C19 names, the minimum amounts of C05, C18,
C19 and C29 to C31, their due days. Honest shortfalls (for the reference
plan, 2015 to 2019):

- the second year (2016): the budget is cut to 7/8 of what C02 asks (C02 not met);
- the fourth year (2018): one in-school student of a poor household is missed by the study aid (C29 not met);
- the fifth year (2019): one 孤寡老人 is visited only after the festival (C30 not met);
- the culture project starts only in the third year (C18 not met in the first two).

The funds and projects are the helping unit's and name the plan. Whoever plays the demo is the clerk of every
entry (经办人); a registered user of the plan office approves them (审批人),
one being registered (``UNIT:finance``, plan office) if the demo has none.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from fupin import ValidationError
from fupin.ext import User

from fupin_funding import aid, ledger, scope
from fupin_funding.ledger import Entry, Fund, Project
from fupin_funding.targets import CROPS, MIN_PROJECT_FEN

#: The login of the approver registered when the demo has none.
APPROVER = "finance"


class _Demo:
    def __init__(self, store: Any, plan: Any, seed: int) -> None:
        self.store, self.plan = store, plan
        self.rng = random.Random(seed * 977 + 31)
        self.n = 0
        self.unit = plan.helping_unit.code
        self.pending: list[Entry] = []
        self.approver = ""
        self.appropriated: dict[int, dt.date] = {}  # year -> the day its budget was appropriated

    def voucher(self, day: dt.date, prefix: str = "JZ") -> str:
        self.n += 1
        return f"{prefix}{day.year}-{self.unit}-{self.n:05d}"  # the unit keeps several plans' vouchers apart

    def entry(self, day: dt.date, flow: str, fund: str, fen: int, **fields: Any) -> None:
        self.pending.append(Entry(voucher=fields.pop("voucher", None) or self.voucher(day), entry_date=day, flow=flow, fund_code=fund,
                                  amount_fen=fen, approved_by=self.approver, plan_name=self.plan.name, **fields))

    def flush(self) -> None:
        if self.pending:
            ledger.post_many(self.store, sorted(self.pending, key=lambda e: (e.entry_date, e.voucher)))
        self.pending = []

    def _find_approver(self) -> str:
        """A registered user other than the actor who may approve entries on the helping unit's funds (one is registered if none)."""
        store = self.store
        with store.reading("users.manage") as conn:
            approvers = scope.Approvers(store, conn)
            for user in store.users():
                if approvers.problem(user.key, self.unit, f"{self.unit}-FDN") is None:
                    return user.key
        user = User(self.unit, APPROVER, ("plan_office",))
        if user.key == str(store.actor):
            raise ValidationError.of("approved_by", "演示需要另一位审批人 / the demo needs an approver other than you", user.key)
        store.add_user(user)
        return user.key

    def run(self) -> None:
        plan, rng, u = self.plan, self.rng, self.unit
        years = plan.years()
        self.approver = self._find_approver()
        ledger.add_fund(self.store, Fund(f"{u}-FDN", "扶贫基金会", "foundation", plan_name=plan.name, owner_unit=u))
        ledger.add_fund(self.store, Fund(f"{u}-FDN-ZX", "助学限定捐赠", "restricted", purpose="study_aid", plan_name=plan.name, owner_unit=u))
        for y in years:
            ledger.add_fund(self.store, Fund(f"{u}-B{y}", f"{y} 年定点扶贫专项经费", "budget", year=y, plan_name=plan.name, owner_unit=u))
        village = plan.villages[0]
        first = years[1] if len(years) > 1 else years[0]  # the first whole year of work
        least = max(int(aid.commitment_params(plan, t).get("min_amount_fen", MIN_PROJECT_FEN))
                    for t in ("funding.key_projects", "funding.infrastructure_projects", "funding.industry_projects"))
        crops = list(aid.commitment_params(plan, "funding.industry_projects").get("crops", []))

        def budget(fen: int) -> int:
            return max(fen, least)

        common = {"village": village.code, "plan_name": plan.name, "owner_unit": u}
        projects = [
            Project(f"{u}-P-WATER", f"{village.name_zh}人畜饮水工程", "water", "in_progress", dt.date(first, 3, 1), budget(12_000_000), True, **common),
            Project(f"{u}-P-ROAD", "村组道路硬化", "roads", "planned", dt.date(first, 5, 1), budget(9_000_000), **common),
            Project(f"{u}-P-CULT", "村文化活动室", "culture", "planned", dt.date(first + 1, 4, 1), budget(3_000_000), **common),
        ]
        if crops:
            projects.append(Project(f"{u}-P-{crops[0].upper()}"[:32], f"{CROPS.get(crops[0], crops[0])}连片示范种植", "industry", "in_progress",
                                    dt.date(first, 3, 1), budget(15_000_000), True, crop=crops[0], area_mu=Decimal("200"), households=63,
                                    contiguous=True, **common))
        for p in projects:
            ledger.add_project(self.store, p)
        need = int(aid.commitment_params(plan, "funding.budget_per_year").get("min_amount_fen", 40_000_000))
        for y in years:
            start = max(dt.date(y, 1, 5), plan.period_start + dt.timedelta(days=30))
            amount = need * 7 // 8 if y == first and len(years) > 1 else need + rng.randrange(0, 10) * need // 40
            self.entry(start, "appropriation", f"{u}-B{y}", amount, description=f"{y} 年定点扶贫专项经费预算")
            self.appropriated[y] = start
            for k in range(rng.randint(2, 4)):
                day = start + dt.timedelta(days=rng.randint(5, 300))
                restricted = k == 0
                self.entry(min(day, dt.date(y, 12, 20)), "donation", f"{u}-FDN-ZX" if restricted else f"{u}-FDN",
                           rng.randrange(20, 120) * 100_000, donor=rng.choice(("校友会", "教职工捐款", "曲靖某企业", "爱心人士")),
                           purpose="study_aid" if restricted else None, voucher=self.voucher(day, "SJ"), description="捐赠")
            for p in projects:
                if p.start_date.year <= y and start < dt.date(y, 6, 1):
                    day = max(dt.date(y, 6, 1), p.start_date)
                    self.entry(day, "spending", f"{u}-B{y}", p.budget_fen // 4, project_code=p.code,
                               purpose="industry" if p.area == "industry" else "infrastructure", description=p.name)
        self.flush()
        self._fosters()
        for y in years:
            self._study_aid(y)
            self._festival(y)
        self.flush()

    def _fosters(self) -> None:
        """Two families each take in a 孤寡老人 of the village on 1 December of the plan's first year."""
        with self.store.reading("registry.read") as conn:
            elders = aid.eligible(conn, self.store, self.plan, "festival_support", self.plan.years()[min(1, len(self.plan.years()) - 1)])
            h = self.store.table("households")
            hosts = list(conn.execute(sa.select(h.c.number).where(sa.func.substr(h.c.group_code, 1, 12) == self.plan.villages[0].code)
                                      .order_by(h.c.number).limit(40)).scalars())
        taken = {e["household"] for e in elders}
        hosts = [x for x in hosts if x not in taken]
        for elder, host in zip(elders[:2], hosts[:2], strict=False):
            ledger.add_foster_home(self.store, elder["key"], host, min(dt.date(self.plan.years()[0], 12, 1), self.plan.period_end), note="邻居收留")

    def _pay(self, programme: str, year: int, day_of: Any, skip: int = 0, late: int = 0) -> None:
        plan, u = self.plan, self.unit
        try:
            due = aid.due_day(plan, programme, year)
        except Exception:
            return
        if not plan.period_start <= due <= plan.period_end:
            return
        self.flush()
        with self.store.reading("registry.read") as conn:
            owed = aid.eligible(conn, self.store, plan, programme, year)
        self.rng.shuffle(owed)
        amount = max(int(aid.settings(plan)["amounts_fen"][programme]), aid.rule(plan, programme, year).min_amount_fen)
        owed = owed[skip:]
        restricted_left = 0
        with self.store.reading("actions.read") as conn:
            vouchers = ledger.voucher_numbers(conn, self.store.metadata, aid.voucher_stem(programme, year, u), len(owed))
            if programme == "study_aid":
                # What the restricted fund held by the earliest payment day: later donations cannot pay earlier aid.
                earliest = due - dt.timedelta(days=25)
                restricted_left = ledger.balances(conn, self.store.metadata, [f"{u}-FDN-ZX"], until=earliest)[f"{u}-FDN-ZX"]
        for i, (r, voucher) in enumerate(zip(owed, vouchers, strict=True)):
            day = due + dt.timedelta(days=3) if i < late else day_of(due)
            # Not before the year's budget is there (a plan whose aid falls due just after it starts pays late).
            day = max(day, self.appropriated.get(day.year, day) + dt.timedelta(days=1))
            if programme == "study_aid" and restricted_left >= amount:
                fund, restricted_left = f"{u}-FDN-ZX", restricted_left - amount
            else:
                fund = f"{u}-B{day.year}" if programme == "study_aid" else f"{u}-FDN"
            self.entry(day, "aid", fund, amount, programme=programme, aid_year=year,
                       person=r["key"] if programme != "foster_reward" else None, household=r["household"],
                       voucher=voucher, description=ledger.PROGRAMMES[programme][0])
        self.flush()

    def _study_aid(self, year: int) -> None:
        self._pay("study_aid", year, lambda due: due - dt.timedelta(days=self.rng.randint(2, 25)), skip=1 if self._nth(year) == 3 else 0)

    def _nth(self, year: int) -> int:
        """Which year of the plan ``year`` is (0 for the first)."""
        return self.plan.years().index(year)

    def _festival(self, year: int) -> None:
        before = lambda due: due - dt.timedelta(days=self.rng.randint(0, 9))  # noqa: E731
        self._pay("festival_support", year, before, late=1 if self._nth(year) == 4 else 0)
        self._pay("foster_reward", year, before)


def simulate(store: Any, plan: Any, seed: int) -> None:
    """Record five years of money for the demo (see the module docstring)."""
    _Demo(store, plan, seed).run()
