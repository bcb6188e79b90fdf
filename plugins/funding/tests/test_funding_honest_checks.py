"""Issue #16, the funding part: checks that misleading records cannot fool, for many plans in one database.

Each defect of the issue is recorded as a careless or dishonest clerk would
record it, and the commitment must stay not met (or no data); then the honest
records meet it. A second plan, made by editing the reference plan's text
(another unit, another village), shares the database and sees none of the
first plan's projects, funds and payments. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fupin import Area, Household, Person, PlanError, Tag, Unit, ValidationError, check_plan, load_plan
from fupin.ext import User, make_id_number
from fupin.checks import CheckContext, plan_problems
from fupin_funding import ledger
from fupin_funding.ledger import Entry, Fund, Project
from fupin_funding.tables import ENTRIES
from funding_world import APPROVER

PLAN = "qjnu-tuomu"
VILLAGE = "530326106200"
OTHER_VILLAGE = "530326106201"  # 发基村 in the second plan
AFTER = dt.date(2020, 6, 1)  # every deadline of the plan has passed


def status(store: Any, plan: Any, year: int, commitment: str) -> Any:
    return next(r for r in check_plan(store, plan, year, as_of=AFTER) if r.commitment == commitment)


def add_ynu(store: Any) -> None:
    """Another university with a plan office user who approves its entries."""
    store.add_unit(Unit.new(code="YNU", name="云南大学", kind="university", vocab=store.vocab))
    store.add_user(User("YNU", "office", ("plan_office",), login=store.session_login()))


def budget_fund(store: Any, code: str, year: int, fen: int, *, plan: str | None = PLAN, owner: str = "QJNU", day: str | None = None) -> None:
    """A budget fund of ``year`` with ``fen`` appropriated on ``day`` (default 5 January of the year)."""
    ledger.add_fund(store, Fund(code, f"{year} 年专项经费", "budget", year=year, plan_name=plan, owner_unit=owner))
    ledger.post(store, Entry(voucher=f"YS-{code}", entry_date=day or f"{year}-01-05", flow="appropriation", fund_code=code,
                             amount_fen=fen, approved_by=APPROVER if owner == "QJNU" else f"{owner}:office"))


def raw_entry(store: Any, **row: Any) -> None:
    """An entry written the way older releases (or a direct database edit) left it, past the ledger's rules."""
    with store.engine.begin() as conn:
        conn.execute(store.table(ENTRIES).insert().values(entered_by="QJNU:clerk", approved_by=APPROVER, description="", **row))


# -- C02: the year's budget --------------------------------------------------------------------


def test_c02_not_met_by_a_late_top_up_or_another_universitys_fund(village: Any) -> None:
    """350,000 yuan in 2016; a top-up dated 2019-12-30 into the 2016 fund is refused (and not counted if it
    is there anyway); another university's 2016 fund, of no plan or naming this plan, does not count."""
    store, plan = village.store, village.plan
    add_ynu(store)
    budget_fund(store, "QJNU-B2016", 2016, 35_000_000)
    with pytest.raises(ValidationError, match="dated in 2016"):
        ledger.post(store, Entry(voucher="YS-LATE", entry_date="2019-12-30", flow="appropriation", fund_code="QJNU-B2016",
                                 amount_fen=5_000_000, approved_by=APPROVER))
    raw_entry(store, voucher="YS-LATE", entry_date=dt.date(2019, 12, 30), flow="appropriation", fund_code="QJNU-B2016", amount_fen=5_000_000)
    budget_fund(store, "YNU-B2016", 2016, 40_000_000, plan=None, owner="YNU")
    budget_fund(store, "YNU-B2016-X", 2016, 40_000_000, owner="YNU")  # names this plan, but YNU's money
    c02 = status(store, plan, 2016, "C02")
    assert c02.status.value == "not_met" and c02.figures["budget_fen"] == 35_000_000
    assert c02.evidence == ("funding_entry:YS-QJNU-B2016",) and "dated outside 2016" in c02.note_en

    # Honest: YNU shares 50,000 yuan of its 2016 fund with the plan: counted up to that amount.
    ledger.share(store, PLAN, 5_000_000, fund="YNU-B2016")
    c02 = status(store, plan, 2016, "C02")
    assert c02.status.value == "met" and c02.figures["budget_fen"] == 40_000_000
    assert set(c02.evidence) == {"funding_entry:YS-QJNU-B2016", "funding_entry:YS-YNU-B2016"}


def test_c02_of_no_data_when_only_other_plans_have_budgets(village: Any) -> None:
    """A fund of the plan's own unit with no plan counts for no plan: C02 has no data, never met."""
    store, plan = village.store, village.plan
    budget_fund(store, "QJNU-B2017", 2017, 40_000_000, plan=None)
    assert status(store, plan, 2017, "C02").status.value == "no_data"


def test_only_the_owner_shares_a_fund_and_it_is_audited(village: Any, cli: Any, database_url: str) -> None:
    """``fupin funding share``: another university's plan office may not share QJNU's fund (exit 3); the owner may."""
    store = village.store
    add_ynu(store)
    budget_fund(store, "QJNU-B2017", 2017, 40_000_000)
    args = ("funding", "share", "--plan", PLAN, "--fund", "QJNU-B2017", "--amount", "50000")
    assert cli("--db", database_url, "--as", "YNU:office", *args).exit_code == 3
    result = cli("--db", database_url, "--as", APPROVER, *args)
    assert result.exit_code == 0, result.output
    [entry] = store.audit_entries(table="funding_shares")
    assert (entry.record_key, entry.new["amount_fen"], entry.new["shared_by"]) == (f"QJNU-B2017/{PLAN}", 5_000_000, APPROVER)


# -- C05, C18: projects ------------------------------------------------------------------------


def _project(store: Any, code: str, area: str, budget: int, *, village_code: str | None = VILLAGE, plan: str | None = PLAN,
             owner: str | None = "QJNU", key: bool = False, spend: int | None = None, fund: str = "QJNU-B2017") -> None:
    ledger.add_project(store, Project(code, f"项目 {code}", area, "in_progress", dt.date(2017, 3, 1), budget, key, village=village_code,
                                      plan_name=plan, owner_unit=owner))
    if spend:
        ledger.post(store, Entry(voucher=f"ZC-{code}", entry_date="2017-06-01", flow="spending", fund_code=fund, amount_fen=spend,
                                 purpose="infrastructure", project_code=code, approved_by=APPROVER if fund.startswith("QJNU") else "YNU:office"))


def test_c05_c18_not_met_by_cent_projects_elsewhere_or_of_no_plan(village: Any) -> None:
    """0.01-yuan key projects, projects in another village, of no plan, of another university naming the plan,
    or with nothing spent: none counts. Then honest projects meet C05 and C18."""
    store, plan = village.store, village.plan
    add_ynu(store)
    budget_fund(store, "QJNU-B2017", 2017, 40_000_000)
    budget_fund(store, "YNU-B2017", 2017, 40_000_000, plan=None, owner="YNU")
    _project(store, "P-CENT", "water", 1, key=True, spend=1)                                    # 0.01 yuan
    _project(store, "P-AWAY", "roads", 9_000_000, village_code=OTHER_VILLAGE, key=True, spend=100_000)  # another village
    _project(store, "P-NOPLAN", "culture", 3_000_000, plan=None, spend=100_000)                  # no plan
    _project(store, "P-YNU", "water", 9_000_000, owner="YNU", key=True, spend=100_000, fund="YNU-B2017")  # YNU's, naming the plan
    _project(store, "P-DRY", "culture", 3_000_000)                                                # nothing spent
    with pytest.raises(ValidationError, match="owning unit"):
        ledger.add_project(store, Project("P-NOBODY", "无主项目", "water", "planned", dt.date(2017, 3, 1), 9_000_000, village=VILLAGE))
    c05, c18 = status(store, plan, 2017, "C05"), status(store, plan, 2017, "C18")
    assert c05.status.value == "not_met" and c05.figures["key_projects"] == [] and c05.evidence == ()
    assert c18.status.value == "not_met" and c18.evidence == ()
    assert "outside the plan's villages" in c18.note_en and "below" in c05.note_en and "no spending" in c18.note_en

    _project(store, "P-WATER", "water", 12_000_000, key=True, spend=3_000_000)
    _project(store, "P-ROAD", "roads", 9_000_000, spend=2_000_000)
    ledger.share(store, PLAN, 2_000_000, project="P-YNU")  # YNU shares 20,000 yuan of its water project: below C05's minimum
    _project(store, "P-CULT", "culture", 3_000_000, spend=500_000)
    c05, c18 = status(store, plan, 2017, "C05"), status(store, plan, 2017, "C18")
    assert c05.status.value == "met" and c05.figures["key_projects"] == ["P-WATER"]
    assert c18.status.value == "met" and set(c18.figures["projects"]) == {"P-WATER", "P-ROAD", "P-CULT", "P-YNU"}
    assert c18.figures["projects"]["P-YNU"]["budget_fen"] == 2_000_000  # the amount shared, not YNU's budget


def test_c19_counts_only_the_plans_industry_project_with_spending(village: Any) -> None:
    store, plan = village.store, village.plan
    budget_fund(store, "QJNU-B2017", 2017, 40_000_000)

    def blueberry(code: str, budget: int, **kw: Any) -> None:
        ledger.add_project(store, Project(code, "蓝莓", "industry", "in_progress", dt.date(2017, 3, 1), budget, crop="blueberry",
                                          area_mu=200, households=60, contiguous=True, owner_unit="QJNU", **kw))

    blueberry("P-BB-AWAY", 15_000_000, village=OTHER_VILLAGE, plan_name=PLAN)
    blueberry("P-BB-CENT", 1, village=VILLAGE, plan_name=PLAN)
    for code in ("P-BB-AWAY", "P-BB-CENT"):
        ledger.post(store, Entry(voucher=f"ZC-{code}", entry_date="2017-06-01", flow="spending", fund_code="QJNU-B2017", amount_fen=1,
                                 purpose="industry", project_code=code, approved_by=APPROVER))
    assert status(store, plan, 2017, "C19").status.value == "not_met"
    blueberry("P-BB", 15_000_000, village=VILLAGE, plan_name=PLAN)
    ledger.post(store, Entry(voucher="ZC-P-BB", entry_date="2017-06-01", flow="spending", fund_code="QJNU-B2017", amount_fen=3_000_000,
                             purpose="industry", project_code="P-BB", approved_by=APPROVER))
    c19 = status(store, plan, 2017, "C19")
    assert c19.status.value == "met" and c19.evidence == ("funding_project:P-BB",) and c19.figures["households"] == 60


# -- C29 to C31: recurring aid -----------------------------------------------------------------


def _aid(store: Any, voucher: str, day: str, fen: int, person: str, *, year: int = 2018, fund: str = "QJNU-B2018",
         programme: str = "study_aid", approver: str = APPROVER) -> None:
    ledger.post(store, Entry(voucher=voucher, entry_date=day, flow="aid", fund_code=fund, amount_fen=fen, approved_by=approver,
                             programme=programme, aid_year=year, person=person))


def test_c29_not_met_by_a_cent_years_early_or_another_plans_money(village: Any) -> None:
    """0.01 yuan dated 2015-01-02 for aid year 2018, 0.01 yuan in time, and full payments out of another
    university's fund: none counts. Then 500 yuan each by 31 August 2018 out of the plan's fund: met."""
    store, plan = village.store, village.plan
    add_ynu(store)
    budget_fund(store, "QJNU-B2015", 2015, 40_000_000, day="2015-01-01")
    budget_fund(store, "QJNU-B2018", 2018, 40_000_000)
    budget_fund(store, "YNU-B2018", 2018, 40_000_000, plan=None, owner="YNU")
    _aid(store, "ZXJ-EARLY", "2015-01-02", 1, village.student_a, fund="QJNU-B2015")
    _aid(store, "ZXJ-CENT", "2018-08-20", 1, village.student_b)
    c29 = status(store, plan, 2018, "C29")
    assert c29.status.value == "not_met" and c29.figures["paid_on_time"] == 0 and c29.evidence == ()
    assert (c29.figures["paid_early"], c29.figures["paid_short"]) == (1, 1)
    assert c29.figures["earliest"] == "2018-05-01"
    for n, person in enumerate((village.student_a, village.student_b)):
        _aid(store, f"ZXJ-YNU-{n}", "2018-08-20", 50_000, person, fund="YNU-B2018", approver="YNU:office")
    assert status(store, plan, 2018, "C29").figures["paid_on_time"] == 0

    _aid(store, "ZXJ-A", "2018-08-20", 50_000, village.student_a)
    _aid(store, "ZXJ-B2", "2018-08-21", 30_000, village.student_b)  # with the cent: 300.01 yuan >= 200
    c29 = status(store, plan, 2018, "C29")
    assert c29.status.value == "met" and c29.figures["paid_on_time"] == 2
    assert set(c29.evidence) == {"funding_entry:ZXJ-A", "funding_entry:ZXJ-B2", "funding_entry:ZXJ-CENT"}


def test_c30_c31_not_met_by_a_payment_before_the_window(village: Any) -> None:
    """Spring Festival support paid in October for the next festival (before the 45-day window), and a reward
    below the minimum, do not count; paid in the weeks before the festival they do."""
    store, plan = village.store, village.plan
    family = "53032610620001" + "0005"
    ledger.add_foster_home(store, village.elder, family, dt.date(2015, 12, 1))
    ledger.add_fund(store, Fund("QJNU-FDN", "基金会", "foundation", plan_name=PLAN, owner_unit="QJNU"))
    ledger.post(store, Entry(voucher="SJ-1", entry_date="2016-09-01", flow="donation", fund_code="QJNU-FDN", amount_fen=1_000_000,
                             donor="校友会", approved_by=APPROVER))
    _aid(store, "CJ-OCT", "2016-10-08", 30_000, village.elder, year=2017, fund="QJNU-FDN", programme="festival_support")
    ledger.post(store, Entry(voucher="AX-LOW", entry_date="2017-01-20", flow="aid", fund_code="QJNU-FDN", amount_fen=100, approved_by=APPROVER,
                             programme="foster_reward", aid_year=2017, household=family))
    c30, c31 = status(store, plan, 2017, "C30"), status(store, plan, 2017, "C31")
    assert c30.status.value == "not_met" and c30.figures["paid_early"] == 1 and c30.figures["earliest"] == "2016-12-14"
    assert c31.status.value == "not_met" and c31.figures["paid_short"] == 1
    _aid(store, "CJ-JAN", "2017-01-20", 30_000, village.elder, year=2018, fund="QJNU-FDN", programme="festival_support")
    assert status(store, plan, 2017, "C30").status.value == "not_met"  # labelled for 2018: not this year's
    _aid(store, "CJ-2017", "2017-01-21", 30_000, village.elder, year=2017, fund="QJNU-FDN", programme="festival_support")
    assert status(store, plan, 2017, "C30").status.value == "met"


# -- two plans, one database -------------------------------------------------------------------


def second_plan(tmp_path: Path) -> Any:
    """The reference plan's text with another name, helping unit and village (发基村), study aid due 30 September."""
    text = reference_text()
    text = text.replace('name = "qjnu-tuomu"', 'name = "ynu-faji"').replace('code = "QJNU"', 'code = "YNU"')
    text = text.replace(f'code = "{VILLAGE}"', f'code = "{OTHER_VILLAGE}"').replace('name_zh = "拖木村"', 'name_zh = "发基村"')
    text = text.replace('due = "08-31"', 'due = "09-30"')
    path = tmp_path / "ynu-faji.toml"
    path.write_text(text, encoding="utf-8")
    return load_plan(path)


def add_other_village(store: Any) -> tuple[str, str]:
    """发基村 with one poor household and its pupil; returns (household number, the pupil's ID number)."""
    group = f"{OTHER_VILLAGE}01"
    with store.transaction():
        store.add_areas([Area(OTHER_VILLAGE, "发基村", "village", "530326106"), Area(group, "发基", "group", OTHER_VILLAGE)])
    number = f"{group}0001"
    store.add_household(Household.new(vocab=store.vocab, number=number, group_code=group, head_name="户主", attribute="一般贫困户",
                                      main_cause="缺技术"), since=dt.date(2014, 10, 1))
    pupil = make_id_number("530326", dt.date(2008, 5, 1), 77, "男")
    store.add_person(Person.new(vocab=store.vocab, id_number=pupil, household=number, name="学生", relation="之子", student_status="小学"))
    store.add_tag(Tag(pupil, "在校生", dt.date(2014, 10, 1)))
    return number, pupil


def test_two_plans_in_one_database_see_only_their_own_records(village: Any, tmp_path: Path) -> None:
    """Plan A (QJNU, 拖木村) records its budget, projects and study aid; plan B (YNU, 发基村) sees none of them,
    then records its own, and each plan's check counts only its own."""
    store, plan_a = village.store, village.plan
    add_ynu(store)
    plan_b = second_plan(tmp_path)
    assert plan_problems(plan_b, store.hooks.targets()) == []
    store.save_plan(plan_b)
    _, pupil_b = add_other_village(store)

    budget_fund(store, "QJNU-B2017", 2017, 40_000_000)
    for code, area in (("A-WATER", "water"), ("A-ROAD", "roads"), ("A-CULT", "culture")):
        _project(store, code, area, 9_000_000, key=code == "A-WATER", spend=1_000_000)
    for n, person in enumerate((village.student_a, village.student_b)):
        _aid(store, f"ZXJ-A{n}", "2017-08-20", 50_000, person, year=2017, fund="QJNU-B2017")
    ids = ("C02", "C05", "C18", "C29")
    a = {c: status(store, plan_a, 2017, c).status.value for c in ids}
    b = {r.commitment: r for r in check_plan(store, plan_b, 2017, as_of=AFTER) if r.commitment in ids}
    assert a == dict.fromkeys(ids, "met")
    assert {c: r.status.value for c, r in b.items()} == {"C02": "no_data", "C05": "no_data", "C18": "no_data", "C29": "no_data"}
    assert all(not r.evidence for r in b.values())
    assert b["C29"].figures["eligible"] == 1 and b["C29"].figures["due"] == "2017-09-30"

    budget_fund(store, "YNU-B2017", 2017, 40_000_000, plan="ynu-faji", owner="YNU")
    ledger.add_project(store, Project("B-WATER", "发基村饮水", "water", "in_progress", dt.date(2017, 3, 1), 9_000_000, True,
                                      village=OTHER_VILLAGE, plan_name="ynu-faji", owner_unit="YNU"))
    ledger.post(store, Entry(voucher="ZC-B-WATER", entry_date="2017-06-01", flow="spending", fund_code="YNU-B2017", amount_fen=1_000_000,
                             purpose="infrastructure", project_code="B-WATER", approved_by="YNU:office"))
    _aid(store, "ZXJ-B", "2017-09-20", 50_000, pupil_b, year=2017, fund="YNU-B2017", approver="YNU:office")
    b = {r.commitment: r for r in check_plan(store, plan_b, 2017, as_of=AFTER) if r.commitment in ids}
    assert {c: r.status.value for c, r in b.items()} == {"C02": "met", "C05": "met", "C18": "not_met", "C29": "met"}
    assert b["C05"].evidence == ("funding_project:B-WATER",) and b["C02"].figures["budget_fen"] == 40_000_000
    assert b["C29"].evidence == ("funding_entry:ZXJ-B",)
    assert {c: status(store, plan_a, 2017, c).status.value for c in ids} == a
    assert status(store, plan_a, 2017, "C05").evidence == ("funding_project:A-WATER",)


# -- parameters --------------------------------------------------------------------------------


def test_funding_parameters_are_typed_and_every_one_the_plan_sets_is_read(village: Any) -> None:
    """A typo or a number written in words is refused naming the commitment and key; every parameter the
    reference plan sets on a funding commitment is read by its check."""
    store, plan = village.store, village.plan
    targets = store.hooks.targets()
    funding = [s for s in targets.values() if s.plugin == "funding"]
    assert all(p.type != "any" and p.zh and p.en for s in funding for p in s.params)
    text = reference_text()
    for bad, found in (('min_amount_fen = 20000, window_days', 'min_amout_fen = 20000, window_days'),
                       ("min_amount_fen = 20000,", 'min_amount_fen = "一百",')):
        problems = refused(text.replace(bad, found, 1), targets)
        # C29 is the 29th commitment: the loader names it by its place, the parameter check by its id.
        assert any(re.search(r"(C29\.params|commitments\[28\]\.params)\.min_am", p) for p in problems), problems
    used: set[tuple[str, str]] = set()
    with store.reading() as conn:
        for c in plan.commitments:
            spec = targets.get(c.target)
            if spec is None or spec.plugin != "funding":
                continue
            ctx = CheckContext(store, plan, c, 2017, AFTER, conn, {}, spec)
            spec.evaluate(ctx)
            used |= ctx.cache["params_used"]
    set_ = {(c.id, k) for c in plan.commitments if c.target.startswith("funding.") for k in c.params}
    assert set_ <= used, set_ - used


def reference_text() -> str:
    """The reference plan file's text."""
    from fupin.plans import _plans_dir

    return (_plans_dir() / f"{PLAN}.toml").read_text(encoding="utf-8")


def refused(text: str, targets: Any) -> list[str]:
    """Why a plan file of ``text`` is refused: at loading, or against the targets' declared parameters."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.toml"
        path.write_text(text, encoding="utf-8")
        try:
            return plan_problems(load_plan(path), targets)
        except PlanError as exc:
            return [str(exc)]


# -- the migration -----------------------------------------------------------------------------


def test_upgrade_gives_projects_an_owner_and_records_of_no_plan_their_plan(database_url: str, pm: Any) -> None:
    """funding_0003 on a database of funding_0002: the one plan's unit owns the old projects, records of no
    plan get that plan (audited); a fund of a unit running no plan keeps none."""
    from fupin import Actor, Store
    from fupin.storage import migrate

    with Store.open(database_url, pm=pm, actor=Actor.parse("QJNU:admin")) as store:
        for revision in ("core@head", "funding_0002"):
            migrate.upgrade(store.engine, store.hooks.migrations(), revision)
        with store.engine.begin() as conn:
            conn.execute(sa.text("""INSERT INTO users (unit, "user", roles) VALUES ('QJNU', 'admin', '["platform_admin"]')"""))
        store.add_unit(Unit.new(code="QJNU", name="曲靖师范学院", kind="university", vocab=store.vocab))
        store.add_unit(Unit.new(code="YNU", name="云南大学", kind="university", vocab=store.vocab))
        store.save_plan(load_plan(PLAN))
        with store.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO funding_funds (code, name, kind, plan_name, owner_unit) VALUES "
                                 "('FDN', '基金会', 'foundation', NULL, 'QJNU'), ('YFDN', '基金会', 'foundation', NULL, 'YNU')"))
            conn.execute(sa.text("INSERT INTO funding_projects (code, name, area, key_project, budget_fen, status, start_date, plan_name) VALUES "
                                 "('P1', '水', 'water', false, 100, 'planned', '2016-03-01', NULL), "
                                 "('P2', '路', 'roads', false, 100, 'planned', '2016-03-01', 'qjnu-tuomu')"))
        store.init()
        with store.reading() as conn:
            funds = dict(conn.execute(sa.text("SELECT code, plan_name FROM funding_funds")).all())
            projects = {r[0]: (r[1], r[2]) for r in conn.execute(sa.text("SELECT code, plan_name, owner_unit FROM funding_projects"))}
        audited = {e.record_key for e in store.audit_entries(table="funding_projects")} | {e.record_key for e in store.audit_entries(table="funding_funds")}
    assert funds == {"FDN": PLAN, "YFDN": None}
    assert projects == {"P1": (PLAN, "QJNU"), "P2": (PLAN, "QJNU")}
    assert audited >= {"FDN", "P1", "P2"} and "YFDN" not in audited


def test_project_import_needs_its_unit(village: Any, cli: Any, database_url: str, tmp_path: Path) -> None:
    """A project file without 单位 is refused; with it, the project is the unit's and counts for the plan it names."""
    f = tmp_path / "p.csv"
    f.write_text("项目编号,项目名称,类别,状态,开始日期,预算,村,方案\nP-X,饮水,water,planned,2017-03-01,90000,530326106200,qjnu-tuomu\n", encoding="utf-8")
    result = cli("--db", database_url, "import", "funding.projects", str(f))
    assert result.exit_code != 0 and re.search("单位|owner_unit", result.output)
    f.write_text("项目编号,项目名称,类别,状态,开始日期,预算,村,方案,单位\nP-X,饮水,water,planned,2017-03-01,90000,530326106200,qjnu-tuomu,NOBODY\n",
                 encoding="utf-8")
    assert cli("--db", database_url, "import", "funding.projects", str(f)).exit_code != 0
    f.write_text("项目编号,项目名称,类别,状态,开始日期,预算,村,方案,单位\nP-X,饮水,water,planned,2017-03-01,90000,530326106200,qjnu-tuomu,QJNU\n",
                 encoding="utf-8")
    result = cli("--db", database_url, "import", "funding.projects", str(f))
    assert result.exit_code == 0, result.output
    # Another university's plan office cannot take the project over by importing it under its own unit.
    add_ynu(village.store)
    village.store.save_plan(second_plan(tmp_path))  # YNU runs a plan: its plan office reaches YNU
    f.write_text(f.read_text(encoding="utf-8").replace(",QJNU\n", ",YNU\n"), encoding="utf-8")
    result = cli("--db", database_url, "--as", "YNU:office", "import", "funding.projects", str(f))
    assert result.exit_code != 0 and "QJNU" in result.output, result.output
    with village.store.reading() as conn:
        assert conn.execute(sa.text("SELECT owner_unit FROM funding_projects WHERE code = 'P-X'")).scalar() == "QJNU"
