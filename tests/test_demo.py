"""The demo village and the synthetic register it is built from."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import sqlalchemy as sa

from fupin.demo import build_demo, render_summary
from fupin.idnumber import IdNumber
from fupin.model import check_members
from fupin.plans import load_plan
from fupin.storage import schema as S
from fupin.synth import Synthesizer


class TestDemo:
    def test_built_from_the_plan(self, store):
        """Groups, poor households, cadres by rank and actions come from the plan and its demo data."""
        plan = load_plan("qjnu-tuomu")
        profile = plan.villages[0].profile
        summary = build_demo(store, "qjnu-tuomu")
        assert [g for g, _, _ in summary.groups] == list(profile.villager_groups)
        assert summary.households == profile.poor_households == 428
        assert dict(summary.cadres_by_rank) == {r.rank: r.count for r in plan.cadres.ranks} == {"厅级": 14, "处级": 34}
        assert summary.profile.population == 2996
        assert len(summary.actions) == 4 and all(a.plan == "qjnu-tuomu" for a in summary.actions)
        assert {"者海镇一中", "拖木村小学", "会泽一中"} <= set(summary.schools)

    def test_summary_text_in_chinese_and_english(self, store):
        """The summary speaks Chinese by default and English on request, with the figures read back."""
        summary = build_demo(store, "qjnu-tuomu")
        zh = render_summary(summary)
        assert f"建档立卡登记 (合成数据): {summary.households} 户 {summary.persons} 人" in zh
        assert "贫困发生率 44.69%" in zh
        en = render_summary(summary, lang="en")
        assert f"Registered (synthetic): {summary.households} households" in en

    def test_every_household_has_one_head(self, store):
        """Every synthetic household stored by the demo has exactly one head."""
        build_demo(store, "qjnu-tuomu")
        with store.engine.connect() as conn:
            heads = conn.execute(
                sa.select(S.persons.c.household_id, sa.func.count())
                .where(S.persons.c.relation == "户主")
                .group_by(S.persons.c.household_id)
            ).all()
        assert len(heads) == 428 and {n for _, n in heads} == {1}


class TestSynthesizer:
    def test_records_are_valid_and_deterministic(self):
        """Same seed, same records; every ID number is valid and unique; members have one head."""
        first = list(Synthesizer(seed=3).households(["53032610120001", "53032610120002"], 60))
        again = list(Synthesizer(seed=3).households(["53032610120001", "53032610120002"], 60))
        other = list(Synthesizer(seed=4).households(["53032610120001", "53032610120002"], 60))
        assert first == again and first != other
        ids = [p.id_number for h in first for p in h.members]
        assert len(ids) == len(set(ids))
        assert all(IdNumber.parse(i).area_code == "530326" for i in ids)
        assert all(check_members(h.household.number, h.members) == [] for h in first)

    def test_tags_follow_their_definitions(self):
        """孤寡老人 live alone at 60+; 留守儿童 are under 16 with both parents away for work."""
        day = dt.date(2014, 10, 1)
        items = list(Synthesizer(seed=11).households(["53032610120001"], 300))
        tags = Counter(t.tag for h in items for t in h.tags)
        assert tags["孤寡老人"] and tags["在校生"] and tags["外出务工"]
        for h in items:
            people = {p.id_number: p for p in h.members}
            migrants = {t.id_number for t in h.tags if t.tag == "外出务工"}
            for tag in h.tags:
                person = people[tag.id_number]
                if tag.tag == "孤寡老人":
                    assert len(h.members) == 1 and person.age_on(day) >= 60
                if tag.tag == "留守儿童":
                    parents = [p.id_number for p in h.members if p.relation in ("户主", "配偶")]
                    assert person.age_on(day) < 16 and len(parents) == 2 and set(parents) <= migrants

    def test_areas_nest(self):
        """Synthetic areas each sit one level under their parent with matching code prefixes."""
        areas = Synthesizer().areas(1000)
        by_code = {a.code: a for a in areas}
        assert all(a.is_child_of(by_code[a.parent_code]) for a in areas if a.parent_code)
        assert sum(a.level == "group" for a in areas) == 3 * 4


class TestPlayedYears:
    """`fupin demo` plays the plan's years: deterministic, measured by the checks, shortfalls shown."""

    def test_same_seed_same_report_with_honest_shortfalls(self, cli, tmp_path):
        outputs = []
        for name in ("a", "b"):
            result = cli("--db", f"sqlite:///{tmp_path / name}.db", "demo")
            assert result.exit_code == 0, result.output
            outputs.append(result.output)
        first, second = outputs
        # Deterministic: everything after the user list (which names the local login) is identical.
        assert first.split("模拟", 1)[1] == second.split("模拟", 1)[1]
        table = first.split("承诺逐年检查", 1)[1].split("年度帮扶工作总结", 1)[0]
        rows = {line.split()[0]: line.split()[1:6] for line in table.splitlines() if line.strip().startswith("C")}
        # The planned shortfalls, each visible in its year and only there.
        assert rows["C03"] == ["✓", "✓", "✗", "✓", "✓"]  # one leadership meeting in 2017
        assert rows["C06"][3] == "✗"  # the attached leader arrives a year late
        assert rows["C10"][0] == "✗" and rows["C10"][3] == "✗"  # late first round; missed revisits in 2018
        assert rows["C16"][2] == "✗"  # a case left open too long in 2017
        assert rows["C37"] == ["…", "…", "…", "…", "✗"]  # not all out of poverty by the end of 2019
        assert rows["C08"] == ["✓"] * 5 and rows["C09"] == ["✓"] * 5  # quotas kept, a transfer included
        report = first.split("年度帮扶工作总结", 1)[1]
        assert "未达成" in report and "户贫困户没有本方案的帮扶干部" in report

    def test_played_records_check_out(self, cli, tmp_path):
        url = f"sqlite:///{tmp_path / 'p.db'}"
        assert cli("--db", url, "demo").exit_code == 0
        import json

        result = cli("--db", url, "check", "--year", "2016", "--as-of", "2020-03-31", "--json")
        by_id = {r["id"]: r for r in json.loads(result.output)}
        # In 2016 nothing falls short: C12 classifies the 336 paired households (as the seed does), not all 428 poor ones.
        assert [i for i, r in by_id.items() if r["status"] == "not_met"] == []
        assert result.exit_code == 0
        assert (by_id["C11"]["status"], by_id["C12"]["status"], by_id["C12"]["actual"]) == ("met", "met", "336/336")
        assert by_id["C10"]["status"] == "met" and by_id["C10"]["figures"]["households"] == 336
        assert all(r["evidence"] for r in by_id.values() if r["status"] == "met")
        assert by_id["C02"]["status"] == "no_data" and by_id["C02"]["plugin"] == "funding"
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            visits = conn.execute(sa.select(sa.func.count()).select_from(S.visits)).scalar_one()
            exits = conn.execute(sa.select(sa.func.count()).select_from(S.exit_assessments)).scalar_one()
        engine.dispose()
        assert visits > 2 * 336 and exits > 300


# --------------------------------------------------------------------------- any plan that loads


def _reference_text() -> str:
    import importlib.resources

    return (importlib.resources.files("fupin") / "data" / "plans" / "qjnu-tuomu.toml").read_text(encoding="utf-8")


def _small(text: str) -> str:
    """Fewer poor households, so each played plan stays quick."""
    return text.replace("poor_households = 428", "poor_households = 60", 1)


def _shift_years(text: str, n: int) -> str:
    import re

    return re.sub(r"\b(20[12]\d)\b", lambda m: str(int(m.group(1)) + n), text)


def _only(text: str, keep: tuple[str, ...]) -> str:
    """The plan with only the commitments ``keep`` (the calendar and plugin tables kept)."""
    sep = "\n[[commitments]]\n"
    head, *entries = text.split(sep)
    last = entries[-1]
    tail_at = last.index("# Spring Festival")
    entries[-1], tail = last[:tail_at], last[tail_at:]
    kept = [e for e in entries if any(f'id = "{c}"' in e for c in keep)]
    return head + "".join(sep + e for e in kept) + tail


_SECOND_VILLAGE = '''
[[plan.villages]]
code = "530326106201"
name_zh = "乙村"
parents = [
    { level = "province", code = "530000", name_zh = "云南省" },
    { level = "city", code = "530300", name_zh = "曲靖市" },
    { level = "county", code = "530326", name_zh = "会泽县" },
    { level = "town", code = "530326106", name_zh = "者海镇" },
]
[plan.villages.profile]
year = 2015
households = 200
population = 800
poor_households = 30
villager_groups = ["甲组", "乙组"]

# Cadres taking part'''

MUTATIONS = {
    "renamed": lambda t: t.replace("拖木", "新田").replace("者海", "龙泉").replace("蓝莓", "核桃")
    .replace('"blueberry"', '"walnut"').replace('name = "qjnu-tuomu"', 'name = "other-plan"'),
    "years_later": lambda t: _shift_years(t, 1),
    "years_earlier": lambda t: _shift_years(t, -2),
    "two_villages": lambda t: t.replace("\n# Cadres taking part", _SECOND_VILLAGE, 1),
    "no_stated_totals": lambda t: t.replace("[cadres.stated]\ntotal = 48\nvisited = 336\nkey_help = 153\ncontact = 183\n", ""),
    "other_ranks": lambda t: t.replace('rank = "厅级"', 'rank = "科级"').replace('rank = "处级"', 'rank = "一般干部"')
    .replace("count = 14", "count = 2").replace("count = 34", "count = 3"),
    "fewer_commitments": lambda t: _only(t, ("C01", "C10", "C11", "C37")),
    "plugin_commitments_only": lambda t: _only(t, ("C02", "C10", "C19", "C23", "C29", "C32")),
    "unknown_plugin": lambda t: t.replace('target = "funding.study_aid"', 'target = "nosuch.study_aid"'),
    "no_visit_campaign": lambda t: _only(t, ("C01", "C37")),
    "rank_not_in_vocabulary": lambda t: t.replace('rank = "厅级"', 'rank = "正高级"'),
}


class TestAnyPlan:
    """`fupin demo --plan FILE` plays any plan that loads: exit 0, or one clean error line, never a traceback."""

    @pytest.mark.parametrize("name", sorted(MUTATIONS))
    def test_mutated_plan_plays_or_says_why(self, cli, tmp_path, name):
        path = tmp_path / "plan.toml"
        path.write_text(MUTATIONS[name](_small(_reference_text())), encoding="utf-8")
        result = cli("--db", f"sqlite:///{tmp_path / 'demo.db'}", "demo", "--plan", str(path))
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.output
        if result.exit_code != 0:
            last = result.output.strip().splitlines()[-1]
            assert last.startswith("Error: ") and result.output.count("Error: ") == 1, result.output[-500:]
        assert (result.exit_code == 0) == (name not in ("no_visit_campaign", "rank_not_in_vocabulary")), result.output[-800:]

    def test_renamed_plan_shows_nothing_of_the_reference(self, cli, tmp_path):
        """Villages, towns, crops and schools come from the plan: a renamed plan shows none of the reference names."""
        path = tmp_path / "plan.toml"
        path.write_text(MUTATIONS["renamed"](_small(_reference_text())), encoding="utf-8")
        result = cli("--db", f"sqlite:///{tmp_path / 'demo.db'}", "demo", "--plan", str(path))
        assert result.exit_code == 0, result.output[-800:]
        for name in ("拖木", "者海", "蓝莓"):
            assert name not in result.output
        assert "【新田村】" in result.output and "新田村小学" in result.output and "龙泉镇一中" in result.output

    def test_every_village_is_built(self, store, tmp_path):
        """Two villages: both built with their groups and poor households; the schools the plan names are units."""
        path = tmp_path / "plan.toml"
        path.write_text(MUTATIONS["two_villages"](_small(_reference_text())), encoding="utf-8")
        summary = build_demo(store, str(path))
        assert [v.name for v in summary.villages] == ["拖木村", "乙村"]
        assert summary.households == 60 + 30
        assert [g for g, _, _ in summary.groups][-2:] == ["甲组", "乙组"]
        with store.engine.connect() as conn:
            schools = dict(conn.execute(sa.select(S.units.c.name, S.units.c.area_code).where(S.units.c.kind == "学校")).all())
        assert schools["拖木村小学"] == "530326106200" and schools["者海镇一中"] == "530326106" and schools["会泽一中"] == "530326"
