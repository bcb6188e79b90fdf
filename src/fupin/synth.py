"""Deterministic synthetic registers: households and people with valid ID numbers.

For tests, the demo and benchmarks. The same seed always gives the same
records; nothing here is a real person. Household sizes, causes, housing and
ages follow the rough shape of a poor Yunnan village (a poor household of about
3 people, many migrant workers, left-behind children and elderly).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from itertools import accumulate
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from fupin.idnumber import EARLIEST_BIRTH_YEAR, make_id_number
from fupin.model import Area, Household, Person, Tag
from fupin.vocab import Vocabulary

if TYPE_CHECKING:
    from fupin.store import Store

SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "国华明英建文德志秀兰玉芳军平红春云海林福永祥金荣富贵强丽梅桂珍成发顺学光正洪昌刚芬琼燕凤仙飞"

#: Weighted choices: (value, weight). Values are canonical vocabulary labels.
ATTRIBUTES = (("一般贫困户", 70), ("低保贫困户", 22), ("特困供养贫困户", 8))
CAUSES = (
    ("缺资金", 22), ("缺技术", 20), ("因病", 16), ("缺劳力", 10), ("因残", 7), ("因学", 8),
    ("交通条件落后", 6), ("缺水", 5), ("自身发展动力不足", 4), ("缺土地", 2),
)
HOUSING = (("土木结构", 35), ("砖混房", 40), ("砖瓦砖木", 15), ("危房", 5), ("钢筋水泥房", 5))
ETHNICITY = (("汉族", 86), ("彝族", 9), ("回族", 5))
HEALTH = (("健康", 80), ("长期慢性病", 12), ("患有大病", 4), ("残疾", 4))
MIGRANT_WORK = (("省外务工", 45), ("县外省内务工", 30), ("乡（镇）外县内务工", 15), ("乡（镇）内务工", 10))
HOUSEHOLD_SIZE = ((1, 14), (2, 20), (3, 26), (4, 22), (5, 11), (6, 7))

HOUSEHOLDS_PER_VILLAGE = 400
GROUPS_PER_VILLAGE = 4
VILLAGES_PER_TOWN = 15


@functools.lru_cache(maxsize=None)
def _cumulative(table: tuple[tuple[Any, int], ...]) -> tuple[list[Any], list[int]]:
    return [v for v, _ in table], list(accumulate(w for _, w in table))


def _pick(rng: random.Random, table: Sequence[tuple[Any, int]]) -> Any:
    # Cumulative weights computed once per table draw exactly what weights= would.
    values, cum_weights = _cumulative(tuple(table))
    return rng.choices(values, cum_weights=cum_weights)[0]


def _numbers(groups: Sequence[str], count: int) -> Iterator[str]:
    """户编号 of ``count`` households spread evenly over ``groups``: the group code and a 4-digit number."""
    per_group = -(-count // len(groups))
    for i in range(count):
        yield f"{groups[i // per_group]}{i % per_group + 1:04d}"


class _IdRegister:
    """The ID numbers given out in one county: one bit per (birth date, 3-digit serial).

    Within a county an ID number is fixed by its birth date and serial, so a
    bitmap from 1890 on replaces a set of strings: about 6 MB at most however
    many people are generated (a set of a million numbers takes over 100 MB).
    """

    SERIALS = 1000

    def __init__(self) -> None:
        self._origin = dt.date(EARLIEST_BIRTH_YEAR, 1, 1).toordinal()
        self._bits = bytearray()

    def claim(self, birth: dt.date, serial: int) -> bool:
        """Mark (birth, serial) as used; False if it already was."""
        index = (birth.toordinal() - self._origin) * self.SERIALS + serial
        if index < 0:
            return True  # born before 1890: make_id_number refuses the date
        byte, mask = index >> 3, 1 << (index & 7)
        if byte >= len(self._bits):
            # Grow a year of birth dates at a time.
            self._bits.extend(bytes(byte - len(self._bits) + 366 * self.SERIALS // 8))
        if self._bits[byte] & mask:
            return False
        self._bits[byte] |= mask
        return True


@attrs.frozen
class SynthHousehold:
    """One synthetic household with its members and their tags."""

    household: Household
    members: tuple[Person, ...]
    tags: tuple[Tag, ...]


@attrs.define
class Synthesizer:
    """Generates areas, households and people from a seed.

    Attributes:
        seed: same seed, same data.
        county_code: GB/T 2260 code of the county; ID numbers use it.
        first_identified: the date households were first identified (and tags start).
    """

    seed: int = 0
    county_code: str = "530326"
    first_identified: dt.date = dt.date(2014, 10, 1)
    vocab: Vocabulary = attrs.field(factory=Vocabulary.default)
    _used_ids: _IdRegister = attrs.field(factory=_IdRegister, init=False, eq=False, repr=False)

    def areas(self, households: int) -> list[Area]:
        """Province, city, county, then enough towns, villages and groups for ``households``."""
        c = self.county_code
        out = [
            Area(c[:2] + "0000", "合成省", "province"),
            Area(c[:4] + "00", "合成市", "city", c[:2] + "0000"),
            Area(c, "合成县", "county", c[:4] + "00"),
        ]
        villages = max(1, -(-households // HOUSEHOLDS_PER_VILLAGE))
        for v in range(villages):
            town_no, village_no = divmod(v, VILLAGES_PER_TOWN)
            town = f"{c}{101 + town_no:03d}000"
            if village_no == 0:
                out.append(Area(town, f"合成{town_no + 1}镇", "town", c))
            village = town[:9] + f"{200 + village_no:03d}"
            out.append(Area(village, f"合成{town_no + 1}镇{village_no + 1}村", "village", town))
            out += [
                Area(f"{village}{g + 1:02d}", f"第{g + 1}组", "group", village) for g in range(GROUPS_PER_VILLAGE)
            ]
        return out

    def household_numbers(self, groups: Sequence[str], count: int) -> list[str]:
        """The 户编号 :meth:`households` gives: the group code and a 4-digit number."""
        return list(_numbers(groups, count))

    def households(self, groups: Sequence[str], count: int) -> Iterator[SynthHousehold]:
        """``count`` households spread evenly over the villager ``groups`` (codes), in order."""
        rng = random.Random(self.seed)
        for number in _numbers(groups, count):
            yield self._household(rng, number, number[:-4])

    def _household(self, rng: random.Random, number: str, group: str) -> SynthHousehold:
        surname = rng.choice(SURNAMES)
        size = _pick(rng, HOUSEHOLD_SIZE)
        year = self.first_identified.year
        head_age = rng.randint(62, 85) if size == 1 else rng.randint(28, 70)
        head_sex = "男" if rng.random() < 0.85 or size == 1 and rng.random() < 0.5 else "女"
        members: list[tuple[str, str, int, str]] = [("户主", head_sex, head_age, surname)]  # relation, sex, age, surname
        if size >= 2:
            spouse_sex = "女" if head_sex == "男" else "男"
            members.append(("配偶", spouse_sex, max(20, head_age + rng.randint(-5, 3)), rng.choice(SURNAMES)))
        while len(members) < size:
            if head_age >= 58 and rng.random() < 0.5:
                relation, age = rng.choice(("之孙子", "之孙女")), rng.randint(1, 15)
            elif head_age <= 45 and rng.random() < 0.2 and not any(m[0] in ("之父", "之母") for m in members):
                relation, age = rng.choice(("之父", "之母")), head_age + rng.randint(22, 30)
            else:
                relation, age = rng.choice(("之子", "之女")), max(0, head_age - rng.randint(20, 34))
            sex = "男" if relation in ("之子", "之孙子", "之父") else "女"
            members.append((relation, sex, age, surname))
        cause = _pick(rng, CAUSES)
        others = [c for c in dict.fromkeys(_pick(rng, CAUSES) for _ in range(rng.choice((0, 1, 1, 2)))) if c != cause]
        people = []
        tags = []
        migrant_parents = 0
        for relation, sex, age, sname in members:
            person, is_migrant = self._person(rng, number, relation, sex, age, sname, year)
            people.append(person)
            if is_migrant and relation in ("户主", "配偶"):
                migrant_parents += 1
            if is_migrant:
                tags.append(Tag(person.id_number, "外出务工", self.first_identified))
            if person.student_status not in (None, "非在校生", "学前教育"):
                tags.append(Tag(person.id_number, "在校生", self.first_identified))
        for person in people:
            age = person.age_on(self.first_identified)
            if age < 16 and person.relation != "户主" and migrant_parents >= 2:
                tags.append(Tag(person.id_number, "留守儿童", self.first_identified))
            if age >= 60 and len(people) == 1:
                tags.append(Tag(person.id_number, "孤寡老人", self.first_identified))
            elif age >= 60 and all(p.age_on(self.first_identified) >= 60 for p in people):
                tags.append(Tag(person.id_number, "空巢老人", self.first_identified))
        household = Household(
            number=number,
            group_code=group,
            head_name=people[0].name,
            attribute=_pick(rng, ATTRIBUTES),
            main_cause=cause,
            other_causes=tuple(others[:2]),
            ident_standard="国家标准",
            first_identified=self.first_identified,
            planned_exit_year=rng.choice((2016, 2017, 2018, 2019)),
            housing_structure=_pick(rng, HOUSING),
            dilapidated=rng.random() < 0.2,
            safe_water=rng.random() < 0.7,
            house_area_m2=None,
            net_income_per_capita_fen=rng.randint(1500, 3200) * 100,
            phone=f"1{rng.choice('358')}{rng.randint(0, 999_999_999):09d}",
        )
        return SynthHousehold(household, tuple(people), tuple(tags))

    def _person(
        self, rng: random.Random, household: str, relation: str, sex: str, age: int, surname: str, year: int
    ) -> tuple[Person, bool]:
        birth = dt.date(year - age, rng.randint(1, 12), rng.randint(1, 28))
        id_number = self._unique_id(rng, birth, sex)
        name = surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        school_age = age - 6
        if age < 3:
            education, student, labour = "学龄前儿童", "非在校生", "无劳动力"
        elif age < 6:
            education, student, labour = "学龄前儿童", "学前教育", "无劳动力"
        elif age < 18:
            grades = ("小学",) * 6 + ("七年级", "八年级", "九年级", "高中一年级", "高中二年级", "高中三年级")
            student = grades[min(school_age, len(grades) - 1)]
            education = "小学" if school_age < 6 else ("初中" if school_age < 9 else "高中")
            labour = "无劳动力"
        else:
            education = _pick(rng, (("文盲或半文盲", 15), ("小学", 45), ("初中", 32), ("高中", 6), ("大专及以上", 2)))
            student = "非在校生"
            labour = "丧失劳动力" if age >= 70 else ("弱劳动力或半劳动力" if age >= 60 else "普通劳动力")
        health = _pick(rng, HEALTH)
        migrant = labour == "普通劳动力" and 18 <= age <= 55 and health == "健康" and rng.random() < 0.45
        person = Person(
            id_number=id_number,
            household=household,
            name=name,
            relation=relation,
            sex=sex,
            birth_date=birth,
            ethnicity=_pick(rng, ETHNICITY),
            education=education,
            student_status=student,
            health=health,
            labour="技能劳动力" if labour == "普通劳动力" and rng.random() < 0.1 else labour,
            work_status=_pick(rng, MIGRANT_WORK) if migrant else None,
            work_months=rng.randint(6, 12) if migrant else None,
        )
        return person, migrant

    def _unique_id(self, rng: random.Random, birth: dt.date, sex: str) -> str:
        start = rng.randint(0, 499)
        for step in range(500):
            sequence = (start + step) % 500
            # The serial make_id_number builds from the sequence (its parity is the sex).
            if self._used_ids.claim(birth, 2 * sequence + (1 if sex == "男" else 0)):
                return make_id_number(self.county_code, birth, sequence, sex)
        raise RuntimeError(f"no free ID sequence number for {birth}")  # 500 people born one day: not in a village

    def write(
        self,
        store: Store,
        *,
        households: int,
        groups: Sequence[str] | None = None,
        progress: Callable[[int, int], object] | None = None,
    ) -> dict[str, int]:
        """Store synthetic records in one transaction; returns counts.

        Without ``groups``, synthetic areas are created first; with them, the
        households go into those (existing) villager groups. ``progress`` is
        called as ``progress(done, total)`` (households) at the start, every
        :data:`PROGRESS_EVERY` households and at the end.
        """
        counts = {"areas": 0, "households": 0, "persons": 0, "tags": 0}
        with store.transaction("registry.write"):
            if groups is None:
                areas = self.areas(households)
                counts["areas"] = store.add_areas(areas)
                groups = [a.code for a in areas if a.level == "group"]
            report = progress or _quiet
            report(0, households)
            for item in self.households(groups, households):
                store.add_household(item.household, since=self.first_identified)
                for person in item.members:
                    store.add_person(person)
                for tag in item.tags:
                    store.add_tag(tag)
                counts["households"] += 1
                counts["persons"] += len(item.members)
                counts["tags"] += len(item.tags)
                if counts["households"] % PROGRESS_EVERY == 0:
                    report(counts["households"], households)
            if counts["households"] % PROGRESS_EVERY:
                report(counts["households"], households)
        return counts

    def write_files(
        self,
        directory: Path,
        *,
        households: int,
        format: str = "csv",  # noqa: A002 - the name the CLI and callers use
        progress: Callable[[int, int], object] | None = None,
    ) -> dict[str, int]:
        """Write a synthetic register as import files; returns the rows written per file.

        Writes ``areas``, ``households``, ``persons`` and ``tags`` (``.csv`` or
        ``.jsonl``) into ``directory`` with the Chinese column headers of
        ``fupin import`` (written by the import kinds themselves): the areas of
        :meth:`areas`, then the households in those villager groups in order,
        as :meth:`write` stores them. Records are streamed to the files, so
        memory stays flat however many households are written.

        CSV files are UTF-8 with a BOM and ``\\r\\n`` line ends, as Excel
        writes them: dates ISO 8601, booleans 是/否, money in yuan with two
        decimals, several values joined with "、", a missing value an empty
        cell. JSON Lines files hold one object per row with the same headers
        as keys and the same text as values, ``null`` for a missing value.

        The files depend only on ``seed``, ``county_code``, ``first_identified``
        and ``households``: the same arguments give the same bytes.

        Args:
            directory: Created if missing; existing files of the same names are replaced.
            households: How many households.
            format: ``"csv"`` or ``"jsonl"``.
            progress: Called as ``progress(done, total)`` (households) at the start,
                every thousand households and at the end.

        Returns:
            ``{"areas": n, "households": n, "persons": n, "tags": n}``, rows
            written to each file (headers not counted).

        Raises:
            ValueError: ``format`` is neither ``"csv"`` nor ``"jsonl"``.
        """
        if format not in ("csv", "jsonl"):
            raise ValueError(f"format must be 'csv' or 'jsonl', not {format!r}")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        # A fresh generator (its own register of ID numbers), so earlier calls on
        # this one cannot change the files.
        gen = attrs.evolve(self)
        areas = gen.areas(households)
        groups = [a.code for a in areas if a.level == "group"]
        kinds = _file_kinds()
        counts = dict.fromkeys(kinds, 0)
        with ExitStack() as stack:
            out = {
                name: stack.enter_context(_RowWriter(directory / f"{name}.{format}", [c.zh for c in kind.columns], format))
                for name, kind in kinds.items()
            }
            for area in areas:
                out["areas"].write(_cells(kinds["areas"], area))
            counts["areas"] = len(areas)
            report = progress or _quiet
            report(0, households)
            write_household, write_person, write_tag = (
                out["households"].write, out["persons"].write, out["tags"].write,
            )
            done = 0
            household_kind, person_kind, tag_kind = kinds["households"], kinds["persons"], kinds["tags"]
            for item in gen.households(groups, households):
                write_household(_cells(household_kind, item.household))
                for person in item.members:
                    write_person(_cells(person_kind, person))
                for tag in item.tags:
                    write_tag(_cells(tag_kind, tag))
                counts["persons"] += len(item.members)
                counts["tags"] += len(item.tags)
                done += 1
                if done % 1000 == 0:
                    report(done, households)
            counts["households"] = done
            if done % 1000:
                report(done, households)
        return counts


#: :meth:`Synthesizer.write` reports its progress every this many households.
PROGRESS_EVERY = 100


def _quiet(done: int, total: int) -> None:
    """No progress to report."""


# -- import files ---------------------------------------------------------------


def _file_kinds() -> dict[str, Any]:
    """The import kinds the synthetic files are written as: one format, the importer's own."""
    from fupin.io.kinds import AREAS, HOUSEHOLDS, PERSONS, TAGS

    return {"areas": AREAS, "households": HOUSEHOLDS, "persons": PERSONS, "tags": TAGS}


def _cells(kind: Any, record: Any) -> list[Any]:
    values = kind.export_row(kind.db_row(record))
    return [values[c.name] for c in kind.columns]


class _RowWriter:
    """Rows of cells (text or None) to one CSV (UTF-8 with BOM, CRLF) or JSON Lines file."""

    def __init__(self, path: Path, headers: Sequence[str], format: str) -> None:  # noqa: A002
        self.path = path
        self.headers = tuple(headers)
        self.format = format
        self._file: IO[str] | None = None

    def __enter__(self) -> _RowWriter:
        if self.format == "csv":
            self._file = open(self.path, "w", encoding="utf-8-sig", newline="", buffering=1 << 20)  # noqa: SIM115
            writer = csv.writer(self._file, lineterminator="\r\n")
            writer.writerow(self.headers)
            self.write = writer.writerow  # type: ignore[method-assign]
        else:
            self._file = open(self.path, "w", encoding="utf-8", newline="\n", buffering=1 << 20)  # noqa: SIM115
        return self

    def write(self, cells: Sequence[Any]) -> None:
        """Write one row (JSON Lines; CSV rows go straight to ``csv.writer``)."""
        assert self._file is not None
        record = dict(zip(self.headers, cells, strict=True))
        self._file.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
