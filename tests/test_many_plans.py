"""Many plans in one database: the reference plan and a second, made-up plan side by side.

The second plan (``examples/plans/ddac-xinzhai.toml``) has another college,
county, village, cadre ranks, quotas, budget, crop and schools, revisits twice
a year and pays study aid by 15 September. Both plans are built and played
through the library (register, pairing, visits with answers, diary, cases,
exits, and every installed plugin's stream: projects, funds, payments,
trainings ...) in ONE database, then checked and reported.

The rule under test: each plan's check and report see only its own records,
whether they were recorded through the library or imported from files.
It is tested two ways:

- *unchanged by the other*: a plan's statuses and figures, and its report,
  are the same with the other plan's records in the database as without them
  (the first plan is checked before the second is added; the second is also
  built alone in a database of its own);
- *evidence is its own*: every record a check cites as evidence (a visit, an
  action, a pairing) belongs to the plan checked.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fupin.checks import check_plan, validate_plan
from fupin.demo import build_demo
from fupin.lint import lint_plan
from fupin.plans import load_plan
from fupin.report import build_report, render_report_text
from fupin.simulate import play
from fupin.storage import schema as S
from fupin.testing import TEST_ACTOR, fresh_postgres_database, sqlite_file_url
from tests.campaign_seed import proper_name

SECOND = Path(__file__).resolve().parents[1] / "examples" / "plans" / "ddac-xinzhai.toml"
REFERENCE = "qjnu-tuomu"
SEED = 7


@pytest.fixture(scope="module")
def installed_pm() -> Any:
    """The installed plugins (funding, education, ...), so their records are in the test too."""
    from fupin.plugins import get_plugin_manager

    return get_plugin_manager()


def _open(url: str, pm: Any) -> Any:
    from fupin.store import Actor, Store

    store = Store.open(url, pm=pm, actor=Actor.parse(TEST_ACTOR))
    store.init()
    return store


def _snapshot(store: Any, plan: Any) -> dict[str, Any]:
    """A plan's checks year by year (status and figures, not record numbers) and its last year's report text."""
    as_of = dt.date(plan.period_end.year + 1, 3, 31)
    checks = {}
    for year in plan.years():
        for r in check_plan(store, plan, year, as_of=as_of):
            checks[(year, r.commitment)] = (r.status.value, r.required, r.actual, r.figures)
    report = build_report(store, plan, plan.years()[-1], as_of=as_of)
    # The report's commitment table repeats the checks; its sections are compared one by one.
    sections = {s.key: repr(s) for s in report.sections}
    return {"checks": checks, "report": render_report_text(report, "en"), "sections": sections}


def _evidence(store: Any, plan: Any) -> dict[str, list[str]]:
    """Per commitment, the evidence keys of the plan's checks (every year)."""
    as_of = dt.date(plan.period_end.year + 1, 3, 31)
    out: dict[str, list[str]] = {}
    for year in plan.years():
        for r in check_plan(store, plan, year, as_of=as_of):
            out.setdefault(r.commitment, []).extend(r.evidence)
    return out


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, installed_pm: Any) -> Iterator[dict[str, Any]]:
    """Both plans in one database, with snapshots taken before and after the other plan arrived."""
    mp = pytest.MonkeyPatch()
    mp.setenv("FUPIN_ACTOR", TEST_ACTOR)

    with _databases(request.param, tmp_path_factory) as (shared_url, alone_url):
        reference, second = load_plan(REFERENCE), load_plan(SECOND)
        shared = _open(shared_url, installed_pm)
        try:
            build_demo(shared, REFERENCE, seed=SEED)
            play(shared, reference, seed=SEED)
            reference_alone = _snapshot(shared, reference)
            build_demo(shared, str(SECOND), seed=SEED)
            play(shared, second, seed=SEED)
            world = {
                "store": shared,
                "reference": reference,
                "second": second,
                "reference_alone": reference_alone,
                "reference_shared": _snapshot(shared, reference),
                "second_shared": _snapshot(shared, second),
            }
            alone = _open(alone_url, installed_pm)
            try:
                build_demo(alone, str(SECOND), seed=SEED)
                play(alone, second, seed=SEED)
                world["second_alone"] = _snapshot(alone, second)
            finally:
                alone.close()
            world["backend"], world["alone_url"] = request.param, alone_url
            yield world
        finally:
            shared.close()
            mp.undo()


class _databases:
    """Two empty databases of one backend (SQLite files, or fresh PostgreSQL databases)."""

    def __init__(self, backend: str, factory: pytest.TempPathFactory) -> None:
        self.backend, self.factory = backend, factory
        self._stack: Any = None

    def __enter__(self) -> tuple[str, str]:
        from contextlib import ExitStack

        if self.backend == "sqlite":
            directory = self.factory.mktemp("many")
            return sqlite_file_url(directory, "shared.db"), sqlite_file_url(directory, "alone.db")
        self._stack = ExitStack()
        return self._stack.enter_context(fresh_postgres_database()), self._stack.enter_context(fresh_postgres_database())

    def __exit__(self, *exc: object) -> None:
        if self._stack is not None:
            self._stack.close()


def _changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {f"{year} {cid}": (before["checks"][(year, cid)], after["checks"].get((year, cid)))
            for (year, cid) in before["checks"] if before["checks"][(year, cid)] != after["checks"].get((year, cid))}


def _sections_changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    keys = sorted(set(before["sections"]) | set(after["sections"]))
    return [k for k in keys if before["sections"].get(k) != after["sections"].get(k)]


# --------------------------------------------------------------------------- the example plan


class TestSecondPlan:
    def test_loads_validates_and_lints(self, installed_pm):
        """The example plan loads, its parameters suit the installed targets, and lint finds no error."""
        from fupin.hooks import Hooks

        plan = load_plan(SECOND)
        validate_plan(plan, Hooks(installed_pm).targets())
        findings = lint_plan(plan, Hooks(installed_pm).targets())
        assert not [f for f in findings if f.severity == "error"]
        assert plan.helping_unit.code != load_plan(REFERENCE).helping_unit.code
        assert plan.commitment("D07").params["revisit_per_year"] == 2
        assert plan.commitment("D13").params["due"] == "09-15"
        assert [r.rank for r in plan.cadres.ranks] == ["处级", "科级"]

    def test_demo_plays_it(self, cli, tmp_path):
        """`fupin demo --plan FILE` plays the second plan: its village, towns, schools and crop, no traceback."""
        result = cli("--db", sqlite_file_url(tmp_path), "demo", "--plan", str(SECOND), "--lang", "en")
        assert result.exit_code == 0, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Demo village 新寨村 built" in result.output
        assert "Cadres 14: " in result.output and "科级 10" in result.output
        assert "龙潭镇中学" in result.output and "新寨村小学" in result.output
        for other in ("拖木", "者海", "蓝莓", "曲靖师范学院"):
            assert other not in result.output


# --------------------------------------------------------------------------- one database


def test_both_plans_in_one_database(world):
    """Each plan's records carry its own plan and unit: visits, pairings and actions are never shared."""
    store, reference, second = world["store"], world["reference"], world["second"]
    with store.engine.connect() as conn:
        visits = dict(conn.execute(sa.select(S.visits.c.plan_name, sa.func.count()).group_by(S.visits.c.plan_name)).all())
        actions = dict(conn.execute(
            sa.select(S.support_actions.c.plan_name, sa.func.count()).group_by(S.support_actions.c.plan_name)
        ).all())
        mixed = conn.execute(
            sa.select(sa.func.count()).select_from(S.support_actions)
            .join(S.units, S.units.c.code == S.support_actions.c.unit_code)
            .where(sa.or_(
                sa.and_(S.support_actions.c.plan_name == second.name, S.support_actions.c.unit_code.like("QJNU%")),
                sa.and_(S.support_actions.c.plan_name == reference.name, S.support_actions.c.unit_code.like("DDAC%")),
            ))
        ).scalar_one()
    assert visits[reference.name] > 0 and visits[second.name] > 0
    assert actions[reference.name] > 0 and actions[second.name] > 0
    assert mixed == 0


def test_second_plan_revisits_twice_a_year(world):
    """The simulation follows the second plan's rule: two revisits a year, and its visit check is met in a full year."""
    checks = world["second_shared"]["checks"]
    year = world["second"].years()[1]
    status, _, _, figures = checks[(year, "D07")]
    assert status == "met", (status, figures)


def test_reference_plan_unchanged_by_the_second(world):
    """The reference plan's statuses, figures and report are the same before and after the second plan arrived."""
    changed = _changed(world["reference_alone"], world["reference_shared"])
    assert changed == {}, sorted(changed)
    assert _sections_changed(world["reference_alone"], world["reference_shared"]) == []
    assert world["reference_alone"]["report"] == world["reference_shared"]["report"]


def test_second_plan_unchanged_by_the_reference(world):
    """The second plan's statuses, figures and report are the same alone and beside the reference plan."""
    changed = _changed(world["second_alone"], world["second_shared"])
    assert changed == {}, sorted(changed)
    assert _sections_changed(world["second_alone"], world["second_shared"]) == []
    assert world["second_alone"]["report"] == world["second_shared"]["report"]


def test_evidence_is_the_plans_own(world):
    """Every visit, action and pairing a check cites belongs to the plan checked (its plan name or its cadres)."""
    store = world["store"]
    with store.engine.connect() as conn:
        visit_plan = dict(conn.execute(sa.select(S.visits.c.ref, S.visits.c.plan_name)).all())
        action_plan = dict(conn.execute(sa.select(S.support_actions.c.ref, S.support_actions.c.plan_name)).all())
        pairing_unit = dict(conn.execute(
            sa.select(S.pairings.c.id, S.cadres.c.unit_code).join(S.cadres, S.cadres.c.code == S.pairings.c.cadre_code)
        ).all())
    for plan in (world["reference"], world["second"]):
        unit = plan.helping_unit.code
        foreign = {}
        for cid, keys in _evidence(store, plan).items():
            for key in keys:
                table, _, ref = key.partition(":")
                owner = {"visit": lambda r: visit_plan.get(r), "action": lambda r: action_plan.get(r),
                         "pairing": lambda r: plan.name if str(pairing_unit.get(int(r) if r.isdigit() else r, "")).startswith(unit) else "other"}
                if table in owner and owner[table](ref) not in (plan.name, None):
                    foreign.setdefault(cid, []).append(key)
        assert foreign == {}, plan.name


#: The second plan's records, exported from its own database and imported beside the reference plan,
#: in the order their references need (the core's kinds: the plugins' streams are compared above).
CORE_KINDS = ("areas", "units", "cadres", "households", "persons", "tags", "pairings", "visits", "actions", "cases", "diary")


def test_second_plan_arrives_through_import(world, installed_pm, tmp_path):
    """The second plan's register, pairings, visits, actions, diary and cases, exported from its own database
    (`fupin export --unmasked`) and read in with `fupin import` beside the reference plan, give the same core
    checks as in a database of its own, and change nothing of the reference plan's."""
    from click.testing import CliRunner

    from fupin.cli import make_cli

    command = make_cli(installed_pm)

    def fupin(*args: str) -> str:
        result = CliRunner().invoke(command, list(args), env={"FUPIN_ACTOR": TEST_ACTOR})
        assert result.exit_code == 0, result.output
        return result.output

    reference, second = world["reference"], world["second"]
    with _databases(world["backend"], _Factory(tmp_path)) as (url, _):
        store = _open(url, installed_pm)
        try:
            build_demo(store, REFERENCE, seed=SEED)
            play(store, reference, seed=SEED)
            fupin("--db", url, "plan", "load", str(SECOND))
            for kind in CORE_KINDS:
                path = tmp_path / f"{kind}.csv"
                fupin("--db", world["alone_url"], "export", kind, "--unmasked", "-o", str(path))
                fupin("--db", url, "import", kind, str(path))
            imported = _snapshot(store, second)
            reference_after = _snapshot(store, reference)
        finally:
            store.close()
    # Exits are dated status changes recorded with `fupin exit record`, not rows of a households file:
    # the exit deadline's figures are not carried by these files.
    core = {c.id for c in second.commitments if c.target.startswith("core.") and c.target != "core.exit_by"}
    alone = {k: v for k, v in world["second_alone"]["checks"].items() if k[1] in core}
    assert {k: v for k, v in imported["checks"].items() if k[1] in core} == alone
    assert any(status == "met" for status, *_ in alone.values())  # the comparison is of real figures
    assert _changed(world["reference_alone"], reference_after) == {}


class _Factory:
    """A stand-in for pytest's TempPathFactory: one directory for a test's own databases."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def mktemp(self, name: str) -> Path:
        path = self.directory / name
        path.mkdir()
        return path


#: Latin words a Chinese check text may keep: none but the plugin's package name in a missing-plugin note
#: (``fupin-funding``); numbers, dates and percentages are not words, and record numbers (``QJNU-K2017-001``,
#: capitals, digits and dashes) are how a reader finds a record (:data:`_RECORD_NUMBER`).
_LATIN_ALLOWED = {"fupin"}
_RECORD_NUMBER = re.compile(r"\b[A-Z0-9]+(?:-[A-Z0-9]+)+\b")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def test_check_results_say_each_language_in_words(world: dict[str, Any]) -> None:
    """Every commitment's result of both demo plans, every year: required/actual/note are Chinese (no Latin word of
    three letters or more), required_en/actual_en/note_en English (no Chinese but the names of the database's areas,
    units, schools and cadres), neither a snake_case code, and English given wherever Chinese is."""
    store = world["store"]
    with store.engine.connect() as conn:
        names = set(conn.execute(sa.select(S.areas.c.name)).scalars()) | set(conn.execute(sa.select(S.units.c.name)).scalars())
    for plan in (world["reference"], world["second"]):
        names |= {v.name_zh for v in plan.villages} | {a.name_zh for v in plan.villages for a in v.parents}
        for year in plan.years():
            for r in check_plan(store, plan, year, as_of=dt.date(plan.period_end.year + 1, 3, 31)):
                for field in ("required", "actual", "note"):
                    zh, en = getattr(r, field), getattr(r, f"{field}_en")
                    where = f"{plan.name} {year} {r.commitment} {field}"
                    assert not _SNAKE.search(zh) and not _SNAKE.search(en), (where, zh, en)
                    words = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", _RECORD_NUMBER.sub("", zh))} - _LATIN_ALLOWED
                    assert not words, (where, zh)
                    assert bool(zh) == bool(en), (where, zh, en)
                    foreign = [w for w in _CJK_RUN.findall(en) if not proper_name(w, names)]
                    assert not foreign, (where, en, foreign)
