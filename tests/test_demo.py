"""The demo village and the synthetic register it is built from."""

from __future__ import annotations

import datetime as dt
from collections import Counter

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
        table = first.split("承诺逐年检查", 1)[1].split("年度帮扶工作报告", 1)[0]
        rows = {line.split()[0]: line.split()[1:6] for line in table.splitlines() if line.strip().startswith("C")}
        # The planned shortfalls, each visible in its year and only there.
        assert rows["C03"] == ["✓", "✓", "✗", "✓", "✓"]  # one leadership meeting in 2017
        assert rows["C06"][3] == "✗"  # the attached leader arrives a year late
        assert rows["C10"][0] == "✗" and rows["C10"][3] == "✗"  # late first round; missed revisits in 2018
        assert rows["C16"][2] == "✗"  # a case left open too long in 2017
        assert rows["C37"] == ["…", "…", "…", "…", "✗"]  # not all out of poverty by the end of 2019
        assert rows["C08"] == ["✓"] * 5 and rows["C09"] == ["✓"] * 5  # quotas kept, a transfer included
        report = first.split("年度帮扶工作报告", 1)[1]
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
