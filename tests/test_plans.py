"""Tests for fupin.plans: the reference plan, loading, validation and rendering."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import attrs
import pytest

from fupin.errors import PlanError
from fupin.plans import (
    Commitment,
    Plan,
    load_plan,
    packaged_plans,
    render_plan,
)
from fupin.text import display_width, pad

PLAN_NAME = "qjnu-tuomu"

# A small valid plan; the validation tests break one thing in it at a time.
MINIMAL = """\
[plan]
name = "demo"
title_zh = "示例方案"
title_en = "Demo plan"

[plan.period]
start = 2016-01-01
end = 2017-12-31

[plan.helping_unit]
code = "DEMO"
name_zh = "示例单位"

[[plan.villages]]
code = "530000000000"
name_zh = "示例村"

[[commitments]]
id = "C01"
section = "一"
title_zh = "承诺一"
target = "core.roles"

[[commitments]]
id = "C02"
section = "一"
title_zh = "承诺二"
target = "funding.budget"
params = { amount_fen = 100 }
"""


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(PLAN_NAME)


def plan_error(tmp_path: Path, text: str) -> tuple[str, str]:
    """Write ``text`` to a file, load it, and return (file label, PlanError message)."""
    path = tmp_path / "demo.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanError) as info:
        Plan.from_path(path)
    return str(path), str(info.value)


class TestReferencePlan:
    def test_loads(self, plan):
        """The packaged reference plan loads with its header fields."""
        assert plan.name == PLAN_NAME
        assert plan.helping_unit.code == "QJNU"
        assert plan.helping_unit.name_zh == "曲靖师范学院"
        assert plan.title_zh.startswith("曲靖师范学院扶贫攻坚")
        assert plan.title_en

    def test_period_and_dates(self, plan):
        """Period, issue date and years are those of the plan."""
        assert plan.period_start == dt.date(2015, 9, 1)
        assert plan.period_end == dt.date(2019, 12, 31)
        assert plan.issued == dt.date(2015, 10, 23)
        assert plan.years() == [2015, 2016, 2017, 2018, 2019]

    def test_village_code_is_placeholder(self, plan):
        """The village is 拖木村 under 者海镇 530326106, its own code marked a placeholder."""
        (village,) = plan.villages
        assert village.name_zh == "拖木村"
        assert village.code_is_placeholder is True
        assert village.code.startswith("530326106") and len(village.code) == 12
        assert village.parent("town").code == "530326106"
        assert village.parent("county").name_zh == "会泽县"
        assert [a.level for a in village.parents] == ["province", "city", "county", "town"]

    def test_profile_as_stated(self, plan):
        """The 2015 profile keeps the stated figures, money in integer fen."""
        p = plan.villages[0].profile
        assert p.year == 2015
        assert (p.households, p.population, p.poor_households, p.poor_people) == (778, 2996, 428, 1339)
        assert (p.area_km2, p.altitude_m, p.mean_temp_c, p.rainfall_mm) == (12.79, 2060, 12.6, 840)
        assert (p.arable_mu, p.arable_mu_per_person_stated) == (1905, 0.67)
        assert p.net_income_per_capita_fen == 267000 and isinstance(p.net_income_per_capita_fen, int)
        assert (p.earth_wood_houses, p.migrant_workers) == (276, 678)
        assert p.villager_groups == ("大沟边", "发和落", "拖木", "小瓦窑")
        assert p.extra["poor_villages_in_town"] == 18
        assert {n["name_zh"] for n in p.extra["neighbours"]} == {"大井镇", "犀牛村", "发基村", "付家村"}
        assert len(p.extra["problems"]) >= 5

    def test_cadres_and_quotas(self, plan):
        """Ranks, head counts and quotas are data (C07, C08)."""
        cadres = plan.cadres
        assert [(r.rank, r.count) for r in cadres.ranks] == [("厅级", 14), ("处级", 34)]
        assert (cadres.rank("厅级").key_help, cadres.rank("厅级").contact) == (4, 3)
        assert (cadres.rank("处级").key_help, cadres.rank("处级").contact) == (3, 4)
        assert cadres.head_count() == cadres.stated_total == 48

    def test_stated_totals_kept_as_stated(self, plan):
        """C09's stated 153/183/336 are kept although the quotas give 158/178."""
        cadres = plan.cadres
        assert (cadres.stated_visited, cadres.stated_key_help, cadres.stated_contact) == (336, 153, 183)
        assert cadres.quota_totals() == {"key_help": 158, "contact": 178}
        assert plan.commitment("C09").target == "core.pairing_totals"

    def test_unknown_rank(self, plan):
        """Asking for a rank the plan lacks raises PlanError naming it."""
        with pytest.raises(PlanError, match="科级"):
            plan.cadres.rank("科级")

    def test_commitments_c01_to_c37_in_order(self, plan):
        """The plan has exactly C01..C37, in order, each with titles and a namespaced target."""
        assert [c.id for c in plan.commitments] == [f"C{i:02d}" for i in range(1, 38)]
        for c in plan.commitments:
            assert c.title_zh and c.title_en and c.section, c.id
            assert c.measurable_as_zh and c.measurable_as_en, c.id
            assert "." in c.target, c.id

    def test_targets(self, plan):
        """Targets are named as chosen for PLAN.md's measures."""
        targets = {c.id: c.target for c in plan.commitments}
        assert targets["C01"] == "core.roles"
        assert targets["C02"] == "funding.budget_per_year"
        assert targets["C03"] == "core.meetings_per_year"
        assert targets["C08"] == "core.pairing_quota"
        assert targets["C10"] == "core.visit_campaign"
        assert targets["C23"] == "education.trainees_per_school"
        assert targets["C29"] == "funding.study_aid"
        assert targets["C32"] == "psychology.counselling_coverage"
        assert targets["C35"] == "core.not_measurable"

    def test_c02_budget(self, plan):
        """C02 asks at least 400,000 yuan (integer fen) in each year 2015-2019."""
        c = plan.commitment("C02")
        assert c.params["min_amount_fen"] == 40000000
        assert list(c.params["years"]) == [2015, 2016, 2017, 2018, 2019]
        assert c.section == "五" and c.see_also == ("六(七)",)

    def test_small_params(self, plan):
        """C03, C04, C05 and C21 carry their bounds."""
        assert plan.commitment("C03").params["min_per_year"] == 2
        assert plan.commitment("C04").params["min_per_year"] == 2
        # 1 to 2 projects (the seed), each of at least 50,000 yuan (the plan office's choice).
        assert dict(plan.commitment("C05").params) == {"min": 1, "max": 2, "min_amount_fen": 5_000_000}
        c21 = plan.commitment("C21").params
        assert (c21["min_skills"], c21["max_skills"]) == (1, 2)

    def test_c10_dates(self, plan):
        """C10's deadlines are TOML dates and the revisit rate is once a year."""
        c = plan.commitment("C10")
        assert c.section == "六(一)"
        assert c.params["pairing_by"] == dt.date(2015, 8, 31)
        assert c.params["first_round_by"] == dt.date(2015, 10, 31)
        assert c.params["revisit_per_year"] == 1

    def test_education_params(self, plan):
        """C23, C24, C25 and C26 name the schools, subjects and team bounds."""
        assert list(plan.commitment("C23").params["schools"]) == ["者海镇一中", "拖木村小学"]
        assert list(plan.commitment("C24").params["subjects"]) == ["语文", "数学", "英语"]
        assert list(plan.commitment("C25").params["host_schools"]) == ["会泽一中", "者海镇一中"]
        c26 = plan.commitment("C26").params
        assert (c26["min_teams"], c26["max_teams"]) == (3, 5)
        assert list(c26["vacations"]) == ["winter", "summer"]

    def test_yearly_deadlines(self, plan):
        """C29 is due 08-31 each year; C30 and C31 before the Spring Festival."""
        assert plan.commitment("C29").params["due"] == "08-31"
        assert plan.commitment("C30").params["before"] == "spring_festival"
        assert plan.commitment("C31").params["before"] == "spring_festival"
        assert list(plan.commitment("C32").params["groups"]) == ["留守儿童", "空巢老人"]

    def test_c37_exit_date(self, plan):
        """C37 is due by the end of 2019."""
        c = plan.commitment("C37")
        assert c.params["by"] == dt.date(2019, 12, 31)
        assert c.section == "二"

    def test_packaged_plans(self):
        """The reference plan is listed among the packaged plans."""
        assert PLAN_NAME in packaged_plans()


class TestCommitment:
    def test_lookup_missing_id(self, plan):
        """A missing id raises PlanError (not KeyError) naming the id and the file."""
        with pytest.raises(PlanError, match=r'qjnu-tuomu\.toml: no commitment with id "C99"'):
            plan.commitment("C99")

    def test_params_read_only(self, plan):
        """Commitment params cannot be changed in place."""
        with pytest.raises(TypeError):
            plan.commitment("C02").params["min_amount_fen"] = 1  # type: ignore[index]

    def test_title_language(self):
        """title() gives English when asked and falls back to Chinese."""
        c = Commitment(id="X1", title_zh="中文", title_en="", section="一", target="core.x")
        assert c.title("en") == "中文"
        assert c.title("zh") == "中文"
        assert attrs.evolve(c, title_en="Chinese").title("en") == "Chinese"

    def test_hashable(self, plan):
        """Plans and commitments are hashable frozen values."""
        assert hash(plan) == hash(load_plan(PLAN_NAME))
        assert len({plan.commitment("C01"), plan.commitment("C01")}) == 1


class TestToDict:
    def test_json_serialisable(self, plan):
        """to_dict() survives a JSON round trip unchanged."""
        d = plan.to_dict()
        assert json.loads(json.dumps(d, ensure_ascii=False)) == d

    def test_dates_iso(self, plan):
        """Dates become ISO 8601 strings, calendar years become string keys."""
        d = plan.to_dict()
        assert d["period_start"] == "2015-09-01"
        assert d["issued"] == "2015-10-23"
        c10 = next(c for c in d["commitments"] if c["id"] == "C10")
        assert c10["params"]["first_round_by"] == "2015-10-31"
        assert d["calendar"]["spring_festival"]["2016"] == "2016-02-08"

    def test_content(self, plan):
        """to_dict() holds the commitments and profile, but not the raw data or paths."""
        d = plan.to_dict()
        assert len(d["commitments"]) == 37
        assert d["villages"][0]["profile"]["net_income_per_capita_fen"] == 267000
        assert d["cadres"]["ranks"][0]["rank"] == "厅级"
        assert not {"data", "origin", "source_path"} & d.keys()


class TestLoadPlan:
    def test_by_name_and_by_path_equal(self, plan):
        """Loading by name, by path string and by Path gives equal plans."""
        path = plan.source_path
        assert path is not None and path.name == "qjnu-tuomu.toml"
        assert load_plan(str(path)) == plan
        assert load_plan(path) == plan
        assert Plan.from_path(path) == plan

    def test_data_kept(self, plan):
        """The raw parsed file stays available as Plan.data."""
        assert plan.data["plan"]["name"] == PLAN_NAME
        assert plan.data["format_version"] == 1

    def test_plugin_section(self, tmp_path):
        """A plugin's [plugins.NAME] table is exposed as Plan.plugins."""
        path = tmp_path / "p.toml"
        path.write_text(MINIMAL + '\n[plugins.education]\nterm = "spring"\n', encoding="utf-8")
        assert load_plan(path).plugins["education"]["term"] == "spring"

    def test_unknown_name(self):
        """An unknown plan name raises PlanError listing the packaged plans."""
        with pytest.raises(PlanError, match='no packaged plan named "nowhere".*qjnu-tuomu'):
            load_plan("nowhere")

    def test_missing_file(self, tmp_path):
        """A missing file raises PlanError naming it."""
        path = tmp_path / "absent.toml"
        with pytest.raises(PlanError, match="absent.toml: cannot read plan"):
            load_plan(str(path))

    def test_from_toml_label(self):
        """from_toml names "<string>" in messages unless told a source."""
        with pytest.raises(PlanError, match=r"^<string>: plan: missing required key"):
            Plan.from_toml("")
        with pytest.raises(PlanError, match=r"^x\.toml: plan: missing required key"):
            Plan.from_toml("", source="x.toml")

    def test_bom_accepted(self, tmp_path):
        """A UTF-8 file with a byte-order mark loads."""
        path = tmp_path / "bom.toml"
        path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode("utf-8"))
        assert load_plan(path).name == "demo"


class TestValidation:
    def test_minimal_is_valid(self, tmp_path):
        """The minimal plan used below loads, with defaults for optional keys."""
        path = tmp_path / "demo.toml"
        path.write_text(MINIMAL, encoding="utf-8")
        plan = Plan.from_path(path)
        assert [c.id for c in plan.commitments] == ["C01", "C02"]
        assert plan.commitment("C01").params == {}
        assert plan.issued is None and plan.cadres.ranks == ()

    def test_duplicate_id(self, tmp_path):
        """A repeated commitment id is named with its index and the file."""
        label, msg = plan_error(tmp_path, MINIMAL.replace('id = "C02"', 'id = "C01"'))
        assert msg == f'{label}: commitments[1].id: duplicate id "C01" (first at commitments[0])'

    def test_missing_key(self, tmp_path):
        """A missing required key is named by its full path."""
        label, msg = plan_error(tmp_path, MINIMAL.replace('target = "funding.budget"\n', ""))
        assert msg == f"{label}: commitments[1].target: missing required key"

    def test_missing_plan_name(self, tmp_path):
        """A missing plan.name is reported."""
        label, msg = plan_error(tmp_path, MINIMAL.replace('name = "demo"\n', ""))
        assert msg == f"{label}: plan.name: missing required key"

    def test_float_money(self, tmp_path):
        """Money given as a float is refused, naming the key."""
        label, msg = plan_error(tmp_path, MINIMAL.replace("amount_fen = 100", "amount_fen = 100.5"))
        assert msg.startswith(f"{label}: commitments[1].params.amount_fen: money must be an integer")
        assert "100.5" in msg

    def test_float_money_anywhere(self, tmp_path):
        """A _fen key outside commitments is checked too."""
        text = MINIMAL + "\n[plugins.funding]\nreserve_fen = 1.0\n"
        label, msg = plan_error(tmp_path, text)
        assert msg.startswith(f"{label}: plugins.funding.reserve_fen: money must be")

    def test_bad_toml(self, tmp_path):
        """Unparseable TOML names the file and the line."""
        label, msg = plan_error(tmp_path, MINIMAL.replace('title_zh = "示例方案"', "title_zh = = 1"))
        assert msg.startswith(f"{label}: invalid TOML: ")
        assert "line 3" in msg and "title_zh = = 1" in msg

    def test_end_before_start(self, tmp_path):
        """A period ending before it starts is refused."""
        label, msg = plan_error(tmp_path, MINIMAL.replace("end = 2017-12-31", "end = 2015-12-31"))
        assert msg == f"{label}: plan.period.end: 2015-12-31 is before plan.period.start 2016-01-01"

    def test_bad_id(self, tmp_path):
        """An id not in the capitals-then-digits style is refused."""
        label, msg = plan_error(tmp_path, MINIMAL.replace('id = "C02"', 'id = "c-2"'))
        assert msg.startswith(f'{label}: commitments[1].id: "c-2" is not a commitment id')

    def test_other_prefixes_allowed(self, tmp_path):
        """Other units may number commitments with their own prefixes."""
        path = tmp_path / "p.toml"
        path.write_text(MINIMAL.replace('id = "C02"', 'id = "EDU_12"'), encoding="utf-8")
        assert load_plan(path).commitment("EDU_12").target == "funding.budget"

    def test_target_not_namespaced(self, tmp_path):
        """A target without a namespace is refused."""
        label, msg = plan_error(tmp_path, MINIMAL.replace('"funding.budget"', '"budget"'))
        assert msg.startswith(f'{label}: commitments[1].target: "budget" is not a namespaced target')

    def test_wrong_type(self, tmp_path):
        """A date given as a string is refused with the expected type."""
        label, msg = plan_error(tmp_path, MINIMAL.replace("end = 2017-12-31", 'end = "2017-12-31"'))
        assert msg.startswith(f"{label}: plan.period.end: expected a date")

    def test_datetime_is_not_a_date(self, tmp_path):
        """A TOML datetime where a date belongs is refused."""
        label, msg = plan_error(tmp_path, MINIMAL.replace("end = 2017-12-31", "end = 2017-12-31T08:00:00"))
        assert msg.startswith(f"{label}: plan.period.end: expected a date")

    def test_unknown_key_suggests(self, tmp_path):
        """A misspelt key is refused with the likely intended key."""
        label, msg = plan_error(tmp_path, MINIMAL.replace('title_zh = "承诺一"', 'tilte_zh = "承诺一"'))
        assert msg.startswith(f"{label}: commitments[0].tilte_zh: unknown key")
        assert 'did you mean "title_zh"' in msg

    def test_no_villages(self, tmp_path):
        """A plan must help at least one village."""
        text = MINIMAL.replace('[[plan.villages]]\ncode = "530000000000"\nname_zh = "示例村"\n', "")
        label, msg = plan_error(tmp_path, text)
        assert msg == f"{label}: plan.villages: missing required key"

    def test_calendar_year_mismatch(self, tmp_path):
        """A calendar date filed under the wrong year is refused."""
        label, msg = plan_error(tmp_path, MINIMAL + "\n[calendar.spring_festival]\n2016 = 2017-01-28\n")
        assert msg == f"{label}: calendar.spring_festival.2016: date 2017-01-28 is not in 2016"

    def test_negative_count(self, tmp_path):
        """A negative cadre head count is refused."""
        text = MINIMAL + '\n[[cadres.ranks]]\nrank = "厅级"\ncount = -1\n'
        label, msg = plan_error(tmp_path, text)
        assert msg == f"{label}: cadres.ranks[0].count: must not be negative, got -1"

    def test_newer_format(self, tmp_path):
        """A plan file of a newer format version is refused."""
        label, msg = plan_error(tmp_path, "format_version = 2\n" + MINIMAL)
        assert msg == f"{label}: format_version: this fupin reads format 1, not 2"


class TestSpringFestival:
    def test_dates(self, plan):
        """The reference calendar has the Spring Festival for 2015..2021."""
        expected = {
            2015: dt.date(2015, 2, 19),
            2016: dt.date(2016, 2, 8),
            2017: dt.date(2017, 1, 28),
            2018: dt.date(2018, 2, 16),
            2019: dt.date(2019, 2, 5),
            2020: dt.date(2020, 1, 25),
            2021: dt.date(2021, 2, 12),
        }
        assert {y: plan.spring_festival(y) for y in expected} == expected
        assert dict(plan.calendar["spring_festival"]) == expected

    def test_missing_year(self, plan):
        """A year the table lacks raises PlanError naming the year."""
        with pytest.raises(PlanError, match="calendar.spring_festival: no date for 2030"):
            plan.spring_festival(2030)

    def test_no_calendar(self, tmp_path):
        """A plan without the table raises PlanError, not KeyError."""
        path = tmp_path / "p.toml"
        path.write_text(MINIMAL, encoding="utf-8")
        with pytest.raises(PlanError, match="spring_festival"):
            load_plan(path).spring_festival(2016)


class TestRenderPlan:
    def test_zh(self, plan):
        """The Chinese rendering has the title, every id and every Chinese title."""
        text = render_plan(plan)
        assert plan.title_zh in text
        assert "曲靖师范学院" in text and "2015-09-01" in text and "2019-12-31" in text
        for c in plan.commitments:
            assert c.id in text and c.title_zh in text

    def test_en(self, plan):
        """lang="en" uses the English titles."""
        text = render_plan(plan, lang="en")
        assert plan.title_en in text
        for c in plan.commitments:
            assert c.id in text and c.title_en in text
        assert plan.commitment("C02").title_zh not in text

    def test_sections(self, plan):
        """Profile, cadres and stated totals appear."""
        text = render_plan(plan)
        assert "2,670.00 元" in text and "大沟边、发和落、拖木、小瓦窑" in text
        assert "厅级" in text and "153" in text and "183" in text and "336" in text
        assert "min_amount_fen=40000000" in text and "530326106200" in text

    @pytest.mark.parametrize("lang", ["zh", "en"])
    def test_columns_aligned(self, plan, lang):
        """Every commitment row puts its target at the same display column."""
        ids = tuple(f"  {c.id} " for c in plan.commitments)
        rows = [line for line in render_plan(plan, lang=lang).splitlines() if line.startswith(ids)]
        assert len(rows) == 37
        columns = {display_width(row[: row.index(c.target)]) for row, c in zip(rows, plan.commitments)}
        assert len(columns) == 1

    def test_no_trailing_spaces(self, plan):
        """No rendered line ends with spaces."""
        assert all(line == line.rstrip() for line in render_plan(plan).splitlines())


class TestDisplayWidth:
    def test_widths(self):
        """ASCII counts one column, CJK two, combining marks none."""
        assert display_width("abc") == 3
        assert display_width("拖木村") == 6
        assert display_width("C01 五") == 6
        assert display_width("e\u0301") == 1

    def test_pad(self):
        """pad fills to display columns, left or right."""
        assert pad("村", 4) == "村  "
        assert pad("村", 4, align="right") == "  村"
        assert pad("abcdef", 3) == "abcdef"
