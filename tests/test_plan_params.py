"""Plans are validated when loaded (issue #16): every target declares its parameters.

An unknown or mistyped parameter, or a missing required one, is refused at
`plan load`, `plan show`, `plan lint` and `check`, naming the file, the
commitment and the key. Every parameter the reference plan sets is read by its
target when the plan is checked.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from fupin.checks import Param, TargetSpec, params_problems, plan_problems
from fupin.errors import PlanError
from fupin.hooks import Hooks
from fupin.plans import load_plan
from fupin.plugins import get_plugin_manager

REFERENCE = load_plan("qjnu-tuomu")


@pytest.fixture(scope="module")
def targets():
    return Hooks(get_plugin_manager()).targets()


def edited(tmp_path: Path, old: str, new: str) -> Path:
    """The reference plan with one line changed, as a file."""
    text = REFERENCE.text
    assert text.count(old) == 1, old
    path = tmp_path / "edited.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


#: (line of the reference plan, its misspelt or mistyped version, what the refusal names)
BAD = [
    ('min_per_year = 2, bodies', 'min_per_yaer = 2, bodies', r"C03\.params\.min_per_yaer: .*unknown parameter.*did you mean \"min_per_year\""),
    ('min_per_year = 2, bodies', 'min_per_year = "两", bodies', r"C03\.params\.min_per_year: .*expected a whole number >= 1.*str '两'"),
    ('min_per_year = 2, bodies', 'min_per_year = -1, bodies', r"C03\.params\.min_per_year: .*expected a whole number >= 1"),
]


def test_reference_plan_is_valid(targets):
    assert plan_problems(REFERENCE, targets) == []


@pytest.mark.parametrize(("old", "new", "named"), BAD)
def test_plan_show_lint_refuse(cli, tmp_path, old, new, named):
    path = edited(tmp_path, old, new)
    shown = cli("plan", "show", str(path))
    assert shown.exit_code == 1 and re.search(named, shown.output) and str(path) in shown.output, shown.output
    assert "Traceback" not in shown.output
    linted = cli("plan", "lint", str(path), "--json")
    assert linted.exit_code == 1, linted.output
    errors = [f for f in json.loads(linted.output) if f["severity"] == "error"]
    assert errors and any(re.search(named, f["message_en"]) for f in errors) and str(path) in errors[0]["message_en"]


def test_plan_load_refuses(cli, sqlite_url, tmp_path):
    assert cli("--db", sqlite_url, "init").exit_code == 0
    path = edited(tmp_path, *BAD[0][:2])
    loaded = cli("--db", sqlite_url, "plan", "load", str(path))
    assert loaded.exit_code == 1 and "C03.params.min_per_yaer" in loaded.output and str(path) in loaded.output
    assert "Traceback" not in loaded.output


def test_store_refuses_on_both_backends(store, tmp_path):
    path = edited(tmp_path, *BAD[1][:2])
    with pytest.raises(PlanError, match=r"C03\.params\.min_per_year"):
        store.save_plan(load_plan(path))


def test_missing_required_and_nested_tables():
    declared = (
        Param("due", "date", required=True, zh="截止日", en="due date"),
        Param("groups", "tables", fields=(Param("tag", "string", required=True, zh="标签", en="tag"),), zh="组", en="groups"),
    )
    found = params_problems(declared, {"groups": [{"tag": "留守儿童"}, {"tga": "x"}]}, "C99.params")
    assert any(f.startswith("C99.params.groups[1].tga: ") and "unknown parameter" in f for f in found)
    assert any(f.startswith("C99.params.groups[1].tag: ") and "missing required" in f for f in found)
    assert any(f.startswith("C99.params.due: ") and "missing required" in f for f in found)
    assert params_problems(declared, {"due": dt.date(2016, 8, 31)}, "C99.params") == []
    assert params_problems(declared, {"due": "2016-08-31"}, "C99.params")[0].startswith("C99.params.due: ")


def test_a_bare_name_is_still_accepted_as_a_parameter():
    """Older plugins list names only: those keys are known (of any type), others still refused."""
    spec = TargetSpec("x.y", "x", "x", lambda ctx: None, ("limit",))
    assert spec.params == (Param("limit"),)
    assert params_problems(spec.params, {"limit": "anything"}, "C1.params") == []
    assert params_problems(spec.params, {"limti": 1}, "C1.params")


def test_not_measurable_takes_only_record(targets, tmp_path):
    path = edited(tmp_path, 'params = { record = "complaint" }', 'params = { record = "complaint", min = 1 }')
    assert any(p.startswith("C35.params.min: ") for p in plan_problems(load_plan(path), targets))


def test_every_target_declares_typed_parameters(targets):
    """No installed target leaves a parameter untyped: the plan office learns the type from the declaration."""
    untyped = [f"{name}.{p.name}" for name, spec in targets.items() for p in spec.params if p.type == "any"]
    assert untyped == []


def test_every_parameter_has_a_meaning(targets):
    missing = [f"{name}.{p.name}" for name, spec in targets.items() for p in spec.params if not (p.zh and p.en)]
    assert missing == []


def test_every_parameter_the_reference_plan_sets_is_read(tmp_path):
    """Checked over every year of the demo village, each target reads every parameter its commitment sets."""
    from fupin.checks import check_plan
    from fupin.demo import build_demo
    from fupin.simulate import play
    from fupin.store import Actor, Store

    store = Store.open(f"sqlite:///{tmp_path}/demo.db", actor=Actor.parse("TEST:tester"))
    store.init()
    plan = build_demo(store, "qjnu-tuomu").plan
    play(store, plan)
    read: set[tuple[str, str]] = set()
    for year in plan.years():
        check_plan(store, plan, year, as_of=dt.date(plan.period_end.year + 1, 6, 30), params_read=read)
    set_by_plan = {(c.id, key) for c in plan.commitments for key in c.params}
    assert sorted(set_by_plan - read) == []


def test_a_value_outside_the_choices_is_refused(targets, tmp_path):
    """C37's scope is one of the declared values: a made-up one is refused at load, naming the key and the values allowed."""
    path = edited(tmp_path, 'scope = "poor_people"', 'scope = "poor_villages"')
    found = plan_problems(load_plan(path), targets)
    assert len(found) == 1 and found[0].startswith("C37.params.scope: ") and "poor_households" in found[0]


# -- [plugins.NAME] tables: declared by their plugin with fupin_plan_settings -----------

SECOND = Path(__file__).resolve().parents[1] / "examples" / "plans" / "ddac-xinzhai.toml"
FUNDING = "[plugins.funding]\n"


@pytest.fixture(scope="module")
def installed():
    """The installed plugins (funding, education ...), as ``fupin`` itself loads them."""
    return Hooks(get_plugin_manager())


@pytest.fixture
def installed_cli(installed):
    from click.testing import CliRunner

    from fupin.cli import make_cli

    command = make_cli(installed.pm)
    return lambda *args: CliRunner().invoke(command, list(args))


def test_funding_declares_its_plan_settings(installed):
    declared = {p.name: p for p in installed.plan_settings()["funding"]}
    assert set(declared) == {"poor_statuses", "not_in_school", "aid_amounts"}
    assert declared["poor_statuses"].type == "strings" and declared["aid_amounts"].type == "table"
    assert all(p.zh and p.en for p in declared.values())
    assert installed.plan_settings()["education"] == ()  # installed, declares none


@pytest.mark.parametrize("plan", [REFERENCE, load_plan(SECOND)], ids=["qjnu-tuomu", "ddac-xinzhai"])
def test_shipped_plans_set_only_declared_settings(installed, plan):
    """Both shipped plans load with every plugin installed: funding's table is declared, no stale education table is left."""
    assert plan_problems(plan, installed.targets(), installed.plan_settings()) == []


#: (line of the reference plan, its changed version, what the refusal names)
BAD_SETTINGS = [
    (FUNDING, FUNDING + "reserve_fen = 100\n", r"^plugins\.funding\.reserve_fen: .*unknown parameter.*known: poor_statuses"),
    ('not_in_school = ["非在校生", "学前教育"]                 # C29', 'not_in_school = "非在校生"  # C29', r"^plugins\.funding\.not_in_school: .*expected an array of strings"),
    ("study_aid_fen = 50000", "study_aid_fen = -500", r"^plugins\.funding\.aid_amounts\.study_aid_fen: .*expected an amount in fen"),
    ('"已脱贫(享受政策)"]   # C29', '"已脱贫(享受政策)", 3]   # C29', r"^plugins\.funding\.poor_statuses: .*expected an array of strings"),
    ("study_aid_fen = 50000", "study_aid = 50000", r"^plugins\.funding\.aid_amounts\.study_aid: .*unknown parameter.*did you mean \"study_aid_fen\""),
    (FUNDING, '[plugins.education]\nmin_trainees_per_school = 2\n\n' + FUNDING,
     r"^plugins\.education: .*declares no plan settings"),
]


@pytest.mark.parametrize(("old", "new", "named"), BAD_SETTINGS)
def test_undeclared_or_mistyped_settings_are_refused(installed, tmp_path, old, new, named):
    found = plan_problems(load_plan(edited(tmp_path, old, new)), installed.targets(), installed.plan_settings())
    assert len(found) == 1 and re.search(named, found[0]), found


@pytest.mark.parametrize(("old", "new", "named"), [BAD_SETTINGS[0], BAD_SETTINGS[-1]])
def test_plan_show_and_lint_name_the_file_and_the_key(installed_cli, tmp_path, old, new, named):
    path = edited(tmp_path, old, new)
    shown = installed_cli("plan", "show", str(path))
    assert shown.exit_code == 1 and str(path) in shown.output and "Traceback" not in shown.output, shown.output
    assert re.search(named.lstrip("^"), shown.output)
    linted = installed_cli("plan", "lint", str(path), "--json")
    assert linted.exit_code == 1, linted.output
    errors = [f for f in json.loads(linted.output) if f["severity"] == "error"]
    assert len(errors) == 1 and re.search(named.lstrip("^"), errors[0]["message_en"]) and str(path) in errors[0]["message_en"]
    assert installed_cli("plan", "lint", "qjnu-tuomu").exit_code == 0


def test_store_and_check_refuse_on_both_backends(database_url, tmp_path):
    """store.save_plan and the check (which validates the plan first) refuse an undeclared key, on both backends."""
    from fupin.store import Actor, Store

    plan = load_plan(edited(tmp_path, *BAD_SETTINGS[0][:2]))
    with Store.open(database_url, pm=get_plugin_manager(), actor=Actor.parse("TEST:tester")) as store:
        store.init()
        with pytest.raises(PlanError, match=r"edited\.toml: plugins\.funding\.reserve_fen: "):
            store.save_plan(plan)
        with pytest.raises(PlanError, match=r"plugins\.funding\.reserve_fen"):
            store.check(plan, 2016)


def test_a_table_of_a_plugin_not_installed_is_not_checked(tmp_path):
    """As with targets: a plan naming a plugin this installation lacks still loads (its checks say what is missing)."""
    core_only = Hooks(get_plugin_manager(load_entrypoints=False))
    assert "funding" not in core_only.plan_settings()
    plan = load_plan(edited(tmp_path, *BAD_SETTINGS[0][:2]))
    assert plan_problems(plan, core_only.targets(), core_only.plan_settings()) == []


def test_a_plugin_declaring_something_else_is_named():
    from fupin import hookimpl
    from fupin.errors import PluginError

    class Sloppy:
        @hookimpl
        def fupin_plan_settings(self):
            return ["min_teams"]

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Sloppy(), name="sloppy")
    with pytest.raises(PluginError, match=r"plugin 'sloppy': fupin_plan_settings returned 'min_teams'; expected a Param"):
        Hooks(pm).plan_settings()
