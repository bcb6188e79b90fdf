"""Small hand-built 挂包帮 / 转走访 campaigns for the pairing, visit, check, exit and report tests.

Everything is seeded through the library (no raw SQL), on the reference plan
``qjnu-tuomu`` but with only the cadres and households a test names, so its
expectations can be exact. Household numbers follow the demo's shape: the
14-digit villager-group code and a 4-digit sequence (``h(1, 3)`` is household
3 of group 1). Every household has a head with a valid ID number and its
status history starts on 2014-10-01 (registered poor before the plan).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from fupin import Area, Cadre, Household, Person, Unit, load_plan
from fupin.actions import SupportAction
from fupin.idnumber import make_id_number
from fupin.model import Case, DiaryEntry, Pairing, Visit
from fupin.pairing import add_pairing
from fupin.storage import schema as S
from fupin.visits import open_case, record_visit

PLAN = "qjnu-tuomu"
VILLAGE = "530326106200"
GROUP_NAMES = ("大沟边", "发和落", "拖木", "小瓦窑")
REGISTERED = dt.date(2014, 10, 1)
HOUSEHOLD_Q = "yunnan-household@1"
VILLAGE_Q = "yunnan-village@1"

KEY = "重点帮扶"
CONTACT = "联系"


def d(text: str) -> dt.date:
    """An ISO date."""
    return dt.date.fromisoformat(text)


def group(n: int) -> str:
    """Code of villager group ``n`` (1-based) of the plan's village."""
    return f"{VILLAGE}{n:02d}"


def h(g: int, seq: int) -> str:
    """Number of household ``seq`` of villager group ``g``."""
    return f"{group(g)}{seq:04d}"


def cadre_code(n: int) -> str:
    return f"QJNU-C{n:03d}"


def tuomu_chain() -> list[Area]:
    """The areas from Yunnan province down to 拖木村 (VILLAGE), parents first."""
    return [
        Area("530000", "云南省", "province"),
        Area("530300", "曲靖市", "city", "530000"),
        Area("530326", "会泽县", "county", "530300"),
        Area("530326106", "者海镇", "town", "530326"),
        Area(VILLAGE, "拖木村", "village", "530326106"),
    ]


def seed_base(store: Any, cadres: Iterable[tuple[str, str]] = ((cadre_code(1), "厅级"), (cadre_code(2), "处级"))) -> Any:
    """Areas down to the four villager groups, the university QJNU, the given (code, rank) cadres and the plan.

    Returns the stored plan.
    """
    plan = load_plan(PLAN)
    with store.transaction():
        store.add_areas(
            [
                *tuomu_chain(),
                *(Area(group(i + 1), name, "group", VILLAGE) for i, name in enumerate(GROUP_NAMES)),
            ]
        )
        store.add_unit(Unit.new(code="QJNU", name="曲靖师范学院", kind="university", vocab=store.vocab))
        for code, rank in cadres:
            store.add_cadre(Cadre.new(code=code, name=f"干部{code[-3:]}", unit="QJNU", rank=rank, vocab=store.vocab))
    store.save_plan(plan)
    return store.plan(PLAN)


def add_household(store: Any, g: int, seq: int, *, attribute: str = "一般贫困户", main_cause: str = "缺技术", **fields: Any) -> str:
    """Register household ``h(g, seq)`` (poor since 2014-10-01) with a head; returns its number."""
    number = h(g, seq)
    store.add_household(
        Household.new(
            vocab=store.vocab, number=number, group_code=group(g), head_name=f"户主{g}-{seq}",
            attribute=attribute, main_cause=main_cause, **fields,
        ),
        since=REGISTERED,
    )
    store.add_person(
        Person.new(
            vocab=store.vocab,
            id_number=make_id_number("530326", dt.date(1950, 1, 1) + dt.timedelta(days=97 * g + seq), seq % 500, "男"),
            household=number, name=f"户主{g}-{seq}", relation="户主",
        )
    )
    return number


def id_numbers(store: Any) -> list[str]:
    """Every stored person's ID number."""
    with store.engine.connect() as conn:
        return list(conn.execute(sa.select(S.persons.c.id_number)).scalars())


def pair(store: Any, cadre: str, household: str, kind: str = KEY, start: str = "2015-08-20", end: str | None = None) -> int:
    """A 帮户 pairing of the plan; returns its id."""
    return add_pairing(
        store,
        Pairing.new(vocab=store.vocab, level="帮户", start=start, end=end, cadre=cadre, household=household, kind=kind, plan=PLAN),
    )


#: Answers of the household questionnaire that pass every exit criterion, with an income above the 2016 line.
PASSING = {
    "attribute": "一般贫困户",
    "household_size": 4,
    "disposable_income_per_person": "3500",
    "gross_income": "14,000.50",
    "help_needs": ["产业", "技术"],
    "food_clothing_ok": "是",
    "compulsory_education_ok": "是",
    "medical_insurance_ok": "是",
    "housing_safe": "是",
    "safe_water_ok": "是",
}


def answers(**changes: Any) -> dict[str, Any]:
    """:data:`PASSING` with some answers changed (``None`` drops one)."""
    out = {**PASSING, **changes}
    return {k: v for k, v in out.items() if v is not None}


def visit(
    store: Any,
    ref: str,
    household: str,
    day: str,
    cadres: Iterable[str] = (cadre_code(1),),
    *,
    kind: str = "首轮走访",
    given: Mapping[str, Any] | None = None,
    questionnaire: str | None = HOUSEHOLD_Q,
    findings: str = "走访了解家庭情况",
) -> int:
    """Record a household visit of the plan (with :data:`PASSING` answers unless ``given``); returns its id."""
    given = PASSING if given is None else given
    return record_visit(
        store,
        Visit.new(
            vocab=store.vocab, ref=ref, date=day, kind=kind, cadres=tuple(cadres), household=household, plan=PLAN,
            questionnaire=questionnaire if given else None, answers=dict(given) or None, findings=findings,
        ),
    )


def village_visit(store: Any, ref: str, day: str, cadres: Iterable[str] = (cadre_code(1),), *, village: str = VILLAGE,
                  kind: str = "回访", questionnaire: str | None = VILLAGE_Q, findings: str = "村情座谈") -> int:
    """Record a visit of the plan to the village with the village questionnaire (C11 asks for one each year)."""
    return record_visit(
        store,
        Visit.new(
            vocab=store.vocab, ref=ref, date=day, kind=kind, cadres=tuple(cadres), village=village, plan=PLAN,
            questionnaire=questionnaire, answers={"total_households": 778, "total_population": 2996} if questionnaire else None, findings=findings,
        ),
    )


def action(store: Any, kind: str, day: str, ref: str, details: Mapping[str, Any], *, unit: str = "QJNU", **fields: Any) -> Any:
    """Record a support action of the plan."""
    return store.record_action(
        SupportAction.new(store.hooks.action_kind(kind), start=day, unit=unit, plan=PLAN, details=dict(details), ref=ref, **fields)
    )


def case(store: Any, ref: str, household: str, opened: str, cadre: str = cadre_code(1), **fields: Any) -> int:
    """Open a case about a household."""
    return open_case(
        store,
        Case.new(vocab=store.vocab, ref=ref, kind="诉求", opened=opened, cadre=cadre, summary="申请危房改造", household=household, **fields),
    )


def diary(store: Any, ref: str, day: str, cadre: str = cadre_code(1), **fields: Any) -> int:
    """Write a 民情日记 entry."""
    from fupin.visits import add_diary_entry

    return add_diary_entry(
        store, DiaryEntry.new(vocab=store.vocab, ref=ref, date=day, cadre=cadre, kind="民情日记", text="村民反映饮水困难", **fields)
    )


def count(store: Any, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def snapshot(store: Any) -> dict[str, int]:
    """Row counts of every core table (to show a refused call changed nothing)."""
    with store.engine.connect() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in S.metadata.sorted_tables
            if t.name != "import_batches"
        }


def build_demo_file(directory: Any) -> str:
    """Build the demo village's register (``fupin demo --register-only``: no simulated years) in an SQLite
    file under ``directory``, as TEST:tester; returns its path.

    Tests copy the file (:func:`copy_demo`) instead of building the village again.
    """
    from click.testing import CliRunner

    from fupin.cli import make_cli
    from fupin.plugins import get_plugin_manager

    path = f"{directory}/demo.db"
    result = CliRunner().invoke(
        make_cli(get_plugin_manager(load_entrypoints=False)), ["--db", f"sqlite:///{path}", "--as", "TEST:tester", "demo", "--register-only"]
    )
    assert result.exit_code == 0, result.output
    return path


def copy_demo(demo_file: str, directory: Any) -> str:
    """A private copy of the demo database file; returns its URL."""
    import shutil

    target = f"{directory}/demo-copy.db"
    shutil.copyfile(demo_file, target)
    return f"sqlite:///{target}"


def proper_name(run: str, names: set[str]) -> bool:
    """A Chinese run in English text is a proper name: part of one of the database's names, made of them
    (会泽县者海镇), or a place the plan file names that the register does not hold (会泽县五星乡: ending in 乡, 镇, 县 ...)."""
    if any(run in name for name in names):
        return True
    for name in sorted(names, key=len, reverse=True):
        run = run.replace(name, "")
    return run == "" or (len(run) <= 4 and run.endswith(("乡", "镇", "县", "村", "市", "区", "校", "中", "学")))
