"""Tests for fupin.idnumber (GB 11643-1999 citizen ID numbers)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fupin.errors import ValidationError
from fupin.idnumber import IdNumber, _parse_canonical, check_character, is_valid, make_id_number, normalize, to18

TODAY = dt.date.today()
area_codes = st.integers(0, 999_999).map("{:06d}".format)
birth_dates = st.dates(min_value=dt.date(1890, 1, 1), max_value=TODAY)
sexes = st.sampled_from(["男", "女"])
valid_numbers = st.builds(make_id_number, area_codes, birth_dates, st.integers(0, 499), sexes)


def reasons(excinfo: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [p.reason for p in excinfo.value.problems]


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


class TestNormalize:
    def test_strips_spaces_and_folds_full_width(self) -> None:
        """Full-width digits, a full-width x and spaces (ASCII and ideographic) become canonical ASCII."""
        assert normalize(" １１０１０５ １９４９１２３１\u3000００２ｘ ") == "11010519491231002X"

    def test_upper_cases_x(self) -> None:
        """A lower-case check character x becomes X."""
        assert normalize("11010519491231002x") == "11010519491231002X"


class TestCheckCharacter:
    def test_verified_examples(self) -> None:
        """The two verified examples of DOMAIN.md section 5 have the check characters X and 4."""
        assert check_character("11010519491231002") == "X"
        assert check_character("44052418800101001") == "4"

    def test_refuses_wrong_length(self) -> None:
        """Anything but 17 digits is a programming error."""
        with pytest.raises(ValueError, match="17 digits"):
            check_character("1101051949123100")

    def test_refuses_full_width_digits(self) -> None:
        """Unnormalised full-width digits are not digits here."""
        with pytest.raises(ValueError):
            check_character(full_width("11010519491231002"))


class TestParse:
    def test_verified_example(self) -> None:
        """11010519491231002X parses into its area code, birth date and sex."""
        parsed = IdNumber.parse("11010519491231002X")
        assert parsed == IdNumber("11010519491231002X", "110105", dt.date(1949, 12, 31), "女", None)

    def test_odd_sequence_is_male(self) -> None:
        """An odd sequence digit means 男."""
        number = make_id_number("530326", dt.date(1980, 5, 6), 7, "男")
        assert number[14:17] == "015"
        assert IdNumber.parse(number).sex == "男"

    def test_lower_case_x(self) -> None:
        """A lower-case x check character is accepted and stored upper-case."""
        assert IdNumber.parse("11010519491231002x").number == "11010519491231002X"

    def test_wrong_check_character(self) -> None:
        """A wrong check character is refused with the expected and actual characters."""
        with pytest.raises(ValidationError) as excinfo:
            IdNumber.parse("110105194912310025", field="members.id")
        (problem,) = excinfo.value.problems
        assert problem.field == "members.id"
        assert problem.value == "110105194912310025"
        assert problem.reason == "校验码错误: 应为 X, 实为 5 / wrong check character: expected X, got 5"

    @pytest.mark.parametrize("text", ["", "1101051949", "1101051949123100", "11010519491231002X1", "11010519491231002X123"])
    def test_wrong_length(self, text: str) -> None:
        """Lengths other than 15, 18 and 20 are refused with the length found."""
        with pytest.raises(ValidationError) as excinfo:
            IdNumber.parse(text)
        (reason,) = reasons(excinfo)
        assert ("缺少号码" in reason) if not text else (f"实为 {len(text)} 位" in reason and f"got {len(text)}" in reason)

    def test_non_digit_in_body(self) -> None:
        """A letter among the first 17 characters is refused with its position."""
        with pytest.raises(ValidationError) as excinfo:
            IdNumber.parse("1101051949123I002X")
        assert reasons(excinfo) == ["第 14 位应为数字, 实为 'I' / character 14 must be a digit, got 'I'"]

    def test_bad_check_position(self) -> None:
        """Only a digit or X may stand in position 18."""
        with pytest.raises(ValidationError) as excinfo:
            IdNumber.parse("11010519491231002Y")
        assert reasons(excinfo) == ["第 18 位应为数字或 X, 实为 'Y' / character 18 must be a digit or X, got 'Y'"]

    def test_impossible_birth_date(self) -> None:
        """19990230 does not exist, even when the check character is right."""
        body = "11010519990230002"
        with pytest.raises(ValidationError) as excinfo:
            IdNumber.parse(body + check_character(body))
        assert reasons(excinfo) == ["出生日期不存在: 19990230 / impossible birth date: 19990230"]

    def test_future_birth_date(self) -> None:
        """A birth date after today is refused."""
        body = f"110105{TODAY.year + 2}0101002"
        with pytest.raises(ValidationError) as excinfo:
            IdNumber.parse(body + check_character(body))
        assert reasons(excinfo) == [f"出生日期在未来: {TODAY.year + 2}0101 / birth date in the future: {TODAY.year + 2}0101"]

    def test_birth_before_1890(self) -> None:
        """The standard's own example (born 1880) has a right check character but is refused as pre-1890."""
        with pytest.raises(ValidationError) as excinfo:
            IdNumber.parse("440524188001010014")
        assert reasons(excinfo) == ["出生日期早于 1890 年: 18800101 / birth date before 1890: 18800101"]

    def test_reports_every_problem(self) -> None:
        """An impossible date and a wrong check character are both reported."""
        with pytest.raises(ValidationError) as excinfo:
            IdNumber.parse("110105199902300021")
        assert len(excinfo.value.problems) == 2
        assert "19990230" in reasons(excinfo)[0] and "校验码错误" in reasons(excinfo)[1]

    @pytest.mark.parametrize(
        "text", ["11010519491231002X", "11010519491231002x", " 110105 19491231002X", "110105491231002", "110105194912310025", "12345", 110105194912310025]
    )
    def test_facts_are_parse_s(self, text: object) -> None:
        """IdNumber.facts gives parse's number, birth date and sex, or raises parse's error."""
        try:
            parsed = IdNumber.parse(text)  # type: ignore[arg-type]
        except ValidationError as exc:
            with pytest.raises(ValidationError) as excinfo:
                IdNumber.facts(text)  # type: ignore[arg-type]
            assert excinfo.value.problems == exc.problems
        else:
            assert IdNumber.facts(text) == (parsed.number, parsed.birth_date, parsed.sex)  # type: ignore[arg-type]

    @given(area_codes, birth_dates, st.integers(0, 999), st.sampled_from("0123456789X"))
    def test_fast_path_checks_as_check_character(self, area: str, born: dt.date, serial: int, last: str) -> None:
        """The import's fast path (base-13 checksum, basic ISO date) accepts exactly the number check_character makes."""
        body = f"{area}{born:%Y%m%d}{serial:03d}"
        assert _parse_canonical(body + last) == (born if last == check_character(body) else None)

    def test_fast_path_refuses_impossible_dates(self) -> None:
        """A right check character on 30 February or a month 13 is left to the full checks."""
        for body in ("11010519990230002", "11010519991301002", "11010518891231002"):
            assert _parse_canonical(body + check_character(body)) is None

    def test_not_a_string(self) -> None:
        """A number that is not a str (e.g. an int from a spreadsheet) is refused, not crashed on."""
        with pytest.raises(ValidationError) as excinfo:
            IdNumber.parse(110105194912310025)  # type: ignore[arg-type]
        assert excinfo.value.problems[0].field == "id_number"

    @given(valid_numbers)
    def test_full_width_input_normalises(self, number: str) -> None:
        """A number typed with full-width characters, spaces and a lower-case x parses to the same number."""
        messy = " " + full_width(number[:6]) + " " + number[6:14] + "\u3000" + full_width(number[14:].lower())
        assert IdNumber.parse(messy) == IdNumber.parse(number)

    @given(valid_numbers, st.data())
    def test_any_single_substitution_is_detected(self, number: str, data: st.DataObject) -> None:
        """Changing one of the 17 body digits or the check character makes the number invalid (ISO 7064 MOD 11-2)."""
        position = data.draw(st.integers(0, 17))
        alphabet = "0123456789X" if position == 17 else "0123456789"
        replacement = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
        changed = number[:position] + replacement + number[position + 1 :]
        assert check_character(changed[:17]) != changed[17]
        assert not is_valid(changed)


class TestLegacy:
    def test_converts_15_digits(self) -> None:
        """A 15-digit number gets "19" before the year and a check character appended."""
        parsed = IdNumber.parse("110105491231002")
        assert parsed.number == "11010519491231002X"
        assert parsed.birth_date == dt.date(1949, 12, 31)

    def test_impossible_legacy_date(self) -> None:
        """A legacy number with an impossible date is refused."""
        with pytest.raises(ValidationError) as excinfo:
            IdNumber.parse("110105990230002")
        assert reasons(excinfo) == ["出生日期不存在: 19990230 / impossible birth date: 19990230"]

    def test_legacy_has_no_x(self) -> None:
        """A 15-character number must be all digits (it has no check character)."""
        with pytest.raises(ValidationError) as excinfo:
            IdNumber.parse("11010549123100X")
        assert "第 15 位应为数字" in reasons(excinfo)[0]

    @given(area_codes, st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(1999, 12, 31)), st.integers(0, 999))
    def test_15_to_18_round_trips(self, area: str, birth: dt.date, serial: int) -> None:
        """Converting a 15-digit number and dropping "19" and the check character gives it back."""
        legacy = f"{area}{birth:%y%m%d}{serial:03d}"
        number = to18(legacy)
        assert number[:6] + number[8:17] == legacy
        assert number[17] == check_character(number[:17])
        parsed = IdNumber.parse(legacy)
        assert (parsed.birth_date, parsed.sex) == (birth, "男" if serial % 2 else "女")
        assert IdNumber.parse(number) == parsed


class TestDisability:
    def test_twenty_characters(self) -> None:
        """An ID number plus category and grade digits gives the disability and the plain 18-character number."""
        parsed = IdNumber.parse("11010519491231002X42")
        assert parsed.number == "11010519491231002X"
        assert parsed.disability == (4, 2)
        assert parsed.disability_card_number == "11010519491231002X42"

    def test_plain_number_has_no_disability(self) -> None:
        """An 18-character number has no disability data."""
        parsed = IdNumber.parse("11010519491231002X")
        assert parsed.disability is None and parsed.disability_card_number is None

    @pytest.mark.parametrize(
        ("suffix", "expected"),
        [
            ("81", "残疾类别应为 1–7, 实为 8 / disability category must be 1–7, got 8"),
            ("05", "残疾类别应为 1–7, 实为 0 / disability category must be 1–7, got 0"),
            ("15", "残疾等级应为 1–4, 实为 5 / disability grade must be 1–4, got 5"),
        ],
    )
    def test_out_of_range(self, suffix: str, expected: str) -> None:
        """A category outside 1-7 or a grade outside 1-4 is refused."""
        with pytest.raises(ValidationError) as excinfo:
            IdNumber.parse("11010519491231002X" + suffix)
        assert expected in reasons(excinfo)

    def test_wrong_check_in_card_number(self) -> None:
        """The ID part of a disability-card number is checked too."""
        with pytest.raises(ValidationError) as excinfo:
            IdNumber.parse("11010519491231002542")
        assert reasons(excinfo) == ["校验码错误: 应为 X, 实为 5 / wrong check character: expected X, got 5"]


class TestAgeOn:
    def test_before_and_on_birthday(self) -> None:
        """Age counts completed years: one less the day before the birthday."""
        person = IdNumber.parse("11010519491231002X")
        assert person.age_on(dt.date(2015, 12, 30)) == 65
        assert person.age_on(dt.date(2015, 12, 31)) == 66

    def test_leap_day_birthday(self) -> None:
        """Someone born on 29 February is a year older on 1 March of a common year, not on 28 February."""
        person = IdNumber.parse(make_id_number("530326", dt.date(2004, 2, 29), 3, "女"))
        assert person.age_on(dt.date(2020, 2, 28)) == 15
        assert person.age_on(dt.date(2021, 2, 28)) == 16
        assert person.age_on(dt.date(2021, 3, 1)) == 17

    def test_date_before_birth(self) -> None:
        """Asking the age on a date before birth is refused."""
        with pytest.raises(ValidationError):
            IdNumber.parse("11010519491231002X").age_on(dt.date(1949, 1, 1))


class TestTo18AndIsValid:
    def test_to18_of_each_form(self) -> None:
        """to18 gives the same canonical number for the 15-, 18- and 20-character forms."""
        assert {to18("110105491231002"), to18("11010519491231002x"), to18("11010519491231002X11")} == {"11010519491231002X"}

    def test_to18_refuses_invalid(self) -> None:
        """to18 raises on an invalid number rather than returning it."""
        with pytest.raises(ValidationError):
            to18("110105194912310025")

    @pytest.mark.parametrize(
        ("text", "expected"),
        [("11010519491231002X", True), ("110105194912310025", False), (None, False), ("", False), (12345, False)],
    )
    def test_is_valid(self, text: object, expected: bool) -> None:
        """is_valid answers True or False and never raises."""
        assert is_valid(text) is expected


class TestMakeIdNumber:
    def test_known_number(self) -> None:
        """Sequence 1 for a woman born 1949-12-31 in 110105 is the verified example."""
        assert make_id_number("110105", dt.date(1949, 12, 31), 1, "女") == "11010519491231002X"

    def test_extreme_sequences(self) -> None:
        """Sequence 0 for a woman is 000 and 499 for a man is 999."""
        assert make_id_number("530326", dt.date(1990, 1, 1), 0, "女")[14:17] == "000"
        assert make_id_number("530326", dt.date(1990, 1, 1), 499, "男")[14:17] == "999"

    @pytest.mark.parametrize(
        ("args", "field"),
        [
            (("53032", dt.date(1990, 1, 1), 1, "男"), "area_code"),
            (("5303２6", dt.date(1990, 1, 1), 1, "男"), "area_code"),
            (("530326", dt.date(1990, 1, 1), 500, "男"), "sequence"),
            (("530326", dt.date(1990, 1, 1), -1, "男"), "sequence"),
            (("530326", dt.date(1990, 1, 1), 1, "male"), "sex"),
            (("530326", dt.date(1889, 12, 31), 1, "男"), "birth_date"),
            # Two days ahead: TODAY is taken when the tests are collected, and a run may pass midnight.
            (("530326", TODAY + dt.timedelta(days=2), 1, "男"), "birth_date"),
        ],
    )
    def test_refuses_bad_arguments(self, args: tuple[object, ...], field: str) -> None:
        """Arguments out of range are refused with the argument's name."""
        with pytest.raises(ValidationError) as excinfo:
            make_id_number(*args)  # type: ignore[arg-type]
        assert excinfo.value.problems[0].field == field

    @given(area_codes, birth_dates, st.integers(0, 499), sexes)
    def test_round_trips(self, area: str, birth: dt.date, sequence: int, sex: str) -> None:
        """Every built number validates and gives back its area code, birth date and sex."""
        number = make_id_number(area, birth, sequence, sex)
        parsed = IdNumber.parse(number)
        assert is_valid(number)
        assert (parsed.number, parsed.area_code, parsed.birth_date, parsed.sex) == (number, area, birth, sex)
        assert int(number[14:17]) // 2 == sequence
