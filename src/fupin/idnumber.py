"""Chinese citizen ID numbers (公民身份号码, GB 11643-1999) and disability-card numbers.

An 18-character number is ``AAAAAA YYYYMMDD SSS C``: the county code of household
registration, the birth date, a sequence number (odd for men, even for women) and
an ISO 7064 MOD 11-2 check character. A legacy 15-digit number (``AAAAAA YYMMDD
SSS``) is accepted and converted. A second-generation disability-card number
(残疾人证号) is the 18-character ID followed by the disability category (1-7) and
grade (1-4).

The address code is not checked against a list of divisions: divisions change,
and numbers issued under an old code stay valid.
"""

from __future__ import annotations

import datetime as dt
import time
import unicodedata

import attrs

from fupin.errors import Problem, ValidationError

__all__ = [
    "DISABILITY_CATEGORIES",
    "IdNumber",
    "check_character",
    "is_valid",
    "make_id_number",
    "normalize",
    "to18",
]

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
EARLIEST_BIRTH_YEAR = 1890

#: Disability categories of the second-generation card: digit -> (zh, en).
DISABILITY_CATEGORIES: dict[int, tuple[str, str]] = {
    1: ("视力", "sight"),
    2: ("听力", "hearing"),
    3: ("言语", "speech"),
    4: ("肢体", "physical"),
    5: ("智力", "intellectual"),
    6: ("精神", "mental"),
    7: ("多重", "multiple"),
}
DISABILITY_GRADES = range(1, 5)

_LENGTHS = "应为 18 位 (旧号码 15 位, 残疾人证号 20 位)"
_LENGTHS_EN = "expected 18 characters (15 for a legacy number, 20 for a disability-card number)"


def normalize(text: str) -> str:
    """Return ``text`` with whitespace removed, full-width characters made ASCII and ``x`` upper-cased.

    Example:
        ``normalize("１１０１０５ １９４９１２３１００２ｘ")`` returns ``"11010519491231002X"``.
    """
    folded = unicodedata.normalize("NFKC", text)
    return "".join(folded.split()).upper()


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits of an ID number.

    Raises:
        ValueError: ``first17`` is not exactly 17 ASCII digits.
    """
    if len(first17) != 17 or not _is_ascii_digits(first17):
        raise ValueError(f"expected 17 digits, got {first17!r}")
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


@attrs.frozen
class IdNumber:
    """A validated citizen ID number; build it with :meth:`parse`.

    Attributes:
        number: The canonical 18-character number (upper-case ``X``).
        area_code: The 6-digit address code (GB/T 2260, as issued).
        birth_date: Date of birth.
        sex: ``"男"`` (odd sequence digit) or ``"女"`` (even).
        disability: ``(category 1-7, grade 1-4)`` when parsed from a 20-character
            disability-card number, else None.
    """

    number: str
    area_code: str
    birth_date: dt.date
    sex: str
    disability: tuple[int, int] | None = None

    @staticmethod
    def facts(text: str, *, field: str = "id_number") -> tuple[str, dt.date, str]:
        """(canonical number, birth date, sex) of a valid ID number, as :meth:`parse` finds them.

        The same checks and errors; for an already canonical number (the usual
        case, a million times in an import) no object is made.
        """
        fast = _parse_canonical(text) if isinstance(text, str) else None
        if fast is not None:
            return text, fast, "男" if int(text[16]) % 2 else "女"
        parsed = IdNumber.parse(text, field=field)
        return parsed.number, parsed.birth_date, parsed.sex

    @classmethod
    def parse(cls, text: str, *, field: str = "id_number") -> IdNumber:
        """Validate an ID number (18 characters, legacy 15 digits, or 20-character disability card).

        Input is normalised first (see :func:`normalize`), so spaces, full-width
        digits and a lower-case ``x`` are accepted.

        Args:
            text: The number as written.
            field: Field name used in the error.

        Raises:
            ValidationError: One problem per thing wrong (length, a non-digit,
                an impossible, future or pre-1890 birth date, a wrong check
                character, a disability category or grade out of range), each
                naming ``field`` and saying in Chinese then English what is wrong.
        """
        if not isinstance(text, str):
            raise ValidationError.of(field, "应为字符串 / must be a string", text)
        fast = _parse_canonical(text)
        if fast is not None:
            return cls(text, text[:6], fast, "男" if int(text[16]) % 2 else "女")
        number = normalize(text)

        def refuse(*reasons: str) -> ValidationError:
            return ValidationError([Problem(field, reason, text) for reason in reasons])

        if not number:
            raise refuse("缺少号码 / number missing")
        if len(number) not in (15, 18, 20):
            n = len(number)
            raise refuse(f"长度错误: {_LENGTHS}, 实为 {n} 位 / wrong length: {_LENGTHS_EN}, got {n}")

        wrong = _first_misplaced_character(number)
        if wrong is not None:
            i, char, expected_zh, expected_en = wrong
            raise refuse(f"第 {i} 位{expected_zh}, 实为 {char!r} / character {i} must be {expected_en}, got {char!r}")

        problems: list[str] = []
        legacy = len(number) == 15
        body = number[:6] + "19" + number[6:15] if legacy else number[:17]

        birth_date = _parse_birth_date(body[6:14], problems)

        expected = check_character(body)
        if not legacy and number[17] != expected:
            got = number[17]
            problems.append(f"校验码错误: 应为 {expected}, 实为 {got} / wrong check character: expected {expected}, got {got}")

        disability = None
        if len(number) == 20:
            category, grade = int(number[18]), int(number[19])
            if category not in DISABILITY_CATEGORIES:
                problems.append(f"残疾类别应为 1–7, 实为 {category} / disability category must be 1–7, got {category}")
            if grade not in DISABILITY_GRADES:
                problems.append(f"残疾等级应为 1–4, 实为 {grade} / disability grade must be 1–4, got {grade}")
            disability = (category, grade)

        if problems:
            raise refuse(*problems)
        assert birth_date is not None
        return cls(
            number=body + expected,
            area_code=body[:6],
            birth_date=birth_date,
            sex="男" if int(body[16]) % 2 else "女",
            disability=disability,
        )

    @property
    def disability_card_number(self) -> str | None:
        """The 20-character disability-card number, or None without disability data."""
        if self.disability is None:
            return None
        category, grade = self.disability
        return f"{self.number}{category}{grade}"

    def age_on(self, on: dt.date) -> int:
        """Age in completed years (周岁) on the date ``on``.

        Someone born on 29 February turns a year older on 1 March in common years.

        Raises:
            ValidationError: ``on`` is before the birth date.
        """
        if on < self.birth_date:
            raise ValidationError.of(
                "date",
                f"日期早于出生日期 {self.birth_date} / date is before the birth date {self.birth_date}",
                on,
            )
        before_birthday = (on.month, on.day) < (self.birth_date.month, self.birth_date.day)
        return on.year - self.birth_date.year - before_birthday

    def __str__(self) -> str:
        return self.number


def to18(text: str) -> str:
    """The canonical 18-character number for ``text`` (15, 18 or 20 characters).

    Raises:
        ValidationError: ``text`` is not a valid number (see :meth:`IdNumber.parse`).
    """
    return IdNumber.parse(text).number


def is_valid(text: object) -> bool:
    """True if ``text`` is a valid ID number (15, 18 or 20 characters), else False."""
    try:
        IdNumber.parse(text)  # type: ignore[arg-type]
    except ValidationError:
        return False
    return True


def make_id_number(area_code: str, birth_date: dt.date, sequence: int, sex: str) -> str:
    """Build a valid 18-character ID number (for synthetic data and tests).

    Args:
        area_code: 6 digits; not checked against a list of divisions.
        birth_date: From 1890-01-01 to today.
        sequence: 0..499; becomes the 3-digit sequence ``2*sequence + 1`` for a
            man and ``2*sequence`` for a woman, so its parity encodes ``sex``.
        sex: ``"男"`` or ``"女"``.

    Raises:
        ValidationError: An argument is out of range.
    """
    if not (isinstance(area_code, str) and len(area_code) == 6 and _is_ascii_digits(area_code)):
        raise ValidationError.of("area_code", "应为 6 位数字 / must be 6 digits", area_code)
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 0 <= sequence <= 499:
        raise ValidationError.of("sequence", "应为 0 到 499 的整数 / must be an integer from 0 to 499", sequence)
    if sex not in ("男", "女"):
        raise ValidationError.of("sex", "应为 男 或 女 / must be 男 or 女", sex)
    problems: list[str] = []
    _check_birth_range(birth_date, f"{birth_date:%Y%m%d}", problems)
    if problems:
        raise ValidationError.of("birth_date", problems[0], birth_date)
    serial = 2 * sequence + (1 if sex == "男" else 0)
    body = f"{area_code}{birth_date:%Y%m%d}{serial:03d}"
    return body + check_character(body)


def _parse_canonical(text: str) -> dt.date | None:
    """The birth date of an already canonical, valid 18-character number; None for anything else.

    Batch imports parse a million numbers: this path skips normalising and
    error reporting for the usual, valid case. Anything it does not accept goes
    through the full checks, which say what is wrong.
    """
    if len(text) != 18 or not text[:17].isdigit() or not text.isascii():
        return None
    # The weights are 2**17 ... 2**1 mod 11, and 13 = 2 mod 11: read as a base-13
    # number (in C), the first 17 digits are the weighted sum over 2, mod 11.
    if CHECK_CHARACTERS[2 * int(text[:17], 13) % 11] != text[17]:
        return None
    try:
        birth = dt.date.fromisoformat(text[6:14])  # YYYYMMDD, the ISO basic form
    except ValueError:
        return None
    if birth.year < EARLIEST_BIRTH_YEAR or birth > _today():
        return None
    return birth


_today_cache: tuple[float, dt.date] = (0.0, dt.date.min)


def _today() -> dt.date:
    """Today's date, looked up at most once a minute (date.today() per row shows in profiles)."""
    global _today_cache
    now = time.monotonic()
    if now - _today_cache[0] > 60:
        _today_cache = (now, dt.date.today())
    return _today_cache[1]


def _is_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _first_misplaced_character(number: str) -> tuple[int, str, str, str] | None:
    """Position (1-based), character and expectation of the first character out of place."""
    for i, char in enumerate(number, start=1):
        if i == 18 and len(number) >= 18:
            if not (_is_ascii_digits(char) or char == "X"):
                return i, char, "应为数字或 X", "a digit or X"
        elif not _is_ascii_digits(char):
            return i, char, "应为数字", "a digit"
    return None


def _parse_birth_date(digits: str, problems: list[str]) -> dt.date | None:
    try:
        birth = dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        problems.append(f"出生日期不存在: {digits} / impossible birth date: {digits}")
        return None
    _check_birth_range(birth, digits, problems)
    return birth


def _check_birth_range(birth: dt.date, shown: str, problems: list[str]) -> None:
    first = EARLIEST_BIRTH_YEAR
    if birth.year < first:
        problems.append(f"出生日期早于 {first} 年: {shown} / birth date before {first}: {shown}")
    elif birth > dt.date.today():
        problems.append(f"出生日期在未来: {shown} / birth date in the future: {shown}")
