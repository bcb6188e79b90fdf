"""Tests for fupin.vocab (value lists and poverty lines as data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fupin.errors import NotFound, ValidationError
from fupin.vocab import PovertyLine, Term, Vocabulary, normalize_key

LISTS = [
    "ident_standard", "household_attribute", "poverty_cause", "household_status", "monitor_type",
    "risk_status", "relation", "sex", "ethnicity", "education", "student_status", "health", "labour",
    "work_status", "helper_unit_level", "housing_structure", "road_access", "main_fuel", "water_type",
    "person_tag", "area_level", "unit_kind", "cadre_rank",
]  # fmt: skip

PROVINCE = """
[[housing_structure]]
code = "stone"
zh = "石头房"
en = "stone"

[[housing_structure]]
code = "earth_wood"
zh = "土木结构"
en = "earth_wood"
aliases = ["土掌房"]

[[village_industry]]
code = "blueberry"
zh = "蓝莓"
en = "blueberry"

[[poverty_lines."530326"]]
year = 2017
yuan = 3200
"""


@pytest.fixture
def vocab() -> Vocabulary:
    return Vocabulary.default()


class TestNormalizeKey:
    def test_full_width_brackets_and_spaces(self) -> None:
        """Full-width brackets and spaces do not matter."""
        assert normalize_key("乡（镇） 内务工") == normalize_key("乡(镇)内务工")

    def test_case(self) -> None:
        """Case of ASCII letters does not matter."""
        assert normalize_key("ＭＡＬＥ") == normalize_key("male") == "male"


class TestPackagedLists:
    def test_every_list_exists_and_is_non_empty(self, vocab: Vocabulary) -> None:
        """Each list the model needs is present and has entries."""
        assert set(LISTS) <= set(vocab.names())
        assert all(vocab.terms(name) for name in LISTS)

    def test_default_is_cached(self) -> None:
        """default() loads the packaged file once."""
        assert Vocabulary.default() is Vocabulary.default()

    def test_poverty_causes(self, vocab: Vocabulary) -> None:
        """The 13 poverty causes are there in the national system's order."""
        assert [t.zh for t in vocab.terms("poverty_cause")] == [
            "因病", "因残", "因学", "因灾", "缺土地", "缺水", "缺技术", "缺劳力", "缺资金",
            "交通条件落后", "自身发展动力不足", "因婚", "其他",
        ]  # fmt: skip

    def test_household_attribute_union(self, vocab: Vocabulary) -> None:
        """The 2014 and 2016 household attributes are all present, with 五保户 marked retired."""
        zh = {t.zh: t for t in vocab.terms("household_attribute")}
        assert {"一般贫困户", "低保户", "五保户", "低保贫困户", "特困供养贫困户"} <= set(zh)
        assert zh["五保户"].retired and not zh["特困供养贫困户"].retired

    def test_ethnicity_codes_in_gb3304_order(self, vocab: Vocabulary) -> None:
        """Ethnicity codes run 01..56 then 97, 98, with the right spellings in the right places."""
        terms = vocab.terms("ethnicity")
        assert [t.code for t in terms] == [f"{i:02d}" for i in range(1, 57)] + ["97", "98"]
        by_code = {t.code: t.zh for t in terms}
        assert (by_code["01"], by_code["07"], by_code["11"], by_code["20"], by_code["56"]) == (
            "汉族", "彝族", "满族", "傈僳族", "基诺族",
        )  # fmt: skip
        assert "僳僳族" not in by_code.values()

    def test_misspelt_lisu_maps_to_correct_label(self, vocab: Vocabulary) -> None:
        """Exports that misspell 傈僳族 as 僳僳族 still import, under the correct label."""
        assert vocab.check("ethnicity", "僳僳族") == "傈僳族"

    def test_relation(self, vocab: Vocabulary) -> None:
        """There are 21 relations; 户主 is code 01 and 其他 is 99."""
        terms = vocab.terms("relation")
        assert len(terms) == 21
        assert (terms[0].code, terms[0].zh, terms[-1].code, terms[-1].zh) == ("01", "户主", "99", "其他")

    def test_area_levels_in_depth_order(self, vocab: Vocabulary) -> None:
        """Area levels run province..group, and position gives the depth."""
        assert [t.code for t in vocab.terms("area_level")] == ["province", "city", "county", "town", "village", "group"]
        assert vocab.position("area_level", "行政村") - vocab.position("area_level", "town") == 1

    def test_labour_has_weak_labour(self, vocab: Vocabulary) -> None:
        """The later labour value 弱劳动力或半劳动力 is included."""
        assert vocab.check("labour", "半劳动力") == "弱劳动力或半劳动力"

    def test_housing_structure_union(self, vocab: Vocabulary) -> None:
        """Housing has the Yunnan list, the national list (as entries or aliases) and 土木结构."""
        for value in ["杈杈房、茅草房", "钢筋水泥房", "钢筋混凝土", "砖瓦砖木", "竹草土坯", "土木结构", "无住房"]:
            vocab.check("housing_structure", value)
        assert vocab.check("housing_structure", "砖混") == "砖混房"

    def test_cadre_rank_and_sex_en(self, vocab: Vocabulary) -> None:
        """English labels are the short identifiers the model uses."""
        assert [t.en for t in vocab.terms("cadre_rank")] == ["bureau", "division", "section", "staff"]
        assert [(t.code, t.zh, t.en) for t in vocab.terms("sex")] == [("1", "男", "male"), ("2", "女", "female")]
        assert vocab.label("person_tag", "留守儿童", lang="en") == "left_behind_child"


class TestCheck:
    @pytest.mark.parametrize(
        ("list_name", "value", "expected"),
        [
            ("sex", "男", "男"),
            ("sex", "1", "男"),
            ("sex", 2, "女"),
            ("sex", " Female ", "女"),
            ("relation", "01", "户主"),
            ("relation", "儿子", "之子"),
            ("household_status", "脱贫", "已脱贫(享受政策)"),
            ("household_status", "已脱贫（享受政策）", "已脱贫(享受政策)"),
            ("household_status", "exited_with_policy", "已脱贫(享受政策)"),
            ("work_status", "乡(镇)内务工", "乡（镇）内务工"),
            ("work_status", "乡（镇）内务工", "乡（镇）内务工"),
            ("ethnicity", "０７", "彝族"),
            ("ethnicity", "Zang", "藏族"),
            ("unit_kind", "university", "高校"),
            ("cadre_rank", "处级干部", "处级"),
        ],
    )
    def test_resolves_to_canonical_zh(self, vocab: Vocabulary, list_name: str, value: object, expected: str) -> None:
        """Codes, labels in either language and aliases all give the canonical Chinese label."""
        assert vocab.check(list_name, value) == expected

    def test_unknown_value_refused(self, vocab: Vocabulary) -> None:
        """An unknown value raises ValidationError naming the field, the value and some allowed values."""
        with pytest.raises(ValidationError) as excinfo:
            vocab.check("sex", "未知", field="members.sex")
        (problem,) = excinfo.value.problems
        assert (problem.field, problem.value) == ("members.sex", "未知")
        assert problem.reason.index("男、女") < problem.reason.index("male, female")

    def test_field_defaults_to_list_name(self, vocab: Vocabulary) -> None:
        """Without a field the problem names the list."""
        with pytest.raises(ValidationError) as excinfo:
            vocab.check("poverty_cause", "因懒")
        assert excinfo.value.problems[0].field == "poverty_cause"

    def test_long_list_shows_a_few(self, vocab: Vocabulary) -> None:
        """A long list shows a few allowed values and the total, not all 58."""
        with pytest.raises(ValidationError) as excinfo:
            vocab.check("ethnicity", "火星族")
        reason = excinfo.value.problems[0].reason
        assert "汉族" in reason and "基诺族" not in reason and "58" in reason

    @pytest.mark.parametrize("value", [None, "", "  ", True, 1.0])
    def test_missing_or_wrong_type(self, vocab: Vocabulary, value: object) -> None:
        """None, blanks and non-str/int values are refused, not crashed on."""
        with pytest.raises(ValidationError):
            vocab.check("sex", value)

    def test_unknown_list(self, vocab: Vocabulary) -> None:
        """An unknown list name is a KeyError that names it and the known lists."""
        with pytest.raises(KeyError, match="unknown vocabulary list 'colour'.*sex"):
            vocab.check("colour", "red")

    def test_retired_value_still_accepted(self, vocab: Vocabulary) -> None:
        """Old records with a retired value still load."""
        assert vocab.check("household_attribute", "五保户") == "五保户"


class TestLabel:
    def test_en_and_zh(self, vocab: Vocabulary) -> None:
        """label gives either language for any spelling."""
        assert vocab.label("cadre_rank", "厅级", lang="en") == "bureau"
        assert vocab.label("cadre_rank", "bureau") == "厅级"

    def test_bad_lang(self, vocab: Vocabulary) -> None:
        """Only zh and en are languages."""
        with pytest.raises(ValueError, match="lang"):
            vocab.label("sex", "1", lang="fr")  # type: ignore[arg-type]


class TestExtend:
    def test_adds_value_without_changing_default(self, vocab: Vocabulary) -> None:
        """A province's new value is accepted by the extended vocabulary only."""
        yunnan = vocab.extend(PROVINCE)
        assert yunnan.check("housing_structure", "石头房") == "石头房"
        assert vocab.find("housing_structure", "石头房") is None
        assert Vocabulary.default().find("housing_structure", "stone") is None

    def test_appends_in_order(self, vocab: Vocabulary) -> None:
        """A new code goes at the end of its list."""
        terms = vocab.extend(PROVINCE).terms("housing_structure")
        assert terms[-1].code == "stone"
        assert [t.code for t in terms[:-1]] == [t.code for t in vocab.terms("housing_structure")]

    def test_same_code_adds_aliases(self, vocab: Vocabulary) -> None:
        """An entry with an existing code keeps the old aliases and adds the new ones."""
        yunnan = vocab.extend(PROVINCE)
        assert yunnan.check("housing_structure", "土掌房") == "土木结构"
        assert yunnan.check("housing_structure", "土木") == "土木结构"

    def test_new_list(self, vocab: Vocabulary) -> None:
        """A new list name makes a new list."""
        yunnan = vocab.extend(PROVINCE)
        assert yunnan.names()[-1] == "village_industry"
        assert yunnan.check("village_industry", "blueberry") == "蓝莓"
        assert "village_industry" not in vocab.names()

    def test_from_path_and_mapping(self, vocab: Vocabulary, tmp_path: Path) -> None:
        """A file path and a parsed mapping extend the same way as TOML text."""
        path = tmp_path / "yunnan.toml"
        path.write_text(PROVINCE, encoding="utf-8")
        mapping = {"sex": [{"code": "9", "zh": "未说明", "en": "unstated"}]}
        assert vocab.extend(path).check("housing_structure", "stone") == "石头房"
        assert vocab.extend(str(path)).check("housing_structure", "stone") == "石头房"
        assert vocab.extend(mapping).check("sex", "9") == "未说明"

    def test_extend_with_vocabulary(self, vocab: Vocabulary) -> None:
        """Another Vocabulary can be merged in."""
        extra = Vocabulary.from_toml(PROVINCE)
        assert vocab.extend(extra).check("village_industry", "蓝莓") == "蓝莓"

    def test_ambiguous_alias_refused(self, vocab: Vocabulary) -> None:
        """An alias that already names another entry of the list is refused."""
        clash = {"sex": [{"code": "9", "zh": "未说明", "en": "unstated", "aliases": ["男性"]}]}
        with pytest.raises(ValidationError, match="男性"):
            vocab.extend(clash)

    @pytest.mark.parametrize(
        "text",
        [
            '[[sex]]\ncode = "9"\nzh = "未说明"\n',  # no en
            '[[sex]]\ncode = "9"\nzh = "未说明"\nen = "x"\nalias = ["y"]\n',  # misspelt key
            'sex = "男"\n',  # not an array of tables
            '[[poverty_lines.national]]\nyear = 2021\nyuan = "4000"\n',  # yuan not an int
            '[[poverty_lines.national]]\nyear = 2021\nyuan = 4000\napproximate = "yes"\n',  # not a bool
            "[[sex]\n",  # not TOML
        ],
    )
    def test_format_errors(self, vocab: Vocabulary, text: str) -> None:
        """Malformed province files are refused with a ValidationError."""
        with pytest.raises(ValidationError):
            vocab.extend(text)

    def test_missing_file(self, vocab: Vocabulary, tmp_path: Path) -> None:
        """A path that does not exist is a ValidationError, not an OSError."""
        with pytest.raises(ValidationError, match="cannot read"):
            vocab.extend(tmp_path / "missing.toml")


class TestPovertyLines:
    @pytest.mark.parametrize(
        ("year", "yuan"),
        [(2010, 2300), (2011, 2536), (2012, 2625), (2013, 2736), (2014, 2800), (2015, 2855), (2016, 2952),
         (2017, 2952), (2018, 2995), (2019, 3218), (2020, 4000)],
    )  # fmt: skip
    def test_national_line(self, vocab: Vocabulary, year: int, yuan: int) -> None:
        """The national line for every year 2010-2020 matches DOMAIN.md 2.3."""
        assert vocab.poverty_line(year) == yuan
        assert vocab.poverty_line_fen(year) == yuan * 100

    def test_approximate_flags(self, vocab: Vocabulary) -> None:
        """Exactly 2017, 2018 and 2020 are marked approximate."""
        approximate = {y for y in range(2010, 2021) if vocab.poverty_line_entry(y).approximate}
        assert approximate == {2017, 2018, 2020}

    def test_override_and_fallback(self, vocab: Vocabulary) -> None:
        """A county's own line applies in that county and year; other years and places use the national line."""
        yunnan = vocab.extend(PROVINCE)
        assert yunnan.poverty_line(2017, "530326") == 3200
        assert yunnan.poverty_line_fen(2017, "530326") == 320_000
        assert yunnan.poverty_line(2016, "530326") == 2952
        assert yunnan.poverty_line(2017, "530302") == 2952
        assert vocab.poverty_line(2017, "530326") == 2952

    def test_village_code_uses_county_override(self, vocab: Vocabulary) -> None:
        """A 12-digit village code falls back to its county's line before the national one."""
        line = vocab.extend(PROVINCE).poverty_line_entry(2017, "530326106200")
        assert line == PovertyLine(2017, 3200, "530326")

    def test_province_override_reaches_counties(self, vocab: Vocabulary) -> None:
        """A province line applies to a county code within it."""
        province = vocab.extend({"poverty_lines": {"530000": [{"year": 2019, "yuan": 3500}]}})
        assert province.poverty_line(2019, "530326") == 3500
        assert province.poverty_line(2019, "520326") == 3218

    def test_unknown_year(self, vocab: Vocabulary) -> None:
        """A year with no line is NotFound, with the years that exist."""
        with pytest.raises(NotFound, match="2021.*2010–2020"):
            vocab.poverty_line(2021)


class TestTerm:
    def test_keys(self) -> None:
        """A term's spellings are its code, labels and aliases."""
        assert Term("1", "男", "male", ("M",)).keys() == ("1", "男", "male", "M")
