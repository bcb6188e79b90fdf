"""Tests for fupin.questionnaires: the packaged forms, cleaning answers, criteria and loading files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fupin.errors import NotFound, PlanError, ValidationError
from fupin.questionnaires import (
    QUESTION_TYPES,
    Questionnaire,
    available_questionnaires,
    load_questionnaire,
)

HOUSEHOLD = "yunnan-household"
VILLAGE = "yunnan-village"

# A small valid definition; the loading tests break one thing in it at a time.
MINIMAL = """\
format_version = 1

[questionnaire]
name = "{name}"
version = {version}
scope = "household"
title_zh = "示例问卷"

[[sections]]
id = "main"
title_zh = "主要"

[[questions]]
id = "size"
number = "1"
section = "main"
text_zh = "家庭人口"
type = "int"
min = 1

[[questions]]
id = "kind"
number = "2"
section = "main"
text_zh = "属性"
type = "choice"
choices = ["甲", "乙"]

[[questions]]
id = "dilapidated"
number = "3"
section = "main"
text_zh = "是否危房"
type = "bool"

[[criteria]]
id = "safe_housing"
label_zh = "住房安全有保障"
question = "dilapidated"
pass_when = false
"""


def write(folder: Path, file_name: str, text: str) -> Path:
    path = folder / file_name
    path.write_text(text, encoding="utf-8")
    return path


def minimal(name: str = "demo", version: int = 1) -> str:
    return MINIMAL.format(name=name, version=version)


def problem_fields(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return sorted(p.field for p in exc.value.problems)


@pytest.fixture(scope="module")
def household() -> Questionnaire:
    return load_questionnaire(HOUSEHOLD)


@pytest.fixture(scope="module")
def village() -> Questionnaire:
    return load_questionnaire(VILLAGE)


class TestPackaged:
    def test_both_definitions_load(self, household: Questionnaire, village: Questionnaire) -> None:
        """The packaged household and village forms load, with their keys and scopes."""
        assert (household.key, household.scope) == ("yunnan-household@1", "household")
        assert (village.key, village.scope) == ("yunnan-village@1", "village")
        assert household.title_zh == "云南省贫困户访谈问卷"
        assert "云南省遍访贫困户访谈问卷" in household.also_zh
        assert village.title_zh == "云南省贫困村访谈问卷"
        assert {(HOUSEHOLD, 1), (VILLAGE, 1)} <= set(available_questionnaires())

    def test_household_has_questions_1_to_21(self, household: Questionnaire) -> None:
        """Every printed question number 1..21 is there, each with the expected question ids."""
        by_number: dict[str, list[str]] = {}
        for q in household.questions:
            by_number.setdefault(q.number, []).append(q.id)
        assert {str(n) for n in range(1, 22)} <= set(by_number)
        assert by_number["1"] == ["attribute"]
        assert by_number["4"] == [
            "labour_edu_none", "labour_edu_primary", "labour_edu_junior", "labour_edu_senior", "labour_edu_vocational",
        ]
        assert by_number["8"] == ["land_arable", "land_forest", "land_orchard", "land_pasture", "land_water"]
        assert by_number["9"] == ["drinking_water_difficult"]
        assert by_number["21"] == ["income_sources"]
        assert {household.question(i).unit for i in by_number["8"]} == {"亩"}

    def test_household_choices_as_printed(self, household: Questionnaire) -> None:
        """Choice lists are kept in printed order."""
        assert household.question("attribute").choices == ("一般贫困户", "低保户", "五保户", "低保贫困户")
        assert household.question("water_types").choices == ("自来水", "深井水", "水窖水", "地表水", "其他")
        assert household.question("road_access").choices == (
            "没有路", "通毛路(泥巴路)", "通砂石路", "通水泥路", "通沥青路",
        )
        assert household.question("house_structure").choices == (
            "无住房", "杈杈房、茅草房", "木板房", "砖混房", "钢筋水泥房", "危房", "其他",
        )
        assert household.question("main_fuel").choices == ("柴草", "干畜粪", "煤炭", "清洁能源", "其他")
        assert household.question("income_sources").type == "multi"
        assert household.question("gross_income").type == "yuan"

    def test_exit_section_is_a_fupin_addition(self, household: Questionnaire) -> None:
        """The exit-check section is marked as fupin's and holds the five bool questions; printed sections are not."""
        sections = {s.id: s for s in household.sections}
        assert sections["exit_check"].fupin_addition
        assert not any(sections[s].fupin_addition for s in ("header", "members", "conditions", "income"))
        exit_ids = [q.id for q in household.section_questions("exit_check")]
        assert exit_ids == [
            "food_clothing_ok", "compulsory_education_ok", "medical_insurance_ok", "housing_safe", "safe_water_ok",
        ]
        assert {household.question(i).type for i in exit_ids} == {"bool"}

    def test_household_criteria(self, household: Questionnaire) -> None:
        """The five exit criteria each read their own bool question and pass on 是."""
        assert {c.id: (c.question, c.pass_when) for c in household.criteria} == {
            "food_clothing": ("food_clothing_ok", True),
            "compulsory_education": ("compulsory_education_ok", True),
            "basic_medical": ("medical_insurance_ok", True),
            "safe_housing": ("housing_safe", True),
            "safe_water": ("safe_water_ok", True),
        }

    @pytest.mark.parametrize("name", [HOUSEHOLD, VILLAGE])
    def test_every_criterion_points_at_a_bool_question(self, name: str) -> None:
        """No packaged criterion reads a question that is not a bool."""
        q = load_questionnaire(name)
        assert all(q.question(c.question).type == "bool" for c in q.criteria)

    @pytest.mark.parametrize("name", [HOUSEHOLD, VILLAGE])
    def test_definitions_are_consistent(self, name: str) -> None:
        """Ids are unique, types known, choices only on choice questions, sections all used."""
        q = load_questionnaire(name)
        ids = [x.id for x in q.questions]
        assert len(ids) == len(set(ids))
        assert {x.type for x in q.questions} <= set(QUESTION_TYPES)
        assert all(bool(x.choices) == (x.type in ("choice", "multi")) for x in q.questions)
        assert {s.id for s in q.sections} == {x.section for x in q.questions}

    def test_village_items(self, village: Questionnaire) -> None:
        """The village form carries the §1.4 indicators with their units."""
        for qid, unit in [
            ("total_households", "户"), ("total_population", "人"), ("poor_households", "户"),
            ("poor_population", "人"), ("labour_force", "人"), ("migrant_workers", "人"),
            ("arable_land", "亩"), ("irrigated_land", "亩"), ("net_income_per_capita", "元"),
            ("collective_income", "元"), ("water_difficult_households", "户"), ("power_households", "户"),
            ("dilapidated_households", "户"), ("medical_insured_people", "人"), ("pension_insured_people", "人"),
        ]:
            assert village.question(qid).unit == unit, qid
        assert {village.question(i).type for i in ("bus_service", "clinic", "culture_room", "broadband")} == {"bool"}
        assert village.criteria == ()

    def test_to_dict_is_json_ready(self, household: Questionnaire) -> None:
        """to_dict() survives a JSON round trip and has the file's shape."""
        data = json.loads(json.dumps(household.to_dict(), ensure_ascii=False))
        assert data["key"] == "yunnan-household@1"
        assert data["questionnaire"]["name"] == HOUSEHOLD
        assert len(data["questions"]) == len(household.questions)
        first = next(x for x in data["questions"] if x["id"] == "attribute")
        assert first["choices"] == ["一般贫困户", "低保户", "五保户", "低保贫困户"]
        assert first["required"] is True
        assert data["criteria"][0] == {
            "id": "food_clothing", "label_zh": "吃穿不愁", "label_en": "enough food and clothing",
            "question": "food_clothing_ok", "pass_when": True,
        }

    def test_question_lookup_refuses_unknown_id(self, household: Questionnaire) -> None:
        """question() raises NotFound naming the questionnaire."""
        with pytest.raises(NotFound, match="yunnan-household@1"):
            household.question("nope")


BASE = {"attribute": "一般贫困户", "household_size": 4}


class TestClean:
    def test_bool_from_chinese_and_english(self, household: Questionnaire) -> None:
        """是/否, 有/无, true/false (any width or case) become booleans; a bool stays itself."""
        got = household.clean(BASE | {
            "power": "是", "radio_tv": "否", "sanitary_toilet": "有", "house_dilapidated": "ＦＡＬＳＥ",
            "food_clothing_ok": True,
        })
        assert [got[k] for k in ("power", "radio_tv", "sanitary_toilet", "house_dilapidated", "food_clothing_ok")] == [
            True, False, True, False, True,
        ]

    def test_full_width_digits_and_units(self, household: Questionnaire) -> None:
        """Full-width digits are folded and a number may end with the question's unit."""
        got = household.clean({"attribute": "低保户", "household_size": "４", "land_arable": "３．５０亩",
                               "labour_force": " ２ 人"})
        assert got == {"attribute": "低保户", "household_size": 4, "land_arable": "3.5", "labour_force": 2}

    def test_yuan_become_fen(self, household: Questionnaire) -> None:
        """Yuan with thousands separators, full-width commas or as a float become exact integer fen."""
        assert household.clean(BASE | {"gross_income": "1,200.50"})["gross_income"] == 120050
        assert household.clean(BASE | {"gross_income": "１，２００元"})["gross_income"] == 120000
        assert household.clean(BASE | {"gross_income": 2670.5})["gross_income"] == 267050
        assert household.clean(BASE | {"gross_income": 3000})["gross_income"] == 300000

    @pytest.mark.parametrize("text", ["1,20", "12,00.5", "1.2.3", "12.345", "一千"])
    def test_malformed_amounts_are_refused(self, household: Questionnaire, text: str) -> None:
        """Commas not in thousands groups, three decimals and words are not amounts."""
        with pytest.raises(ValidationError) as exc:
            household.clean(BASE | {"gross_income": text})
        assert problem_fields(exc) == ["answers.gross_income"]

    def test_decimals_kept_exact(self, household: Questionnaire) -> None:
        """Decimal answers become their shortest exact text, never exponent notation."""
        got = household.clean(BASE | {"house_area": "120.50", "land_forest": 100, "land_pasture": 2.0,
                                      "land_water": "0.00"})
        assert (got["house_area"], got["land_forest"], got["land_pasture"], got["land_water"]) == (
            "120.5", "100", "2", "0",
        )

    def test_choice_labels_are_canonicalised(self, household: Questionnaire) -> None:
        """A choice is matched exactly, or after stripping and folding full-width brackets."""
        got = household.clean({"attribute": " 五保户 ", "household_size": 1, "road_access": "通毛路（泥巴路）",
                               "house_structure": "杈杈房、茅草房"})
        assert (got["attribute"], got["road_access"], got["house_structure"]) == (
            "五保户", "通毛路(泥巴路)", "杈杈房、茅草房",
        )

    def test_multi_in_definition_order(self, household: Questionnaire) -> None:
        """A multi answer, as a list or as 、-separated text, becomes distinct labels in definition order."""
        got = household.clean(BASE | {"water_types": "其他、自来水，自来水", "income_sources": ["外出务工", "种植"]})
        assert got["water_types"] == ["自来水", "其他"]
        assert got["income_sources"] == ["种植", "外出务工"]

    def test_dates(self, household: Questionnaire) -> None:
        """Dates as offices write them become ISO dates."""
        for text in ("2015-10-03", "2015/10/3", "2015年10月3日", "２０１５．１０．３"):
            assert household.clean(BASE | {"interview_date": text})["interview_date"] == "2015-10-03"

    def test_blank_answers_dropped_and_order_kept(self, household: Questionnaire) -> None:
        """Blank optional answers are dropped; the result follows the questionnaire's order."""
        got = household.clean({"needs_note": "  ", "power": None, "water_types": [], "household_size": "3",
                               "attribute": "低保户", "interviewer_name": " 张三 "})
        assert list(got) == ["interviewer_name", "attribute", "household_size"]
        assert got["interviewer_name"] == "张三"

    def test_clean_output_is_stable(self, household: Questionnaire) -> None:
        """Cleaning the canonical answers of non-money questions gives them back unchanged."""
        once = household.clean(BASE | {"land_arable": "３.50", "water_types": "地表水、自来水", "power": "是",
                                       "interview_date": "2016年1月2日"})
        assert household.clean(once) == once

    def test_collects_every_problem_at_once(self, household: Questionnaire) -> None:
        """Wrong types, bounds, choices and a missing required answer are reported together."""
        with pytest.raises(ValidationError) as exc:
            household.clean({
                "household_size": "0",              # below min 1
                "labour_force": "2.5",              # not whole
                "water_types": ["自来水", "河水"],   # not a choice
                "power": "maybe",                   # not yes/no
                "respondent_name": 42,              # not text
                "land_arable": True,                # not a number
                "road_access": "高速路",             # not a choice
            })                                      # and attribute (required) missing
        assert problem_fields(exc) == [
            "answers.attribute", "answers.household_size", "answers.labour_force", "answers.land_arable",
            "answers.power", "answers.respondent_name", "answers.road_access", "answers.water_types",
        ]
        reasons = {p.field: p.reason for p in exc.value.problems}
        assert reasons["answers.road_access"].endswith("/ not one of the choices")
        assert reasons["answers.attribute"] == "必答题未填写 / required answer missing"
        assert "less than the minimum 1" in reasons["answers.household_size"]
        assert exc.value.record == "yunnan-household@1"

    def test_refuses_unknown_key(self, household: Questionnaire) -> None:
        """An answer to a question the form does not have is refused, with a suggestion."""
        with pytest.raises(ValidationError) as exc:
            household.clean(BASE | {"atribute": "低保户"})
        assert problem_fields(exc) == ["answers.atribute"]
        assert 'did you mean "attribute"' in exc.value.problems[0].reason

    def test_village_answers(self, village: Questionnaire) -> None:
        """The village form cleans its own answers and requires its head counts."""
        got = village.clean({"total_households": "778", "total_population": 2996, "poverty_incidence": "12.5%",
                             "net_income_per_capita": "2670", "bus_service": "否"})
        assert got == {"total_households": 778, "total_population": 2996, "poverty_incidence": "12.5",
                       "net_income_per_capita": 267000, "bus_service": False}
        with pytest.raises(ValidationError) as exc:
            village.clean({"poverty_incidence": "120"})
        assert problem_fields(exc) == ["answers.poverty_incidence", "answers.total_households",
                                       "answers.total_population"]


class TestCriteria:
    def test_results_with_missing_answers(self, household: Questionnaire) -> None:
        """Each criterion is True/False from its answer, None when unanswered; other answers are ignored."""
        got = household.criteria_results({"food_clothing_ok": "是", "housing_safe": "否", "safe_water_ok": True,
                                          "household_size": "not read"})
        assert got == {"food_clothing": True, "compulsory_education": None, "basic_medical": None,
                       "safe_housing": False, "safe_water": True}

    def test_pass_when_false(self, tmp_path: Path) -> None:
        """A criterion with pass_when = false passes on 否."""
        write(tmp_path, "demo-v1.toml", minimal())
        q = load_questionnaire("demo", extra=[tmp_path])
        assert q.criteria_results({"dilapidated": "否"}) == {"safe_housing": True}
        assert q.criteria_results({"dilapidated": "是"}) == {"safe_housing": False}

    def test_unreadable_answer_is_refused(self, household: Questionnaire) -> None:
        """A criterion's answer that is not yes/no raises ValidationError naming the question."""
        with pytest.raises(ValidationError) as exc:
            household.criteria_results({"housing_safe": "还行"})
        assert problem_fields(exc) == ["answers.housing_safe"]


class TestLoading:
    def test_latest_version_is_chosen(self, tmp_path: Path) -> None:
        """An extra v2 of a packaged form is the default; v1 is still there by number and by key."""
        write(tmp_path, "yunnan-household-v2.toml", minimal(HOUSEHOLD, 2))
        assert (HOUSEHOLD, 2) in available_questionnaires(extra=[tmp_path])
        assert load_questionnaire(HOUSEHOLD, extra=[tmp_path]).version == 2
        assert load_questionnaire(HOUSEHOLD, 1, extra=[tmp_path]).title_zh == "云南省贫困户访谈问卷"
        assert load_questionnaire("yunnan-household@1", extra=[tmp_path]).version == 1
        assert load_questionnaire(HOUSEHOLD).version == 1

    def test_extra_file_path(self, tmp_path: Path) -> None:
        """extra may name a file as well as a directory."""
        path = write(tmp_path, "demo-v3.toml", minimal("demo", 3))
        assert load_questionnaire("demo", extra=[path]).key == "demo@3"

    def test_unknown_name_lists_available(self) -> None:
        """An unknown name raises NotFound listing what exists."""
        with pytest.raises(NotFound) as exc:
            load_questionnaire("guizhou-household")
        assert "yunnan-household@1" in str(exc.value)
        assert "yunnan-village@1" in str(exc.value)

    def test_unknown_version(self) -> None:
        """An unknown version raises NotFound listing the versions."""
        with pytest.raises(NotFound, match=r"versions: 1"):
            load_questionnaire(HOUSEHOLD, 9)

    @pytest.mark.parametrize(
        ("old", "new", "where"),
        [
            ('type = "choice"', 'type = "choise"', "questions[1].type: unknown type 'choise'"),
            ('id = "kind"', 'id = "size"', 'questions[1].id: duplicate question id "size"'),
            ('question = "dilapidated"', 'question = "gone"', 'criteria[0].question: no question "gone"'),
            ('question = "dilapidated"', 'question = "kind"', "criteria[0].question: \"kind\" is a choice question"),
            ('pass_when = false', 'pass_when = "no"', "criteria[0].pass_when: expected true or false"),
            ('min = 1', 'min = "1"', "questions[0].min: expected an integer"),
            ('choices = ["甲", "乙"]', 'choices = ["甲", "甲 "]', "questions[1].choices"),
            ('section = "main"\ntext_zh = "属性"', 'section = "other"\ntext_zh = "属性"', 'questions[1].section: no section "other"'),
            ('scope = "household"', 'scope = "town"', "questionnaire.scope: unknown scope 'town'"),
            ('format_version = 1', 'format_version = 2', "format_version: this fupin reads format 1, not 2"),
            ('number = "3"', 'number = "3"\ncolour = "red"', "questions[2].colour: unknown key"),
            ('title_zh = "示例问卷"', "", "questionnaire.title_zh: missing required key"),
        ],
    )
    def test_malformed_definition_names_file_and_key(self, tmp_path: Path, old: str, new: str, where: str) -> None:
        """A broken extra file raises PlanError naming the file, the key path and the reason."""
        text = minimal()
        assert old in text
        path = write(tmp_path, "demo-v1.toml", text.replace(old, new, 1))
        with pytest.raises(PlanError) as exc:
            load_questionnaire("demo", extra=[tmp_path])
        assert str(exc.value).startswith(f"{path}: ")
        assert where in str(exc.value)

    def test_invalid_toml(self, tmp_path: Path) -> None:
        """A file that is not TOML raises PlanError naming it."""
        path = write(tmp_path, "demo-v1.toml", "[questionnaire\n")
        with pytest.raises(PlanError, match="invalid TOML") as exc:
            load_questionnaire("demo", extra=[tmp_path])
        assert str(path) in str(exc.value)

    def test_file_name_must_match_content(self, tmp_path: Path) -> None:
        """A file whose [questionnaire] name or version disagrees with its file name is refused."""
        write(tmp_path, "demo-v2.toml", minimal("demo", 1))
        with pytest.raises(PlanError, match=r"do not match the file name \(demo-v2.toml\)"):
            load_questionnaire("demo", extra=[tmp_path])

    def test_misnamed_file(self, tmp_path: Path) -> None:
        """A TOML file not named NAME-vVERSION.toml is refused, not silently skipped."""
        path = write(tmp_path, "demo.toml", minimal())
        with pytest.raises(PlanError, match="NAME-vVERSION.toml") as exc:
            available_questionnaires(extra=[tmp_path])
        assert str(path) in str(exc.value)

    def test_same_version_twice(self, tmp_path: Path) -> None:
        """An extra file may not redefine a packaged name and version."""
        write(tmp_path, "yunnan-village-v1.toml", minimal(VILLAGE, 1))
        with pytest.raises(PlanError, match="already defined by fupin/data/questionnaires/yunnan-village-v1.toml"):
            load_questionnaire(VILLAGE, extra=[tmp_path])

    def test_missing_extra_path(self, tmp_path: Path) -> None:
        """An extra path that does not exist is an error, not an empty folder."""
        with pytest.raises(PlanError, match="no such questionnaire file or directory"):
            available_questionnaires(extra=[tmp_path / "missing"])

    def test_from_toml_and_equality(self) -> None:
        """from_toml builds the same questionnaire as loading the file."""
        q = Questionnaire.from_toml(minimal())
        assert q.key == "demo@1"
        assert q == Questionnaire.from_toml(minimal())
        assert q.question("kind").choices == ("甲", "乙")
