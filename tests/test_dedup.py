"""Duplicate people: scanning for look-alikes and merging them, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner
from pypinyin import lazy_pinyin

from fupin import Actor, Area, Household, NotFound, Person, Tag, Unit, ValidationError
from fupin.access import AccessDenied, User
from fupin.actions import SupportAction
from fupin.cli.dedup import dedup_group
from fupin.dedup import HOMOPHONES, merge, plant_lookalikes, scan
from fupin.demo import build_demo
from fupin.idnumber import IdNumber, make_id_number
from fupin.storage import schema
from fupin.text import mask_id

from tests.campaign_seed import tuomu_chain

VILLAGE = "530326106200"
G1, G2 = f"{VILLAGE}01", f"{VILLAGE}02"
OTHER_VILLAGE = "530326106201"


def pid(birth: str, seq: int, sex: str) -> str:
    return make_id_number("530326", dt.date.fromisoformat(birth), seq, sex)


# name, household, relation, birth date, sequence, sex
PEOPLE = {
    "A": ("张明", "H1", "户主", "1980-05-06", 1, "男"),
    "A2": ("张明", "H1", "其他", "1980-05-06", 2, "男"),  # same name, same household: 1.0
    "P": ("李英", "H2", "户主", "1975-03-02", 3, "女"),
    "P2": ("黎瑛", "H3", "其他", "1975-03-02", 4, "女"),  # homophone, other group: 0.85
    "Q": ("王华", "H1", "配偶", "1990-07-08", 5, "男"),
    "Q2": ("王平", "H2", "其他", "1990-07-08", 6, "男"),  # one character apart, same group: 0.75
    "R": ("赵军", "H1", "之子", "1985-01-01", 7, "男"),
    "R2": ("赵兵", "H2", "之女", "1985-01-01", 8, "女"),  # one apart but other sex: not a pair
    "S": ("陈红", "H3", "之女", "1960-02-02", 9, "女"),
    "S2": ("陈红", "H4", "之女", "1960-02-02", 10, "女"),  # other village: not a pair
    "T": ("张明", "H2", "之子", "1981-05-06", 11, "男"),  # A's name, other birth date: not a pair
    "H3": ("周国", "H3", "户主", "1950-01-01", 12, "男"),
    "H4": ("吴文", "H4", "户主", "1952-01-01", 13, "男"),
}
IDS = {key: pid(birth, seq, sex) for key, (_, _, _, birth, seq, sex) in PEOPLE.items()}
UNKNOWN = pid("1999-01-01", 100, "男")
INVALID = UNKNOWN[:-1] + ("1" if UNKNOWN[-1] == "0" else "0")


def tiny_registry(store) -> dict[str, str]:
    """Two villages, four households and the people of PEOPLE; returns their ID numbers by key."""
    with store.transaction():
        store.add_areas(
            [
                *tuomu_chain(),
                Area(G1, "大沟边", "group", VILLAGE),
                Area(G2, "发和落", "group", VILLAGE),
                Area(OTHER_VILLAGE, "邻村", "village", "530326106"),
                Area(f"{OTHER_VILLAGE}01", "第一组", "group", OTHER_VILLAGE),
            ]
        )
        for number, group in (("H1", G1), ("H2", G1), ("H3", G2), ("H4", f"{OTHER_VILLAGE}01")):
            store.add_household(
                Household.new(number=number, group_code=group, head_name="户主", attribute="一般贫困户", main_cause="因病")
            )
        for key, (name, household, relation, *_rest) in PEOPLE.items():
            store.add_person(Person.new(id_number=IDS[key], household=household, name=name, relation=relation))
        store.add_unit(Unit.new(code="QJNU", name="曲靖师范学院", kind="university"))
    return IDS


def publicity(store, *people: str) -> SupportAction:
    kind = store.hooks.action_kind("core.publicity")
    action = SupportAction.new(
        kind, start="2016-03-01", unit="QJNU", beneficiaries=[f"person:{p}" for p in people], details={"topic": "政策"}
    )
    return store.record_action(action)


def snapshot(store) -> dict[str, int]:
    return {t.name: store.count(t.name) for t in schema.CORE_TABLES}


def pairs(found) -> list[tuple[str, str, float]]:
    return [(c.keep, c.other, c.score) for c in found]


def run(store, pm, *args: str):
    """Run ``fupin --db URL --as TEST:tester ARGS`` with the dedup group added."""
    from fupin.cli import make_cli

    command = make_cli(pm)
    command.add_command(dedup_group)
    url = store.engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(command, ["--db", url, "--as", "TEST:tester", *args])


class TestScan:
    def test_scores_reasons_and_order(self, store):
        """Same name, homophone and one-apart pairs score by the rule, best first; non-pairs are left out."""
        ids = tiny_registry(store)
        found = scan(store)
        assert pairs(found) == [(ids["A"], ids["A2"], 1.0), (ids["P"], ids["P2"], 0.85), (ids["Q"], ids["Q2"], 0.75)]
        assert found[0].reasons == ("同名同出生日期 / same name and birth date", "同户 / same household")
        assert found[1].reasons == ("同音姓名同出生日期 / same-sounding name and birth date",)
        assert found[2].reasons[1] == "同村民小组 / same villager group"
        assert (found[1].keep_name, found[1].other_name, found[1].keep_household, found[1].other_household) == (
            "李英", "黎瑛", "H2", "H3",
        )
        assert {c.village for c in found} == {VILLAGE}

    def test_min_score_and_village(self, store):
        """min_score drops weaker pairs; another village's scan finds none of this village's pairs."""
        ids = tiny_registry(store)
        assert pairs(scan(store, min_score=0.8)) == [(ids["A"], ids["A2"], 1.0), (ids["P"], ids["P2"], 0.85)]
        assert len(scan(store, village=VILLAGE)) == 3
        assert scan(store, village=OTHER_VILLAGE) == []
        with pytest.raises(ValidationError, match="12-digit"):
            scan(store, village=G1)

    def test_demo_with_planted_lookalikes(self, store):
        """In the demo village the three planted look-alikes are found, first, and nothing else is."""
        summary = build_demo(store, "qjnu-tuomu")
        planted = plant_lookalikes(store, 3, seed=0)
        found = scan(store)
        assert {(c.keep, c.other) for c in found[:3]} == set(planted)
        # The synthetic register has no look-alikes of its own: every pair found is a planted one.
        assert {(c.keep, c.other) for c in found} == set(planted)
        by_pair = {(c.keep, c.other): c for c in found}
        kinds = [by_pair[p].reasons[0].split(" / ")[0] for p in planted]
        assert kinds == ["同名同出生日期", "同音姓名同出生日期", "姓名差一字, 同出生日期同性别"]
        assert all(c.score >= 0.6 and c.village == summary.village.code for c in found)
        assert scan(store, village=summary.village.code) == found


class TestMerge:
    def test_moves_tags_actions_and_fills_fields(self, store):
        """Tags and actions move to the kept person, empty fields are filled, and the dropped row is gone."""
        ids = tiny_registry(store)
        keep, drop = ids["A"], ids["A2"]
        with store.transaction() as conn:
            conn.execute(schema.persons.update().where(schema.persons.c.id_number == keep).values(health="长期慢性病"))
            conn.execute(
                schema.persons.update().where(schema.persons.c.id_number == drop).values(health="健康", phone="13800000000")
            )
        store.add_tag(Tag(keep, "外出务工", dt.date(2015, 1, 1)))
        store.add_tag(Tag(drop, "外出务工", dt.date(2015, 1, 1)))
        store.add_tag(Tag(drop, "在校生", dt.date(2015, 9, 1)))
        only_drop = publicity(store, drop)
        both = publicity(store, keep, drop)
        persons = store.count("persons")

        spaced = f"{drop[:6]} {drop[6:14]} {drop[14:]}"  # any accepted form of the number
        result = merge(store, keep, spaced, reason="重复登记")

        assert (result.keep, result.drop, result.tags_moved, result.tags_skipped, result.actions) == (keep, drop, 1, 1, 2)
        assert result.filled == ("phone",)
        assert result.conflicts == {"relation": ("户主", "其他"), "health": ("长期慢性病", "健康")}
        assert store.count("persons") == persons - 1
        with pytest.raises(NotFound):
            store.get_person(drop)
        kept = store.get_person(keep)
        assert (kept.phone, kept.health, kept.relation) == ("13800000000", "长期慢性病", "户主")
        card = store.household_card("H1", unmasked=True)
        assert sorted((t.id_number, t.tag) for t in card.tags) == [(keep, "在校生"), (keep, "外出务工")]
        actions = {a.id: a for a in store.actions()}
        assert [str(b) for b in actions[only_drop.id].beneficiaries] == [f"person:{keep}"]
        assert [str(b) for b in actions[both.id].beneficiaries] == [f"person:{keep}"]

    def test_audit_keeps_the_dropped_record(self, store):
        """The merge entry holds the dropped row in full; the dropped key's history ends with its deletion."""
        ids = tiny_registry(store)
        keep, drop = ids["P"], ids["P2"]
        merge(store, keep, drop, reason="重复登记")
        entry = store.audit_entries(table="persons", key=keep)[-1]
        assert (entry.operation, entry.reason, entry.unit, entry.user) == ("merge", "重复登记", "TEST", "tester")
        assert {k: entry.old[k] for k in ("id_number", "name", "relation", "birth_date", "household")} == {
            "id_number": drop, "name": "黎瑛", "relation": "其他", "birth_date": "1975-03-02", "household": "H3",
        }
        assert entry.new == {"merged_into": keep, "filled": [], "conflicts": {
            "name": {"keep": "李英", "drop": "黎瑛"},
            "household": {"keep": "H2", "drop": "H3"},
            "relation": {"keep": "户主", "drop": "其他"},
        }}
        deleted = store.audit_entries(table="persons", key=drop)[-1]
        assert (deleted.operation, deleted.old["name"], deleted.new) == ("delete", "黎瑛", {"merged_into": keep})

    def test_merged_pair_never_reappears(self, store):
        """After a merge the pair is gone from the scan, even when the dropped number is registered again."""
        ids = tiny_registry(store)
        merge(store, ids["A"], ids["A2"])
        assert (ids["A"], ids["A2"]) not in {(c.keep, c.other) for c in scan(store)}
        store.add_person(Person.new(id_number=ids["A2"], household="H2", name="张明", relation="其他"))
        assert pairs(scan(store)) == [(ids["P"], ids["P2"], 0.85), (ids["Q"], ids["Q2"], 0.75)]

    @pytest.mark.parametrize(
        ("keep", "drop", "field", "reason"),
        [
            ("A", UNKNOWN, "drop", "not registered"),
            ("A", INVALID, "drop", "wrong check character"),
            ("A", "A", "drop", "same person"),
            ("A", "P", "drop", "heads of different households"),
            ("A2", "A", "drop", "keep the head"),
        ],
        ids=["unknown", "invalid", "same", "two-heads", "drop-head"],
    )
    def test_refusals_change_nothing(self, store, keep, drop, field, reason):
        """An unknown, invalid or identical number, or dropping a head, is refused and nothing is written."""
        ids = tiny_registry(store)
        before = snapshot(store)
        with pytest.raises(ValidationError, match=reason) as exc:
            merge(store, ids.get(keep, keep), ids.get(drop, drop).lower())  # a lower-case x is accepted
        assert [p.field for p in exc.value.problems] == [field]
        assert snapshot(store) == before


class TestAccess:
    def test_scan_and_merge_stay_in_scope(self, store):
        """A user sees only pairs in their areas and, without dedup.merge, may not merge."""
        ids = tiny_registry(store)
        store.add_user(User("TOWN", "clerk", ("area_user",), areas=(OTHER_VILLAGE,)))
        store.add_user(User("TOWN", "office", ("area_user",), areas=(VILLAGE,)))
        assert scan(store.acting_as(Actor("TOWN", "clerk"))) == []
        assert len(scan(store.acting_as(Actor("TOWN", "office")))) == 3
        before = snapshot(store)
        with pytest.raises(AccessDenied, match="dedup.merge"):
            merge(store.acting_as(Actor("TOWN", "office")), ids["A"], ids["A2"])
        assert snapshot(store) == before


class TestPlantLookalikes:
    def test_homophone_table_reads_alike(self):
        """Every pair in the homophone table has the same tone-less pinyin and differs in writing."""
        for a, b in HOMOPHONES.items():
            assert a != b and lazy_pinyin(a) == lazy_pinyin(b), (a, b)

    def test_lookalikes_are_valid_and_deterministic(self, store):
        """Look-alikes share birth date and sex, have new valid numbers, are non-heads, and repeat by seed."""
        tiny_registry(store)
        planted = plant_lookalikes(store, 3, seed=7)
        assert len({b for _, b in planted}) == 3
        for original, copy in planted:
            a, b = store.get_person(original), store.get_person(copy)
            assert (b.birth_date, b.sex, b.relation) == (a.birth_date, a.sex, "其他")
            assert copy != original and IdNumber.parse(copy).number == copy
            same_village = store.get_household(a.household).group_code[:12]
            assert store.get_household(b.household).group_code[:12] == same_village
        names = [(store.get_person(a).name, store.get_person(b).name) for a, b in planted]
        assert names[0][0] == names[0][1]
        assert names[1][0] != names[1][1] and lazy_pinyin(names[1][0]) == lazy_pinyin(names[1][1])
        assert sum(x != y for x, y in zip(*names[2], strict=True)) == 1
        store.reset()
        tiny_registry(store)
        assert plant_lookalikes(store, 3, seed=7) == planted


class TestCli:
    def test_scan_json_masks_numbers(self, store, pm):
        """`dedup scan --json` prints valid JSON with masked ID numbers only."""
        ids = tiny_registry(store)
        result = run(store, pm, "dedup", "scan", "--json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert [(d["keep"], d["other"], d["score"]) for d in data] == [
            (mask_id(ids["A"]), mask_id(ids["A2"]), 1.0),
            (mask_id(ids["P"]), mask_id(ids["P2"]), 0.85),
            (mask_id(ids["Q"]), mask_id(ids["Q2"]), 0.75),
        ]
        assert not any(number in result.output for number in ids.values())

    def test_scan_table_and_unmasked_is_audited(self, store, pm):
        """The table masks numbers; --unmasked shows them and leaves an audit entry."""
        ids = tiny_registry(store)
        table = run(store, pm, "dedup", "scan", "--min-score", "0.9")
        assert table.exit_code == 0
        assert mask_id(ids["A2"]) in table.output and ids["A2"] not in table.output
        assert "黎瑛" not in table.output  # 0.85 < 0.9
        assert store.audit_entries(key="dedup:scan") == []
        unmasked = run(store, pm, "dedup", "scan", "--json", "--unmasked")
        assert json.loads(unmasked.output)[0]["keep"] == ids["A"]
        [entry] = store.audit_entries(key="dedup:scan")
        assert (entry.operation, entry.new["rows"], entry.new["unmasked"]) == ("export", 3, True)

    def test_merge_exit_codes(self, store, pm):
        """`dedup merge` prints one line and exits 0; a refusal is a one-line error with exit 1."""
        ids = tiny_registry(store)
        ok = run(store, pm, "dedup", "merge", ids["A"], ids["A2"], "--reason", "重复登记")
        assert ok.exit_code == 0, ok.output
        assert ok.output.startswith(f"已合并 / merged {mask_id(ids['A2'])} (张明) into {mask_id(ids['A'])} (张明)")
        assert ok.output.count("\n") == 1 and ids["A"] not in ok.output
        again = run(store, pm, "dedup", "merge", ids["A"], ids["A2"])
        assert again.exit_code == 1
        assert again.output.startswith("Error: merge: drop = ") and "not registered" in again.output
        assert again.output.count("\n") == 1 and isinstance(again.exception, SystemExit)
        bad_village = run(store, pm, "dedup", "scan", "--village", "5303")
        assert bad_village.exit_code == 1 and bad_village.output.count("\n") == 1
