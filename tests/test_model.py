"""The registry model: validation on construction and through the vocabulary."""

from __future__ import annotations

import datetime as dt

import pytest

from fupin import Area, Cadre, Household, Person, Tag, Unit, ValidationError, VillageProfile, Vocabulary
from fupin.idnumber import check_character, make_id_number
from fupin.model import check_members

GOOD_ID = make_id_number("530326", dt.date(1970, 5, 17), 123, "男")


def household(**changes):
    fields = dict(number="H001", group_code="53032610620001", head_name="张三", attribute="一般贫困户", main_cause="因病")
    return Household.new(**{**fields, **changes})


def person(**changes):
    fields = dict(id_number=GOOD_ID, household="H001", name="张三", relation="户主")
    return Person.new(**{**fields, **changes})


def problems(exc_info) -> dict[str, str]:
    return {p.field: p.reason for p in exc_info.value.problems}


class TestArea:
    def test_levels_and_codes(self):
        """Each level has its code shape; a village's parent is a town with the same prefix."""
        town = Area("530326106", "者海镇", "town", "530326")
        village = Area("530326106200", "拖木村", "village", "530326106")
        assert village.is_child_of(town)
        assert not Area("530326107200", "别村", "village", "530326107").is_child_of(town)

    def test_wrong_code_for_level_refused(self):
        """A six-digit code is not a village code."""
        with pytest.raises(ValidationError) as exc:
            Area("530326", "拖木村", "village", "530326106")
        assert problems(exc) == {"code": "不是village级区划代码 / not a village code"}

    def test_province_has_no_parent_and_others_need_one(self):
        """Only a province stands without a parent."""
        Area("530000", "云南省", "province")
        with pytest.raises(ValidationError, match="parent_code"):
            Area("530300", "曲靖市", "city")


class TestVillageProfile:
    def test_poor_share_cannot_exceed_total(self):
        """Poor households above all households is refused, naming the field."""
        with pytest.raises(ValidationError) as exc:
            VillageProfile("530326106200", 2015, households=778, population=2996, poor_households=800)
        assert "poor_households" in problems(exc)

    def test_incidence(self):
        """Poverty incidence is poor people over population."""
        p = VillageProfile("530326106200", 2015, households=778, population=2996, poor_people=1339)
        assert round(float(p.poverty_incidence), 4) == 0.4469


class TestHousehold:
    def test_canonical_labels(self):
        """English labels, codes and aliases are stored as the canonical Chinese label."""
        h = household(attribute="dibao_poor", main_cause="illness", other_causes="缺技术、lack_of_funds")
        assert (h.attribute, h.main_cause, h.other_causes) == ("低保贫困户", "因病", ("缺技术", "缺资金"))

    def test_at_most_two_other_causes(self):
        """Three other causes are refused."""
        with pytest.raises(ValidationError) as exc:
            household(other_causes=["缺技术", "缺资金", "缺水"])
        assert problems(exc)["other_causes"].startswith("其他致贫原因最多两项")

    def test_main_cause_not_repeated(self):
        """The main cause cannot also be an other cause."""
        with pytest.raises(ValidationError, match="repeats the main cause"):
            household(other_causes=["因病"])

    def test_main_cause_required(self):
        """A household without a main cause is refused."""
        with pytest.raises(ValidationError) as exc:
            household(main_cause="")
        assert "main_cause" in problems(exc)

    def test_unknown_value_refused_with_field(self):
        """A value not in the vocabulary names the field and lists allowed values."""
        with pytest.raises(ValidationError) as exc:
            household(attribute="富裕户")
        assert "attribute" in problems(exc)

    def test_province_extension_accepted(self):
        """A province's own attribute is accepted once its vocabulary extends the default."""
        vocab = Vocabulary.default().extend(
            {"household_attribute": [{"code": "border", "zh": "边境贫困户", "en": "border_poor"}]}
        )
        assert Household.new(vocab=vocab, number="H1", group_code="g", head_name="x", attribute="边境贫困户", main_cause="因病").attribute == "边境贫困户"
        with pytest.raises(ValidationError):
            household(attribute="边境贫困户")

    def test_yes_no_cells(self):
        """是/否 cells become booleans; 否 is False, not truthy text."""
        h = household(dilapidated="否", safe_water="是")
        assert (h.dilapidated, h.safe_water) == (False, True)


class TestPerson:
    def test_sex_and_birth_from_number(self):
        """Sex and birth date default to what the ID number encodes."""
        p = person()
        assert (p.sex, p.birth_date) == ("男", dt.date(1970, 5, 17))

    def test_wrong_check_digit_refused(self):
        """A wrong check character is refused, naming the field and the reason."""
        wrong = GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")
        with pytest.raises(ValidationError) as exc:
            person(id_number=wrong)
        field, reason = next(iter(problems(exc).items()))
        assert field == "id_number"
        assert "校验码错误" in reason and f"expected {check_character(GOOD_ID[:17])}" in reason

    def test_sex_must_agree(self):
        """A sex that disagrees with the number is refused."""
        with pytest.raises(ValidationError) as exc:
            person(sex="女")
        assert "sex" in problems(exc)

    def test_birth_date_must_agree(self):
        """A birth date that disagrees with the number is refused."""
        with pytest.raises(ValidationError) as exc:
            person(birth_date="1970-05-18")
        assert "birth_date" in problems(exc)

    def test_fifteen_digit_number_upgraded(self):
        """A legacy 15-digit number is stored in its 18-digit form."""
        p = person(id_number=GOOD_ID[:6] + GOOD_ID[8:17])
        assert p.id_number == GOOD_ID

    def test_all_problems_at_once(self):
        """Every bad enumerated field is reported in one error."""
        with pytest.raises(ValidationError) as exc:
            person(relation="邻居", education="博士后")
        assert set(problems(exc)) == {"relation", "education"}


class TestMembers:
    def test_exactly_one_head(self):
        """No head and two heads are both reported; one head is fine."""
        head = person()
        spouse = person(id_number=make_id_number("530326", dt.date(1972, 1, 1), 2, "女"), name="李四", relation="配偶")
        assert check_members("H001", [head, spouse]) == []
        assert "没有户主" in check_members("H001", [spouse])[0].reason
        second = person(id_number=make_id_number("530326", dt.date(1972, 1, 1), 3, "男"), name="王五")
        assert "多个户主" in check_members("H001", [head, second])[0].reason


class TestTagUnitCadre:
    def test_tag_dates(self):
        """A tag ending before it starts is refused; holds_on respects both ends."""
        tag = Tag.new(id_number=GOOD_ID, tag="left_behind_child", start="2015-01-01", end="2016-01-01")
        assert tag.tag == "留守儿童" and tag.holds_on(dt.date(2015, 6, 1)) and not tag.holds_on(dt.date(2016, 6, 1))
        with pytest.raises(ValidationError, match="end"):
            Tag.new(id_number=GOOD_ID, tag="留守儿童", start="2016-01-01", end="2015-01-01")

    def test_unit_and_cadre_rank(self):
        """Unit kinds and cadre ranks come from the vocabulary."""
        assert Unit.new(code="QJNU", name="曲靖师范学院", kind="university").kind == "高校"
        assert Cadre.new(code="C1", name="王", unit="QJNU", rank="bureau").rank == "厅级"
        with pytest.raises(ValidationError) as exc:
            Cadre.new(code="C1", name="王", unit="QJNU", rank="部级以上")
        assert "rank" in problems(exc)


def test_text_for_a_tuple_of_texts_is_split_not_spelled_out():
    """A details field tuple[str, ...] given one cell "王教授、李老师" gets two names, not seven characters."""
    import attrs

    from fupin.convert import structure

    @attrs.frozen
    class Details:
        trainers: tuple[str, ...] = ()

    assert structure({"trainers": "王教授、李老师"}, Details).trainers == ("王教授", "李老师")
    assert structure({"trainers": ["甲", "乙"]}, Details).trainers == ("甲", "乙")
