"""Search of people and households by name, pinyin or ID number, a page at a time.

Every search runs in the database, scoped by the actor's ``registry.read``
(:meth:`fupin.access.Access.household_condition`), counted and paged there:
a province's register is never loaded into memory.

What a query is taken for:

- **digits** (an ``X`` may end them): 15 or 18 characters are a full ID
  number (any accepted form), 4 to 6 the last digits of one. A household
  search also takes a full household number. The last digits answer for
  many people at once and are exactly what a masked ID number hides, so
  searching by them needs ``export.unmasked`` (like a filter on a masked
  export column); a full number only finds the person whose number one holds.
- **Latin letters**: pinyin, matched from the start of the name one
  syllable per character, tones ignored, every reading of a character
  counted (单 is shan and dan): ``zhangsan``, ``zhang san``, ``zhangs`` (the
  last syllable may be cut short), or initials ``zs``.
- **anything else**: part of the name (``张``, ``晓明``).

Pinyin needs no stored column: the query is turned into the characters
each position of the name may hold (pypinyin's dictionary read once), and
the database compares ``substr(name, i, 1)`` with those sets. So records
written by any path (the store, bulk imports, COPY) are found at once, and
nothing is kept in step with the register.

Results are masked (ID numbers keep their first 6 characters) and come as a
:class:`Page` of :class:`PersonHit` or :class:`HouseholdHit`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs
import sqlalchemy as sa

from fupin.errors import Problem, ValidationError
from fupin.serial import Serialisable
from fupin.storage import schema as S
from fupin.text import mask_id

if TYPE_CHECKING:
    from fupin.store import Store

__all__ = ["HouseholdHit", "Page", "PersonHit", "MAX_PER_PAGE"]

#: The most results one page may hold.
MAX_PER_PAGE = 200
#: Positions of a name a pinyin query may describe (names have 2 to 4 characters, rarely more).
_MAX_SYLLABLES = 6
#: Ways of cutting a run of letters into syllables considered ("xian": xian, xi an).
_MAX_SPLITS = 8

_DIGITS = re.compile(r"^\d+[Xx]?$")
_LETTERS = re.compile(r"^[A-Za-zü:' ]+$")

T = TypeVar("T")


@attrs.frozen
class PersonHit(Serialisable):
    """A person found by a search, masked: the ID number keeps only its first 6 characters.

    Attributes:
        id_number: The masked ID number.
        name: The person's name.
        sex: 男 / 女.
        birth_date: Date of birth.
        relation: Relation to the head of household.
        household: The household's number (户编号).
        head_name: The head of household's name.
        group_code: The villager group's code.
    """

    id_number: str
    name: str
    sex: str
    birth_date: dt.date
    relation: str
    household: str
    head_name: str
    group_code: str


@attrs.frozen
class HouseholdHit(Serialisable):
    """A household found by a search.

    Attributes:
        number: The household's number (户编号).
        head_name: The head of household's name.
        group_code: The villager group's code.
        attribute: 贫困户属性.
        status: The current 脱贫状态.
        members: How many members are registered.
    """

    number: str
    head_name: str
    group_code: str
    attribute: str
    status: str
    members: int


@attrs.frozen
class Page(Serialisable, Generic[T]):
    """One page of results.

    Attributes:
        items: The results on this page, in a stable order.
        page: The page number, from 1.
        per_page: The most results a page holds.
        total: How many results there are on all pages.
    """

    items: tuple[T, ...]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least 1)."""
        return max(1, -(-self.total // self.per_page))

    # to_dict(): items (each as its own ``to_dict``), page, per_page, total, pages
    __dict_extra__ = ("pages",)


# -- pinyin -> characters ---------------------------------------------------------------------


@functools.cache
def _readings() -> tuple[dict[str, frozenset[str]], tuple[str, ...]]:
    """Toneless syllable -> the characters read so (every reading); and every syllable, longest first."""
    from pypinyin import Style
    from pypinyin.pinyin_dict import pinyin_dict
    from pypinyin.style import convert

    by_syllable: dict[str, set[str]] = {}
    for codepoint, readings in pinyin_dict.items():
        if not (0x3400 <= codepoint <= 0x9FFF or 0x20000 <= codepoint <= 0x2FFFF):
            continue
        char = chr(codepoint)
        for reading in readings.split(","):
            syllable = convert(reading, Style.NORMAL, strict=False).lower()
            if syllable.isascii() and syllable.isalpha():
                by_syllable.setdefault(syllable, set()).add(char)
    frozen = {s: frozenset(c) for s, c in by_syllable.items()}
    return frozen, tuple(sorted(frozen, key=len, reverse=True))


@functools.lru_cache(maxsize=1024)
def _chars_starting(prefix: str) -> frozenset[str]:
    """Characters with a reading that starts with ``prefix``."""
    table, _ = _readings()
    return frozenset().union(*(chars for s, chars in table.items() if s.startswith(prefix)))


def _splits(letters: str) -> Iterator[list[str]]:
    """Ways of cutting ``letters`` into syllables; the last one may be cut short (a syllable's prefix)."""
    table, syllables = _readings()

    def walk(rest: str, taken: list[str]) -> Iterator[list[str]]:
        if len(taken) > _MAX_SYLLABLES:
            return
        if not rest:
            yield taken
            return
        for s in syllables:
            if rest.startswith(s):
                yield from walk(rest[len(s):], [*taken, s])
        if taken and any(s.startswith(rest) and s != rest for s in syllables):
            yield [*taken, rest + "*"]

    yield from walk(letters, [])


def _position_sets(query: str) -> list[list[frozenset[str]]]:
    """For each way of reading ``query`` as pinyin, the characters each position of the name may hold."""
    table, _ = _readings()
    words = [w for w in re.split(r"[\s']+", query.lower().replace("ü", "v").replace("u:", "v")) if w]
    options: list[list[frozenset[str]]] = []
    # Syllables: each word cut into syllables, the words' cuts joined.
    cuts: list[list[str]] = [[]]
    for word in words:
        cuts = [c + s for c in cuts for s in _splits(word)][:_MAX_SPLITS]
    for cut in cuts:
        if cut and len(cut) <= _MAX_SYLLABLES:
            options.append([_chars_starting(s[:-1]) if s.endswith("*") else table[s] for s in cut])
    # Initials: one letter per character.
    letters = "".join(words)
    if 1 < len(letters) <= _MAX_SYLLABLES:
        options.append([_chars_starting(ch) for ch in letters])
    return options


def _pinyin_condition(name: sa.ColumnElement[str], query: str) -> sa.ColumnElement[bool]:
    alternatives = []
    for sets in _position_sets(query):
        if not all(sets):
            continue
        alternatives.append(sa.and_(*(
            sa.func.substr(name, sa.literal_column(str(i + 1)), sa.literal_column("1")).in_(sorted(chars))
            for i, chars in enumerate(sets)
        )))
    if not alternatives:
        raise ValidationError.of("query", "不是可识别的拼音 / not pinyin fupin can read (e.g. zhangsan, zhang san, zs)", query)
    return sa.or_(*alternatives)


# -- the searches -----------------------------------------------------------------------------


def _paging(query: str, page: int, per_page: int) -> str:
    problems = []
    text = (query or "").strip()
    if not text:
        problems.append(Problem("query", "搜索内容为空 / nothing to search for", query))
    elif len(text) > 50:
        problems.append(Problem("query", "搜索内容过长 (最多 50 字符) / too long (at most 50 characters)", text[:50] + "…"))
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        problems.append(Problem("page", "页码应为 1 起的整数 / page must be a whole number from 1", page))
    if isinstance(per_page, bool) or not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
        problems.append(Problem("per_page", f"每页条数应为 1 到 {MAX_PER_PAGE} / per_page must be 1 to {MAX_PER_PAGE}", per_page))
    if problems:
        raise ValidationError(problems, record="search")
    return text


def _id_condition(store: Store, column: sa.ColumnElement[str], text: str) -> sa.ColumnElement[bool] | None:
    """The condition for a query of digits on an ID number column, or None when the query is not an ID number."""
    from fupin.idnumber import IdNumber

    if len(text) in (15, 18):
        try:
            return column == IdNumber.parse(text).number
        except (ValueError, ValidationError):
            return None
    if 4 <= len(text) <= 6 and text[:-1].isdigit():
        store.access.require(
            "export.unmasked", "按证件号码末位搜索 / a search by the last digits of an ID number (they are what masking hides)"
        )
        return column.endswith(text.upper(), autoescape=True)
    return None


def search_people(store: Store, query: str, *, page: int = 1, per_page: int = 50) -> Page[PersonHit]:
    """People the actor may read whose name, pinyin or ID number matches ``query`` (see the module docstring)."""
    text = _paging(query, page, per_page)
    store.access.require("registry.read")
    p, h = S.persons, S.households
    if _DIGITS.match(text):
        condition = _id_condition(store, p.c.id_number, text)
        if condition is None:
            raise ValidationError.of("query", "证件号码应为 15 或 18 位, 或其末 4 到 6 位 / an ID number has 15 or 18 characters; or give its last 4 to 6", text)
    elif _LETTERS.match(text):
        condition = _pinyin_condition(p.c.name, text)
    else:
        condition = p.c.name.contains(text, autoescape=True)
    where = sa.and_(condition, store.access.household_condition("registry.read"))
    joined = p.join(h, h.c.id == p.c.household_id)
    base = sa.select(
        p.c.id_number, p.c.name, p.c.sex, p.c.birth_date, p.c.relation, h.c.number, h.c.head_name, h.c.group_code
    ).select_from(joined).where(where)
    with store._reading() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(joined).where(where)).scalar_one()
        rows = conn.execute(base.order_by(p.c.name, p.c.id).limit(per_page).offset((page - 1) * per_page)).all()
    items = tuple(PersonHit(mask_id(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows)
    return Page(items, page, per_page, total)


def search_households(store: Store, query: str, *, page: int = 1, per_page: int = 50) -> Page[HouseholdHit]:
    """Households the actor may read whose head's name or pinyin matches ``query``, or with a member of that
    ID number, or with that household number (see the module docstring)."""
    text = _paging(query, page, per_page)
    store.access.require("registry.read")
    p, h = S.persons, S.households
    if _DIGITS.match(text):
        member = _id_condition(store, p.c.id_number, text)
        condition: sa.ColumnElement[bool] = h.c.number == text
        if member is not None:
            condition = sa.or_(condition, h.c.id.in_(sa.select(p.c.household_id).where(member)))
    elif _LETTERS.match(text):
        condition = _pinyin_condition(h.c.head_name, text)
    else:
        condition = h.c.head_name.contains(text, autoescape=True)
    where = sa.and_(condition, store.access.household_condition("registry.read"))
    members = sa.select(sa.func.count()).where(p.c.household_id == h.c.id).scalar_subquery().label("members")
    base = sa.select(h.c.number, h.c.head_name, h.c.group_code, h.c.attribute, h.c.status, members).where(where)
    with store._reading() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(h).where(where)).scalar_one()
        rows = conn.execute(base.order_by(h.c.number).limit(per_page).offset((page - 1) * per_page)).all()
    return Page(tuple(HouseholdHit(r.number, r.head_name, r.group_code, r.attribute, r.status, r.members) for r in rows), page, per_page, total)
