"""挂包帮 pairing: the Pairing record, adding, ending and transferring pairings, the need rule and automatic pairing.

Core behaviours run on a small hand-built village (tests/campaign_seed.py) on
SQLite and PostgreSQL, so every expectation is exact; the quota figures of the
plan (C08: 厅级 4 key-help + 3 contact, 处级 3 + 4) are checked on the demo
village of 428 poor households and 48 cadres.
"""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from fupin import Actor, Area, Cadre, Household, ValidationError
from fupin.access import AccessDenied, User
from fupin.errors import FupinError, NotFound
from fupin.model import Pairing
from fupin.pairing import auto_pair, end_pairing, need_key, pairings, transfer
from fupin.storage import schema as S
from fupin.store import Store
from tests.campaign_seed import (
    CONTACT,
    KEY,
    add_household,
    build_demo_file,
    cadre_code,
    copy_demo,
    count,
    d,
    group,
    h,
    pair,
    seed_base,
    snapshot,
)

C1, C2 = cadre_code(1), cadre_code(2)  # 厅级 (4 key-help + 3 contact), 处级 (3 + 4)


def problem_fields(exc: ValidationError) -> list[str]:
    return [p.field for p in exc.problems]


# -- the record ---------------------------------------------------------------------------------


class TestPairingRecord:
    @pytest.mark.parametrize(
        ("fields", "missing"),
        [
            ({"level": "帮户", "household": "H1", "kind": KEY}, "cadre"),
            ({"level": "帮户", "cadre": "C1", "kind": KEY}, "household"),
            ({"level": "帮户", "cadre": "C1", "household": "H1"}, "kind"),
            ({"level": "挂点", "cadre": "C1"}, "village"),
            ({"level": "挂点", "village": "530326106200"}, "cadre"),
            ({"level": "包村", "village": "530326106200"}, "unit"),
            ({"level": "包村", "unit": "QJNU"}, "village"),
        ],
    )
    def test_each_level_needs_its_fields(self, fields, missing):
        """帮户 needs cadre, household and kind; 挂点 a cadre and a village; 包村 a unit and a village."""
        with pytest.raises(ValidationError) as caught:
            Pairing.new(start="2015-08-20", **fields)
        assert problem_fields(caught.value) == [missing]

    def test_complete_pairings_of_each_level(self):
        """A complete pairing of each level is accepted and holds from its start while not ended."""
        key = Pairing.new(level="帮户", start="2015-08-20", cadre="C1", household="H1", kind="重点帮扶")
        assert key.holds_on(d("2015-08-20")) and key.holds_on(d("2030-01-01")) and not key.holds_on(d("2015-08-19"))
        assert Pairing.new(level="挂点", start="2015-08-20", cadre="C1", village="530326106200").village == "530326106200"
        assert Pairing.new(level="包村", start="2015-08-20", unit="QJNU", village="530326106200").unit == "QJNU"

    def test_household_pairing_names_no_village(self):
        """A 帮户 pairing is between a cadre and a household, not a village."""
        with pytest.raises(ValidationError) as caught:
            Pairing.new(level="帮户", start="2015-08-20", cadre="C1", household="H1", kind=KEY, village="530326106200")
        assert problem_fields(caught.value) == ["village"]

    def test_kind_and_level_come_from_the_vocabulary(self):
        """Only 重点帮扶 / 联系 are kinds and only 挂点 / 包村 / 帮户 are levels."""
        with pytest.raises(ValidationError) as caught:
            Pairing.new(level="帮户", start="2015-08-20", cadre="C1", household="H1", kind="一般帮扶")
        assert problem_fields(caught.value) == ["kind"]
        with pytest.raises(ValidationError) as caught:
            Pairing.new(level="结对", start="2015-08-20", cadre="C1", household="H1", kind=KEY)
        assert problem_fields(caught.value) == ["level"]

    def test_end_not_before_start(self):
        """A pairing cannot end before it starts; ending on its first day is allowed."""
        with pytest.raises(ValidationError) as caught:
            Pairing.new(level="帮户", start="2015-08-20", end="2015-08-19", cadre="C1", household="H1", kind=KEY)
        assert problem_fields(caught.value) == ["end"]
        one_day = Pairing.new(level="帮户", start="2015-08-20", end="2015-08-20", cadre="C1", household="H1", kind=KEY)
        assert one_day.holds_on(d("2015-08-20")) and not one_day.holds_on(d("2015-08-21"))


# -- add, end, list ---------------------------------------------------------------------------------


@pytest.fixture
def village(store):
    """The plan with cadres C001 (厅级) and C002 (处级) and two households of group 1."""
    plan = seed_base(store)
    add_household(store, 1, 1)
    add_household(store, 1, 2)
    return plan


class TestAddPairing:
    def test_stores_a_pairing_with_the_names_a_reader_needs(self, store, village):
        """The stored pairing is listed with the cadre's name and the household's head and group."""
        pid = pair(store, C1, h(1, 1), KEY)
        (row,) = pairings(store)
        assert (row.id, row.level, row.cadre, row.cadre_name, row.household, row.head_name, row.group_code, row.kind) == (
            pid, "帮户", C1, "干部001", h(1, 1), "户主1-1", group(1), KEY,
        )
        assert (row.start, row.end, row.plan) == (d("2015-08-20"), None, "qjnu-tuomu")

    def test_refuses_an_unknown_cadre(self, store, village):
        """A cadre who is not registered is refused by field, and nothing is stored."""
        before = snapshot(store)
        with pytest.raises(ValidationError) as caught:
            pair(store, "QJNU-C999", h(1, 1))
        assert [(p.field, p.value) for p in caught.value.problems] == [("cadre", "QJNU-C999")]
        assert snapshot(store) == before

    def test_refuses_an_unknown_household(self, store, village):
        """A household that is not registered is refused, and nothing is stored."""
        before = snapshot(store)
        with pytest.raises(FupinError):
            pair(store, C1, h(1, 99))
        assert snapshot(store) == before

    def test_unknown_household_is_reported_as_not_registered(self, store, village):
        """The refusal of an unregistered household says so (field household), not that it is outside the actor's scope."""
        with pytest.raises(ValidationError) as caught:
            pair(store, C1, h(1, 99))
        assert [(p.field, p.value) for p in caught.value.problems] == [("household", h(1, 99))]

    def test_refuses_an_overlapping_pairing_of_the_same_cadre_and_household(self, store, village):
        """A cadre holds one pairing with a household at a time; another cadre, or a later period, is fine."""
        pair(store, C1, h(1, 1), KEY, start="2015-08-20", end="2016-12-31")
        before = snapshot(store)
        for start, end in (("2016-06-01", None), ("2015-01-01", "2015-08-20"), ("2016-12-31", "2017-06-30")):
            with pytest.raises(ValidationError) as caught:
                pair(store, C1, h(1, 1), CONTACT, start=start, end=end)
            assert problem_fields(caught.value) == ["household"], (start, end)
            assert "2015-08-20" in str(caught.value)
        assert snapshot(store) == before
        pair(store, C1, h(1, 1), CONTACT, start="2017-01-01")
        pair(store, C1, h(1, 1), CONTACT, start="2014-01-01", end="2015-08-19")
        pair(store, C2, h(1, 1), CONTACT, start="2016-06-01")
        assert count(store, S.pairings) == 4

    def test_an_open_pairing_blocks_any_later_start(self, store, village):
        """While a pairing is not ended, the same cadre cannot be paired with the household again."""
        pair(store, C1, h(1, 1), KEY, start="2015-08-20")
        with pytest.raises(ValidationError):
            pair(store, C1, h(1, 1), KEY, start="2019-01-01")


class TestEndPairing:
    def test_needs_a_reason(self, store, village):
        """Ending a pairing without a reason is refused and leaves it in force."""
        pid = pair(store, C1, h(1, 1))
        for reason in ("", "   "):
            with pytest.raises(ValidationError) as caught:
                end_pairing(store, pid, d("2016-06-30"), reason)
            assert problem_fields(caught.value) == ["reason"]
        (row,) = pairings(store)
        assert row.end is None

    def test_keeps_the_history(self, store, village):
        """An ended pairing is no longer in force after its last day but stays in the history, with its reason."""
        pid = pair(store, C1, h(1, 1))
        pair(store, C1, h(1, 2), CONTACT)
        end_pairing(store, pid, d("2016-06-30"), "户迁出 / moved away")
        assert [r.household for r in pairings(store, active_on=d("2016-06-30"))] == [h(1, 1), h(1, 2)]
        assert [r.household for r in pairings(store, active_on=d("2016-07-01"))] == [h(1, 2)]
        history = {r.id: r for r in pairings(store)}
        assert (history[pid].end, history[pid].end_reason) == (d("2016-06-30"), "户迁出 / moved away")
        assert [r.household for r in pairings(store, household=h(1, 1))] == [h(1, 1)]
        entry = [e for e in store.audit_entries(table="pairings") if e.operation == "update"][-1]
        assert entry.reason == "户迁出 / moved away"

    def test_refuses_ending_twice_or_before_the_start(self, store, village):
        """A pairing ends once, and not before it started; an unknown id is not found."""
        pid = pair(store, C1, h(1, 1))
        with pytest.raises(ValidationError, match="before the pairing started"):
            end_pairing(store, pid, d("2015-08-19"), "错误 / mistake")
        end_pairing(store, pid, d("2015-12-31"), "调整 / changed")
        with pytest.raises(ValidationError, match="already ended"):
            end_pairing(store, pid, d("2016-12-31"), "调整 / changed")
        with pytest.raises(NotFound):
            end_pairing(store, pid + 100, d("2016-12-31"), "调整 / changed")
        (row,) = pairings(store)
        assert row.end == d("2015-12-31")

    def test_cli_end_and_list(self, store, village, cli, database_url):
        """`pair end` needs --reason; `pair list --on` shows what is in force, `--all` the history."""
        pid = pair(store, C1, h(1, 1))
        pair(store, C2, h(1, 2), CONTACT)
        result = cli("--db", database_url, "pair", "end", str(pid), "--date", "2016-06-30")
        assert result.exit_code == 2 and "--reason" in result.output
        result = cli("--db", database_url, "pair", "end", str(pid), "--date", "2016-06-30", "--reason", "调离 / left")
        assert result.exit_code == 0, result.output
        listed = json.loads(cli("--db", database_url, "pair", "list", "--on", "2016-07-01", "--json").output)
        assert [(r["cadre"], r["household"], r["kind"]) for r in listed] == [(C2, h(1, 2), CONTACT)]
        history = json.loads(cli("--db", database_url, "pair", "list", "--all", "--json").output)
        assert [(r["cadre"], r["end"], r["end_reason"]) for r in history] == [(C1, "2016-06-30", "调离 / left"), (C2, None, "")]


# -- transfer ----------------------------------------------------------------------------------------


class TestTransfer:
    @pytest.fixture
    def held(self, store):
        """C001 (厅级) holds its full quota: 4 key-help and 3 contact households; C002 (处级) holds none."""
        plan = seed_base(store)
        numbers = [add_household(store, 1, i) for i in range(1, 8)]
        for i, number in enumerate(numbers):
            pair(store, C1, number, KEY if i < 4 else CONTACT)
        return plan, numbers

    def test_moves_every_pairing_and_warns_about_the_quota(self, store, held):
        """All of C001's pairings move to C002: the old end the day before, the new start that day, same kinds."""
        plan, numbers = held
        result = transfer(store, C1, C2, on=d("2017-03-01"), reason="调离 / transferred", plan=plan)
        assert len(result.moved) == 7
        old = pairings(store, cadre=C1)
        assert {(r.end, r.end_reason) for r in old} == {(d("2017-02-28"), "调离 / transferred")}
        new = pairings(store, cadre=C2)
        assert {r.start for r in new} == {d("2017-03-01")} and all(r.end is None for r in new)
        assert sorted((r.household, r.kind) for r in new) == sorted((r.household, r.kind) for r in old)
        assert [o for o, _ in result.moved] == sorted(r.id for r in old)
        assert sorted(n for _, n in result.moved) == sorted(r.id for r in new)
        assert {r.cadre for r in pairings(store, active_on=d("2017-03-01"))} == {C2}
        # 处级 may hold 3 key-help and 4 contact: 4 key-help is over the quota, 3 contact is not.
        assert len(result.warnings) == 1
        assert C2 in result.warnings[0] and "重点帮扶 4" in result.warnings[0] and "3" in result.warnings[0]

    def test_no_plan_no_quota_warning(self, store, held):
        """Without a plan there is no quota to warn about."""
        assert transfer(store, C1, C2, on=d("2017-03-01"), reason="调离 / transferred").warnings == ()

    def test_one_transaction(self, store, held):
        """If one pairing cannot move (C002 already helps that household), nothing moves."""
        _, numbers = held
        pair(store, C2, numbers[-1], CONTACT, start="2016-01-01")
        before = snapshot(store)
        with pytest.raises(ValidationError):
            transfer(store, C1, C2, on=d("2017-03-01"), reason="调离 / transferred")
        assert snapshot(store) == before
        assert all(r.end is None for r in pairings(store, cadre=C1))

    def test_refusals(self, store, held):
        """A transfer needs a reason, another registered cadre, and pairings to move."""
        with pytest.raises(ValidationError):
            transfer(store, C1, C1, on=d("2017-03-01"), reason="x")
        with pytest.raises(ValidationError):
            transfer(store, C1, C2, on=d("2017-03-01"), reason=" ")
        with pytest.raises(NotFound):
            transfer(store, C1, "QJNU-C999", on=d("2017-03-01"), reason="x")
        with pytest.raises(NotFound):
            transfer(store, C2, C1, on=d("2017-03-01"), reason="x")

    def test_cli_prints_the_warning(self, store, held, cli, database_url):
        """`pair transfer` reports how many pairings moved and the quota warning."""
        result = cli("--db", database_url, "pair", "transfer", C1, "--to", C2, "--date", "2017-03-01")
        assert result.exit_code == 0, result.output
        assert "7" in result.output and f"{C1} -> {C2}" in result.output
        assert f"! 干部 {C2} 现有重点帮扶 4 户, 超过定额 3" in result.output


# -- the need rule --------------------------------------------------------------------------------------


def _household(number, attribute="一般贫困户", main_cause="缺技术", dilapidated=None, safe_water=None, income=250000):
    return {"number": number, "attribute": attribute, "main_cause": main_cause, "dilapidated": dilapidated,
            "safe_water": safe_water, "net_income_per_capita_fen": income}


class TestNeedKey:
    def test_documented_order(self):
        """Safety net, then hard causes, then housing, then water, then income (unknown = 0), then number."""
        expected = [
            _household("01", attribute="五保户", income=900000),
            _household("02", attribute="特困供养贫困户", income=900000),
            _household("03", attribute="低保户", main_cause="缺劳力"),
            _household("04", attribute="低保贫困户", main_cause="缺资金"),
            _household("05", main_cause="因病", income=900000),
            _household("06", main_cause="因残", income=900000),
            _household("07", main_cause="缺劳力"),
            _household("08", dilapidated=True, income=900000),
            _household("09", safe_water=False, income=900000),
            _household("10", income=None),
            _household("11", income=100000),
            _household("12", income=250000, safe_water=True, dilapidated=False),
            _household("13", income=250000),
        ]
        shuffled = expected[:]
        random.Random(7).shuffle(shuffled)
        assert [x["number"] for x in sorted(shuffled, key=need_key)] == [x["number"] for x in expected]


# -- automatic pairing on a hand-built village ------------------------------------------------------------


def seed_auto_village(store, *, others_g1=3, others_g2=4, extra=0):
    """C001 (厅级) and C002 (处级): 7 key-help and 7 contact places.

    Seven needy households (低保户): 4 in group 1 and 3 in group 2; then ``others_g1``
    and ``others_g2`` ordinary ones, and ``extra`` well-off ones in group 3
    (the least needy of all). Group 2's households are poorer than group 1's
    of the same kind, so the need order alternates groups and only the
    villager-group rule keeps a cadre's households together.
    Returns the plan and the needy households.
    """
    plan = seed_base(store)
    needy = [add_household(store, 1, i, attribute="低保户", net_income_per_capita_fen=150000) for i in range(1, 5)]
    needy += [add_household(store, 2, i, attribute="低保户", net_income_per_capita_fen=100000) for i in range(1, 4)]
    for i in range(others_g1):
        add_household(store, 1, 10 + i, net_income_per_capita_fen=200000 + i)
    for i in range(others_g2):
        add_household(store, 2, 10 + i, net_income_per_capita_fen=190000 + i)
    for i in range(extra):
        add_household(store, 3, 10 + i, net_income_per_capita_fen=280000 + i)
    return plan, needy


def by_cadre(created):
    out = {}
    for cadre, household, kind in created:
        out.setdefault(cadre, []).append((household, kind))
    return out


class TestAutoPair:
    def test_deterministic_and_dry_run_writes_nothing(self, store):
        """Two dry runs give the same pairings, nothing is written, and the real run makes exactly those."""
        plan, _ = seed_auto_village(store)
        first = auto_pair(store, plan, on=d("2015-08-20"), dry_run=True)
        second = auto_pair(store, plan, on=d("2015-08-20"), dry_run=True)
        assert first == second and first.dry_run and len(first.created) == 14
        assert count(store, S.pairings) == 0
        done = auto_pair(store, plan, on=d("2015-08-20"))
        assert done.created == first.created and not done.dry_run
        stored = sorted((r.cadre, r.household, r.kind) for r in pairings(store, active_on=d("2015-08-20")))
        assert stored == sorted(first.created)
        assert {(r.start, r.plan) for r in pairings(store)} == {(d("2015-08-20"), "qjnu-tuomu")}

    def test_each_cadre_gets_its_quota_and_the_neediest_get_key_help(self, store):
        """With exactly enough households: 厅级 4 + 3, 处级 3 + 4, key-help to the seven 低保 households, nothing reported."""
        plan, needy = seed_auto_village(store)
        result = auto_pair(store, plan, on=d("2015-08-20"))
        counts = Counter((c, k) for c, _, k in result.created)
        assert counts == {(C1, KEY): 4, (C1, CONTACT): 3, (C2, KEY): 3, (C2, CONTACT): 4}
        assert sorted(hh for _, hh, k in result.created if k == KEY) == sorted(needy)
        assert (result.unfilled, result.unpaired, result.skipped_cadres) == ((), (), ())

    def test_households_kept_together_by_villager_group(self, store):
        """Each cadre's households lie in one villager group when the numbers allow it."""
        plan, _ = seed_auto_village(store)
        result = auto_pair(store, plan, on=d("2015-08-20"))
        groups = {c: {hh[:14] for hh, _ in items} for c, items in by_cadre(result.created).items()}
        assert groups == {C1: {group(1)}, C2: {group(2)}}

    def test_contact_households_come_from_the_key_help_groups_first(self, store):
        """A cadre's contact households are taken from the groups of its key-help households before others."""
        plan = seed_base(store)
        key = [add_household(store, 2, i, attribute="低保户") for i in range(1, 8)]
        for i in range(3):
            add_household(store, 1, 10 + i, net_income_per_capita_fen=200000)
        for i in range(4):
            add_household(store, 2, 10 + i, net_income_per_capita_fen=200000)
        result = auto_pair(store, plan, on=d("2015-08-20"))
        assert sorted(hh for _, hh, k in result.created if k == KEY) == key
        mine = by_cadre(result.created)
        # C001 comes first (厅级): its 4 key-help households are in group 2, so are its 3 contact households.
        assert {hh[:14] for hh, _ in mine[C1]} == {group(2)}
        assert sorted(hh for hh, k in mine[C2] if k == CONTACT) == [h(1, 10), h(1, 11), h(1, 12), h(2, 13)]

    def test_too_few_households_leaves_places_unfilled(self, store):
        """Ten households for fourteen places: the last cadre's contact places are reported empty."""
        plan, needy = seed_auto_village(store, others_g1=3, others_g2=0)
        result = auto_pair(store, plan, on=d("2015-08-20"))
        assert len(result.created) == 10 and result.unpaired == ()
        assert result.unfilled == ((C2, CONTACT, 4),)
        assert sorted(hh for _, hh, k in result.created if k == KEY) == sorted(needy)

    def test_too_many_households_leaves_the_least_needy_unpaired(self, store):
        """Sixteen households for fourteen places: the two least needy are reported without a cadre."""
        plan, _ = seed_auto_village(store, extra=2)
        result = auto_pair(store, plan, on=d("2015-08-20"))
        assert len(result.created) == 14 and result.unfilled == ()
        assert result.unpaired == (h(3, 10), h(3, 11))

    def test_held_pairings_count_and_only_poor_households_of_the_plan(self, store):
        """Pairings already held use up quota; exited households and households outside the plan's villages are left alone."""
        plan, needy = seed_auto_village(store)
        pair(store, C1, needy[0], KEY, start="2015-08-01")
        store.update_household(h(1, 10), {"status": "已脱贫(享受政策)"}, effective=d("2015-06-30"), reason="脱贫")
        store.add_areas([Area("530326106201", "犀牛村", "village", "530326106"), Area("53032610620101", "一组", "group", "530326106201")])
        store.add_household(Household.new(number="530326106201010001", group_code="53032610620101", head_name="外村",
                                          attribute="五保户", main_cause="因病"), since=d("2014-10-01"))
        store.add_cadre(Cadre.new(code="QJNU-K001", name="科员", unit="QJNU", rank="科级"))
        result = auto_pair(store, plan, on=d("2015-08-20"))
        created = {hh for _, hh, _ in result.created}
        assert needy[0] not in created and h(1, 10) not in created and "530326106201010001" not in created
        assert Counter((c, k) for c, _, k in result.created)[(C1, KEY)] == 3
        assert len(result.created) == 12 and result.unfilled == ((C2, CONTACT, 1),)
        assert result.skipped_cadres == ("QJNU-K001",)

    def test_cli_exit_code(self, store, cli, database_url):
        """`pair auto` exits 0 when every place and household is matched, 1 when something is left over."""
        plan, _ = seed_auto_village(store)
        result = cli("--db", database_url, "pair", "auto", "--date", "2015-08-20", "--dry-run")
        assert result.exit_code == 0 and "将结对 / would pair: 14" in result.output
        add_household(store, 3, 1, net_income_per_capita_fen=900000)
        result = cli("--db", database_url, "pair", "auto", "--date", "2015-08-20")
        assert result.exit_code == 1, result.output
        assert "已结对 / paired: 14" in result.output and h(3, 1) in result.output


# -- the demo village -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    return build_demo_file(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def demo_url(demo_file, tmp_path):
    return copy_demo(demo_file, tmp_path)


class TestDemoVillage:
    def test_auto_pairs_336_within_the_quotas(self, demo_url, cli, pm):
        """428 poor households, 48 cadres: 336 paired (厅级 4 + 3, 处级 3 + 4 each), 92 reported unpaired, exit 1."""
        dry = cli("--db", demo_url, "pair", "auto", "--date", "2015-08-20", "--dry-run", "--json")
        assert dry.exit_code == 1
        planned = json.loads(dry.output)
        assert (len(planned["created"]), planned["unfilled"], len(planned["unpaired"])) == (336, [], 92)
        result = cli("--db", demo_url, "pair", "auto", "--date", "2015-08-20")
        assert result.exit_code == 1, result.output
        assert "已结对 / paired: 336" in result.output
        assert "92 户贫困户没有干部" in result.output
        with Store.open(demo_url, pm=pm, actor=Actor.from_env()) as store:
            held = pairings(store, active_on=d("2015-08-20"))
            ranks = {c.code: c.rank for c in store.cadres()}
        assert len(held) == len({r.household for r in held}) == 336
        per_cadre = Counter((r.cadre, r.kind) for r in held)
        quota = {"厅级": (4, 3), "处级": (3, 4)}
        assert len(ranks) == 48 and Counter(ranks.values()) == {"厅级": 14, "处级": 34}
        assert all((per_cadre[(c, KEY)], per_cadre[(c, CONTACT)]) == quota[rank] for c, rank in ranks.items())
        assert Counter(r.kind for r in held) == {KEY: 158, CONTACT: 178}
        assert sorted(r["household"] for r in planned["created"]) == sorted(r.household for r in held)
        again = json.loads(cli("--db", demo_url, "pair", "auto", "--date", "2015-08-20", "--json").output)
        assert (again["created"], again["unfilled"], again["unpaired"]) == ([], [], planned["unpaired"])

    @pytest.mark.parametrize(
        ("actor", "args"),
        [
            ("QJNU-STU:clerk", ["pair", "auto", "--date", "2015-08-20"]),
            ("PROVINCE:auditor", ["pair", "auto", "--date", "2015-08-20", "--dry-run"]),
            ("QJNU-LEAD:cadre1", ["pair", "add", "--cadre", "QJNU-C001", "--household", "530326106200010001", "--kind", "重点帮扶"]),
            ("QJNU-LEAD:cadre1", ["pair", "transfer", "QJNU-C001", "--to", "QJNU-C002"]),
            ("ZHZ-GOV:clerk", ["pair", "end", "1", "--reason", "x"]),
        ],
    )
    def test_without_pairing_write_is_refused(self, demo_url, cli, pm, actor, args):
        """Users whose roles lack pairing.write are refused, the permission named, and nothing changes."""
        assert cli("--db", demo_url, "pair", "add", "--cadre", "QJNU-C001", "--household", "530326106200010001",
                   "--kind", "重点帮扶", "--date", "2015-08-20").exit_code == 0
        with Store.open(demo_url, pm=pm, actor=Actor.from_env()) as store:
            before = snapshot(store)
        result = cli("--db", demo_url, "--as", actor, *args)
        assert result.exit_code == 3 and "lacks pairing.write" in result.output and "Traceback" not in result.output
        with Store.open(demo_url, pm=pm, actor=Actor.from_env()) as store:
            assert snapshot(store) == before

    def test_plan_office_may_pair(self, demo_url, cli):
        """The plan office (pairing.write in its plans' villages) runs the automatic pairing."""
        result = cli("--db", demo_url, "--as", "QJNU:office", "pair", "auto", "--date", "2015-08-20", "--json")
        assert result.exit_code == 1 and len(json.loads(result.output)["created"]) == 336


def test_library_refuses_without_pairing_write(store):
    """Through the library too: a department user may not add, end, transfer or auto-pair."""
    plan = seed_base(store)
    number = add_household(store, 1, 1)
    pid = pair(store, C1, number)
    store.add_user(User("QJNU", "clerk", ("department",)))
    clerk = store.acting_as(Actor.parse("QJNU:clerk"))
    before = snapshot(store)
    calls = [
        lambda: pair(clerk, C2, number, CONTACT),
        lambda: end_pairing(clerk, pid, d("2016-01-01"), "x"),
        lambda: transfer(clerk, C1, C2, on=d("2016-01-01"), reason="x"),
        lambda: auto_pair(clerk, plan, on=d("2015-08-20")),
    ]
    for call in calls:
        with pytest.raises(AccessDenied, match="pairing.write"):
            call()
    assert snapshot(store) == before

