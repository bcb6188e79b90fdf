"""Duplicate people: the same person registered twice (重复登记).

An ID number is unique in the registry, so a person registered twice carries
two different numbers (a typo in the number, a number made up for someone
without a card, a re-issued card). :func:`scan` finds such look-alikes
without relying on the numbers; :func:`merge` folds one record into the
other, keeping the history of both in the audit log.

Scoring rule of :func:`scan` (a pair must be in the same village, with the
same birth date):

============================================== =====
same name (同名)                                 0.95
same pinyin of the name, other characters (同音) 0.85
names one character apart, same sex (形近)      0.70
same household, or else same villager group     +0.05
============================================== =====

capped at 1.0. A pair that was merged once never comes back.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Mapping
from itertools import combinations, groupby
from typing import Any

import attrs
import sqlalchemy as sa

from fupin.errors import Problem, ValidationError
from fupin.idnumber import IdNumber, make_id_number
from fupin.model import HEAD_RELATION, Person
from fupin.serial import Serialisable
from fupin.storage import schema as S
from fupin.text import mask_id

__all__ = ["Candidate", "MergeResult", "merge", "plant_lookalikes", "scan"]

SAME_NAME = 0.95
SAME_PINYIN = 0.85
ONE_EDIT = 0.70
NEARBY_BONUS = 0.05

#: Person fields a merge may fill on the kept record from the dropped one.
FILLABLE = ("ethnicity", "education", "student_status", "health", "labour", "work_status", "work_months", "phone")
#: Fields compared to report conflicts (both set, different values).
COMPARED = ("name", "household", "relation", "sex", *FILLABLE)

#: Characters read alike (tone-less pinyin), both ways: for planting homophone look-alikes.
HOMOPHONES = dict(
    pair
    for a, b in (
        ("张", "章"), ("王", "汪"), ("李", "黎"), ("刘", "柳"), ("陈", "晨"), ("杨", "阳"), ("周", "州"),
        ("吴", "武"), ("林", "霖"), ("明", "铭"), ("华", "桦"), ("英", "瑛"), ("文", "雯"), ("兰", "蓝"),
        ("玉", "钰"), ("芳", "方"), ("军", "君"), ("平", "萍"), ("红", "虹"), ("云", "芸"), ("荣", "容"),
        ("丽", "莉"), ("梅", "玫"), ("珍", "真"), ("成", "诚"), ("光", "广"), ("正", "政"), ("洪", "宏"),
        ("刚", "钢"), ("燕", "艳"), ("凤", "峰"), ("飞", "菲"), ("国", "帼"), ("志", "智"), ("春", "椿"),
    )
    for pair in ((a, b), (b, a))
)


@attrs.frozen
class Candidate(Serialisable):
    """Two registered persons who may be one.

    Attributes:
        keep: ID number of the record to keep (the household head, else the
            one registered first).
        other: ID number of the likely duplicate.
        keep_name: Name on the kept record.
        other_name: Name on the other record.
        keep_household: 户编号 of the kept record.
        other_household: 户编号 of the other record.
        village: 12-digit code of their village.
        score: How likely they are one person, 0..1 (see the module docstring).
        reasons: Why, as short Chinese / English strings.
    """

    keep: str
    other: str
    keep_name: str
    other_name: str
    keep_household: str
    other_household: str
    village: str
    score: float
    reasons: tuple[str, ...]

    def to_dict(self, *, unmasked: bool = False) -> dict[str, Any]:
        """Plain values for JSON; ID numbers masked unless ``unmasked``."""
        out = super().to_dict()
        if not unmasked:
            out["keep"], out["other"] = mask_id(self.keep), mask_id(self.other)
        return out


@attrs.frozen
class MergeResult(Serialisable):
    """What :func:`merge` did.

    Attributes:
        keep: ID number of the kept person.
        drop: ID number of the deleted record.
        keep_name: Name of the kept person.
        drop_name: Name on the deleted record.
        tags_moved: Tags moved from the dropped record to the kept one.
        tags_skipped: Tags of the dropped record the kept one already had (deleted).
        actions: Support actions whose beneficiary now names the kept person.
        filled: Fields empty on the kept record, filled from the dropped one.
        conflicts: Fields set on both with different values: ``{field: (kept, dropped)}``;
            the kept values stay.
    """

    keep: str
    drop: str
    keep_name: str
    drop_name: str
    tags_moved: int
    tags_skipped: int
    actions: int
    filled: tuple[str, ...]
    conflicts: dict[str, tuple[Any, Any]]


# -- scanning -----------------------------------------------------------------


def _village_of(column: Any) -> Any:
    # Literal positions: with server-side parameters (psycopg) a bound substr() in
    # SELECT and GROUP BY would be two different expressions to PostgreSQL.
    return sa.func.substr(column, sa.literal_column("1"), sa.literal_column("12"))


def scan(store: Any, *, village: str | None = None, min_score: float = 0.6) -> list[Candidate]:
    """Likely duplicate people, most likely first (then by ID numbers).

    Only people of one village born on the same day are compared: the
    database groups them, so a province's register is never compared pair by
    pair.

    Args:
        store: The :class:`fupin.store.Store` to search.
        village: Only this village (12-digit code).
        min_score: Leave out pairs scoring less.

    Raises:
        ValidationError: ``village`` is not a 12-digit code.
        AccessDenied: The actor may not read the registry (``registry.read``);
            otherwise only households in the actor's scope are searched.
    """
    if village is not None and not (len(village) == 12 and village.isascii() and village.isdigit()):
        raise ValidationError.of("village", "应为 12 位村级区划代码 / must be a 12-digit village code", village)
    store.access.require("registry.read")
    # Only households the actor may read: both persons of a pair must be in scope.
    readable = store.access.household_condition("registry.read")
    p, h = S.persons, S.households
    village_col = _village_of(h.c.group_code)
    joined = p.join(h, h.c.id == p.c.household_id)
    groups = sa.select(village_col.label("village"), p.c.birth_date).select_from(joined).where(readable)
    if village is not None:
        groups = groups.where(h.c.group_code.startswith(village))
    groups = groups.group_by(village_col, p.c.birth_date).having(sa.func.count() > 1).subquery()
    query = (
        sa.select(
            p.c.id, p.c.id_number, p.c.name, p.c.sex, p.c.relation, p.c.birth_date,
            h.c.number.label("household"), h.c.group_code, groups.c.village,
        )
        .select_from(joined.join(groups, (village_col == groups.c.village) & (p.c.birth_date == groups.c.birth_date)))
        .where(readable)
        .order_by(groups.c.village, p.c.birth_date, p.c.id)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
        merged = _merged_pairs(conn, sorted({r.id_number for r in rows}))
    found = []
    for _, group in groupby(rows, key=lambda r: (r.village, r.birth_date)):
        for a, b in combinations(list(group), 2):
            if frozenset((a.id_number, b.id_number)) in merged:
                continue
            candidate = _compare(a, b)
            if candidate is not None and candidate.score >= min_score:
                found.append(candidate)
    return sorted(found, key=lambda c: (-c.score, c.keep, c.other))


def _merged_pairs(conn: sa.Connection, numbers: list[str]) -> set[frozenset[str]]:
    """Pairs merged before among ``numbers``: a merge entry is keyed on the kept number."""
    log = S.audit_log
    pairs = set()
    # By key, in chunks: the (table_name, record_key) index finds them without reading the whole log.
    for i in range(0, len(numbers), 500):
        entries = conn.execute(
            sa.select(log.c.record_key, log.c.old).where(
                (log.c.table_name == S.persons.name)
                & log.c.record_key.in_(numbers[i : i + 500])
                & (log.c.operation == "merge")
            )
        )
        pairs |= {frozenset((key, (old or {}).get("id_number"))) for key, old in entries}
    return pairs


@functools.lru_cache(maxsize=4096)
def _pinyin(name: str) -> tuple[str, ...]:
    # Imported here: pypinyin's dictionaries take ~50 MB and 0.3 s, and every
    # fupin command would pay for them if the CLI imported them up front.
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin(name))


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether one substitution, insertion or deletion turns ``a`` into ``b``."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _compare(a: Any, b: Any) -> Candidate | None:
    if a.name == b.name:
        score, reasons = SAME_NAME, ["同名同出生日期 / same name and birth date"]
    elif _pinyin(a.name) == _pinyin(b.name):
        score, reasons = SAME_PINYIN, ["同音姓名同出生日期 / same-sounding name and birth date"]
    elif a.sex == b.sex and _one_edit_apart(a.name, b.name):
        score, reasons = ONE_EDIT, ["姓名差一字, 同出生日期同性别 / names one character apart, same birth date and sex"]
    else:
        return None
    if a.household == b.household:
        score += NEARBY_BONUS
        reasons.append("同户 / same household")
    elif a.group_code == b.group_code:
        score += NEARBY_BONUS
        reasons.append("同村民小组 / same villager group")
    # The head's record, else the older one, is the one to keep.
    keep, other = sorted((a, b), key=lambda r: (r.relation != HEAD_RELATION, r.id))
    return Candidate(
        keep=keep.id_number,
        other=other.id_number,
        keep_name=keep.name,
        other_name=other.name,
        keep_household=keep.household,
        other_household=other.household,
        village=a.village,
        score=round(min(1.0, score), 2),
        reasons=tuple(reasons),
    )


# -- merging ------------------------------------------------------------------


def merge(store: Any, keep: str, drop: str, *, reason: str = "") -> MergeResult:
    """Fold the person ``drop`` into ``keep``, in one transaction.

    The dropped person's tags move to the kept person (exact duplicates are
    deleted), support actions that helped the dropped person now name the
    kept one, fields empty on the kept record are filled from the dropped one
    (set fields are never overwritten: differences are reported as
    conflicts), and the dropped record is deleted. The audit log gets a
    ``merge`` entry on the kept key holding the dropped record in full, a
    ``delete`` entry on the dropped key and an entry for every other row changed.

    Args:
        store: The :class:`fupin.store.Store`.
        keep: ID number of the record to keep (any accepted form).
        drop: ID number of the record to fold into it.
        reason: Why, for the audit log.

    Raises:
        ValidationError: A number is invalid or not registered, both are the
            same person, both are heads (户主) of different households, or the
            dropped person heads a household (drop the other record instead,
            or change the head first).
        AccessDenied: The actor lacks ``dedup.merge`` over both households.
    """
    store.access.require("dedup.merge")
    keep = IdNumber.parse(keep, field="keep").number
    drop = IdNumber.parse(drop, field="drop").number
    if keep == drop:
        raise ValidationError.of("drop", "与保留的是同一人 / is the same person as keep", mask_id(drop))
    p, h = S.persons, S.households
    with store.transaction("dedup.merge") as conn:
        rows = {
            r["id_number"]: r
            for r in conn.execute(
                sa.select(p, h.c.number.label("household"))
                .join(h, h.c.id == p.c.household_id)
                .where(p.c.id_number.in_([keep, drop]))
            ).mappings()
        }
        problems = [
            Problem(field, "人员未登记 / person not registered", mask_id(number))
            for field, number in (("keep", keep), ("drop", drop))
            if number not in rows
        ]
        if problems:
            raise ValidationError(problems, record="merge")
        kept, dropped = rows[keep], rows[drop]
        for row in (kept, dropped):
            store.access.require_household(conn, "dedup.merge", row["household"])
        _refuse_heads(kept, dropped)
        filled = {f: dropped[f] for f in FILLABLE if kept[f] in (None, "") and dropped[f] not in (None, "")}
        conflicts = {
            f: (kept[f], dropped[f])
            for f in COMPARED
            if kept[f] not in (None, "") and dropped[f] not in (None, "") and kept[f] != dropped[f]
        }
        moved, skipped = _move_tags(store, conn, kept, dropped)
        actions = _repoint_actions(store, conn, keep, drop)
        if filled:
            conn.execute(p.update().where(p.c.id == kept["id"]).values(**filled, version=kept["version"] + 1))
            store._audit(conn, "update", p, keep, {f: kept[f] for f in filled}, filled, reason or None)
        conn.execute(p.delete().where(p.c.id == dropped["id"]))
        details = {
            "merged_into": keep,
            "filled": list(filled),
            "conflicts": {f: {"keep": k, "drop": d} for f, (k, d) in conflicts.items()},
        }
        store._audit(conn, "merge", p, keep, dict(dropped), details, reason or None)
        store._audit(conn, "delete", p, drop, dict(dropped), {"merged_into": keep}, reason or None)
    return MergeResult(
        keep=keep,
        drop=drop,
        keep_name=kept["name"],
        drop_name=dropped["name"],
        tags_moved=moved,
        tags_skipped=skipped,
        actions=actions,
        filled=tuple(filled),
        conflicts=conflicts,
    )


def _refuse_heads(kept: Mapping[str, Any], dropped: Mapping[str, Any]) -> None:
    if dropped["relation"] != HEAD_RELATION:
        return
    if kept["relation"] == HEAD_RELATION:
        reason = (
            f"两人分别是户 {kept['household']} 和 {dropped['household']} 的户主, 请先合并或调整户 / "
            "both are heads of different households: merge or change the households first"
        )
    else:
        reason = (
            f"要删除的是户 {dropped['household']} 的户主, 请保留户主 / "
            "the record to drop is a household head: keep the head and drop the other record"
        )
    raise ValidationError.of("drop", reason, mask_id(dropped["id_number"]))


def _move_tags(store: Any, conn: sa.Connection, kept: Mapping[str, Any], dropped: Mapping[str, Any]) -> tuple[int, int]:
    t = S.person_tags
    same = ("tag", "start", "end", "note")
    existing = {tuple(r) for r in conn.execute(sa.select(*(t.c[c] for c in same)).where(t.c.person_id == kept["id"]))}
    moved = skipped = 0
    for row in conn.execute(sa.select(t).where(t.c.person_id == dropped["id"]).order_by(t.c.id)).mappings().all():
        old = {**row, "id_number": dropped["id_number"]}
        if tuple(row[c] for c in same) in existing:
            conn.execute(t.delete().where(t.c.id == row["id"]))
            store._audit(conn, "delete", t, f"{dropped['id_number']}/{row['tag']}", old, None)
            skipped += 1
        else:
            conn.execute(t.update().where(t.c.id == row["id"]).values(person_id=kept["id"]))
            new = {"person_id": kept["id"], "id_number": kept["id_number"]}
            store._audit(conn, "update", t, f"{kept['id_number']}/{row['tag']}", {k: old[k] for k in new}, new)
            moved += 1
    return moved, skipped


def _repoint_actions(store: Any, conn: sa.Connection, keep: str, drop: str) -> int:
    b, a = S.action_beneficiaries, S.support_actions
    action_ids = conn.execute(
        sa.select(b.c.action_id).where((b.c.type == "person") & (b.c.ref == drop)).order_by(b.c.action_id)
    ).scalars().all()
    for action_id in action_ids:
        before = sorted(f"{r.type}:{r.ref}" for r in conn.execute(sa.select(b).where(b.c.action_id == action_id)))
        mine = (b.c.action_id == action_id) & (b.c.type == "person")
        if f"person:{keep}" in before:
            conn.execute(b.delete().where(mine & (b.c.ref == drop)))
        else:
            conn.execute(b.update().where(mine & (b.c.ref == drop)).values(ref=keep))
        conn.execute(a.update().where(a.c.id == action_id).values(version=a.c.version + 1))
        after = sorted({f"person:{keep}" if s == f"person:{drop}" else s for s in before})
        store._audit(conn, "update", a, action_id, {"beneficiaries": before}, {"beneficiaries": after})
    return len(action_ids)


# -- test data ----------------------------------------------------------------


def plant_lookalikes(store: Any, count: int = 3, *, seed: int = 0) -> list[tuple[str, str]]:
    """Register ``count`` look-alikes of existing people, for tests and demos.

    They come in turn: the same name, a homophone (same pinyin, other
    characters, from :data:`HOMOPHONES`), a name one character apart. Each
    has its original's birth date and sex, a different valid ID number, and
    is a non-head member (其他) of a household in the original's village.

    Returns:
        ``(original, look-alike)`` ID numbers, in the order planted.

    Raises:
        ValidationError: The register has too few people to copy.
    """
    rng = random.Random(seed)
    p, h = S.persons, S.households
    with store.engine.connect() as conn:
        people = conn.execute(
            sa.select(p.c.id_number, p.c.name, h.c.number.label("household"), h.c.group_code)
            .join(h, h.c.id == p.c.household_id)
            .order_by(p.c.id)
        ).all()
        households = conn.execute(sa.select(h.c.number, h.c.group_code).order_by(h.c.id)).all()
    makers: list[Callable[[str, random.Random], str | None]] = [_same_name, _homophone, _one_char_off]
    used: set[str] = set()
    planted = []
    with store.transaction("registry.write"):
        for i in range(count):
            make = makers[i % len(makers)]
            for original in rng.sample(people, len(people)):
                name = None if original.id_number in used else make(original.name, rng)
                if name is not None:
                    break
            else:
                raise ValidationError.of("count", "登记人员不足以复制 / too few registered people to copy", count)
            used.add(original.id_number)
            village = original.group_code[:12]
            household = rng.choice([n for n, g in households if g.startswith(village)])
            number = _free_id_number(store, IdNumber.parse(original.id_number), rng)
            store.add_person(Person(id_number=number, household=household, name=name, relation="其他"))
            planted.append((original.id_number, number))
    return planted


def _same_name(name: str, rng: random.Random) -> str | None:
    return name


def _homophone(name: str, rng: random.Random) -> str | None:
    spots = [i for i, ch in enumerate(name) if ch in HOMOPHONES]
    rng.shuffle(spots)
    for i in spots:
        twin = name[:i] + HOMOPHONES[name[i]] + name[i + 1 :]
        # Readings depend on neighbours (多音字): check the whole name.
        if _pinyin(twin) == _pinyin(name):
            return twin
    return None


def _one_char_off(name: str, rng: random.Random) -> str | None:
    from fupin.synth import GIVEN

    if len(name) < 2:
        return None
    i = len(name) - 1
    # A different reading too, so the pair is found by spelling, not sound.
    choices = [ch for ch in GIVEN if ch not in name and _pinyin(ch) != _pinyin(name[i])]
    return name[:i] + rng.choice(choices)


def _free_id_number(store: Any, original: IdNumber, rng: random.Random) -> str:
    start = rng.randrange(500)
    with store.transaction("registry.write") as conn:
        for step in range(500):
            number = make_id_number(original.area_code, original.birth_date, (start + step) % 500, original.sex)
            if conn.execute(sa.select(S.persons.c.id).where(S.persons.c.id_number == number)).first() is None:
                return number
    raise ValidationError.of("birth_date", "该日出生的号码已用完 / no free ID number for this birth date", original.birth_date)
