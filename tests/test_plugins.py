"""The plugin manager (fupin.plugins) and the typed hook facade (fupin.hooks)."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import click
import pytest
import sqlalchemy as sa

from fupin import hookimpl, hookspecs
from fupin.actions import ActionKind, SupportAction
from fupin.checks import CheckResult, Status, TargetSpec
from fupin.errors import PluginError, Problem, ValidationError
from fupin.hooks import Hooks, validates
from fupin.plugins import (
    DEFAULT_PLUGINS,
    FupinPluginManager,
    PluginFailure,
    get_plugin_manager,
    list_plugins,
    plugin_failures,
)


@pytest.fixture
def pm() -> FupinPluginManager:
    """A fresh manager without entry points: installed plugins can't leak in."""
    return get_plugin_manager(load_entrypoints=False)


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Simulate an installed distribution: a .dist-info with entry points, on sys.path."""
    modules: list[str] = []

    def make(dist: str, version: str, entry_points: dict[str, str], sources: dict[str, str]) -> None:
        info = tmp_path / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
        (info / "entry_points.txt").write_text(f"[fupin]\n{lines}")
        for module, source in sources.items():
            (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
            modules.append(module)
        importlib.invalidate_caches()

    monkeypatch.syspath_prepend(str(tmp_path))
    yield make
    for module in modules:
        sys.modules.pop(module, None)


# -- test plugins ---------------------------------------------------------------


@attrs.frozen
class Workshop:
    """Details of the demo kind."""

    hours: int


class EducationPlugin:
    @hookimpl
    def fupin_action_kinds(self) -> list[ActionKind]:
        return [ActionKind("education.workshop", "讲座", "Workshop", details=Workshop, quantities=("hours",))]


def _met(ctx: object) -> CheckResult:
    return CheckResult("C01", Status.MET)


class FundingPlugin:
    @hookimpl
    def fupin_action_kinds(self) -> list[ActionKind]:
        return [ActionKind("funding.study_aid", "助学金", "Study aid")]

    @hookimpl
    def fupin_targets(self) -> list[TargetSpec]:
        return [TargetSpec("funding.budget", "预算", "Budget", evaluate=_met)]


class FullPlugin:
    """Implements every registration hook, to check what list_plugins reports."""

    @hookimpl
    def fupin_action_kinds(self) -> list[ActionKind]:
        return [ActionKind("demo.visit", "走访", "Visit"), ActionKind("demo.gift", "慰问", "Gift")]

    @hookimpl
    def fupin_tables(self, metadata: sa.MetaData) -> None:
        sa.Table("demo_note", metadata, sa.Column("id", sa.Integer, primary_key=True))

    @hookimpl
    def fupin_migrations(self) -> list[Path]:
        return [Path("/srv/demo/migrations")]

    @hookimpl
    def fupin_register_commands(self, cli: click.Group) -> None:
        @cli.group("demo")
        def demo() -> None:
            """Demo commands."""


class MisspeltPlugin:
    @hookimpl
    def fupin_action_kind(self) -> list[ActionKind]:
        return [ActionKind("misspelt.kind", "x", "x")]


class BadArgumentPlugin:
    @hookimpl
    def fupin_action_kinds(self, store: object) -> list[ActionKind]:
        return []


def _action(**fields: object) -> SupportAction:
    day = dt.date(2020, 1, 1)
    return SupportAction(kind="education.workshop", start=day, end=day, unit="YNU", **fields)


# -- tests ----------------------------------------------------------------------


class TestGetPluginManager:
    def test_specs_are_added(self, pm: FupinPluginManager) -> None:
        """Every hookspec is known to a new manager."""
        names = {n for n in dir(hookspecs) if n.startswith("fupin_")}
        assert names and all(getattr(pm.hook, name).has_spec() for name in names)

    def test_each_call_builds_a_new_manager(self) -> None:
        """A plugin registered on one manager is not on the next one."""
        first = get_plugin_manager(load_entrypoints=False)
        first.register(EducationPlugin(), name="education")
        second = get_plugin_manager(load_entrypoints=False)
        assert first is not second and not second.has_plugin("education")

    def test_builtin_plugins_cannot_be_blocked(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """FUPIN_DISABLE_PLUGINS does not block a built-in name."""
        monkeypatch.setenv("FUPIN_DISABLE_PLUGINS", ",".join(DEFAULT_PLUGINS))
        pm = get_plugin_manager(load_entrypoints=False)
        assert not any(pm.is_blocked(name) for name in DEFAULT_PLUGINS)

    def test_trace_prints_hook_calls(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        """FUPIN_TRACE_PLUGINS=1 prints each hook call and its result to stderr."""
        monkeypatch.setenv("FUPIN_TRACE_PLUGINS", "1")
        pm = get_plugin_manager(load_entrypoints=False)
        pm.register(EducationPlugin(), name="education")
        Hooks(pm).action_kinds()
        err = capsys.readouterr().err
        assert "fupin: fupin_action_kinds() -> [education]" in err
        assert "fupin: fupin_action_kinds returned" in err

    def test_no_trace_by_default(self, pm: FupinPluginManager, capsys: pytest.CaptureFixture[str]) -> None:
        """Without FUPIN_TRACE_PLUGINS nothing is printed."""
        pm.register(EducationPlugin(), name="education")
        Hooks(pm).action_kinds()
        assert capsys.readouterr().err == ""


class TestRegistration:
    def test_misspelt_hook_is_recorded_and_not_registered(self, pm: FupinPluginManager) -> None:
        """A fupin_ impl without a spec is a failure naming the hook; the plugin is left out."""
        assert pm.register_plugin(MisspeltPlugin(), "misspelt") is False
        assert not pm.has_plugin("misspelt")
        [failure] = [f for f in plugin_failures(pm) if f.name == "misspelt"]
        assert "unknown hook fupin_action_kind (misspelt?)" in failure.cause
        assert "did you mean fupin_action_kinds?" in failure.cause
        pm.check_pending()

    def test_misspelt_hook_rejected_by_plain_register(self, pm: FupinPluginManager) -> None:
        """pm.register itself refuses a misspelt hook instead of ignoring it."""
        import pluggy

        with pytest.raises(pluggy.PluginValidationError, match="fupin_action_kind"):
            pm.register(MisspeltPlugin(), name="misspelt")
        assert not pm.has_plugin("misspelt")

    def test_strict_raises_naming_plugin_and_hook(self) -> None:
        """With strict=True a failure raises PluginError naming the plugin and the cause."""
        pm = FupinPluginManager(strict=True)
        pm.add_hookspecs(hookspecs)
        with pytest.raises(PluginError, match=r"misspelt.*unknown hook fupin_action_kind"):
            pm.register_plugin(MisspeltPlugin(), "misspelt")

    def test_argument_missing_from_spec_is_a_failure(self, pm: FupinPluginManager) -> None:
        """An impl asking for an argument the spec lacks is recorded, not registered."""
        assert pm.register_plugin(BadArgumentPlugin(), "badargs", distribution="fupin-bad", version="0.3") is False
        [failure] = [f for f in plugin_failures(pm) if f.name == "badargs"]
        assert failure.distribution == "fupin-bad" and failure.version == "0.3"
        assert failure.cause.startswith("PluginValidationError: ") and "store" in failure.cause
        assert "\n" not in failure.cause
        assert not pm.has_plugin("badargs")

    def test_duplicate_name_is_a_failure(self, pm: FupinPluginManager) -> None:
        """A second plugin under a taken name is recorded; the first stays."""
        first = EducationPlugin()
        assert pm.register_plugin(first, "education")
        assert pm.register_plugin(FundingPlugin(), "education") is False
        assert pm.get_plugin("education") is first
        assert any(f.name == "education" and "already registered" in f.cause for f in plugin_failures(pm))


class TestEntryPoints:
    BROKEN = """
        raise RuntimeError("the lab server is down")
    """
    GOOD = """
        from fupin import hookimpl
        from fupin.actions import ActionKind

        @hookimpl
        def fupin_action_kinds():
            return [ActionKind("{name}.soil", "测土", "Soil testing")]
    """

    def test_import_error_is_reported_with_name_and_cause(self, install: Callable[..., None]) -> None:
        """A plugin raising at import is a failure with its name, distribution and cause."""
        install("fupin-broken", "1.4.0", {"broken": "fupin_broken_t1"}, {"fupin_broken_t1": self.BROKEN})
        pm = get_plugin_manager()
        assert PluginFailure(
            "broken", "fupin-broken", "1.4.0", "RuntimeError: the lab server is down"
        ) in plugin_failures(pm)
        assert not pm.has_plugin("broken")

    def test_syntax_error_is_reported(self, install: Callable[..., None]) -> None:
        """A plugin that does not even parse is a failure, not a crash."""
        install("fupin-typo", "0.1", {"typo": "fupin_typo_t2"}, {"fupin_typo_t2": "def f(:\n"})
        [failure] = [f for f in plugin_failures(get_plugin_manager()) if f.name == "typo"]
        assert failure.cause.startswith("SyntaxError: ")

    def test_strict_raises_on_import_error(self, install: Callable[..., None]) -> None:
        """get_plugin_manager(strict=True) raises for a plugin that fails to import."""
        install("fupin-broken", "1.4.0", {"broken": "fupin_broken_t3"}, {"fupin_broken_t3": self.BROKEN})
        with pytest.raises(PluginError, match=r"broken \(fupin-broken 1.4.0\): RuntimeError: the lab server"):
            get_plugin_manager(strict=True)

    def test_entry_point_is_loaded(self, install: Callable[..., None]) -> None:
        """An installed plugin is registered under its entry-point name with its version."""
        install("fupin-soil", "2.0.1", {"soil": "fupin_soil_t4"}, {"fupin_soil_t4": self.GOOD.format(name="soil")})
        pm = get_plugin_manager()
        assert "soil.soil" in Hooks(pm).action_kinds()
        [info] = [i for i in list_plugins(pm) if i.name == "soil"]
        assert (info.module, info.distribution, info.version) == ("fupin_soil_t4", "fupin-soil", "2.0.1")

    def test_disable_plugins_blocks_by_name(
        self, install: Callable[..., None], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """FUPIN_DISABLE_PLUGINS=a, b blocks those names; the module is not even imported."""
        install("fupin-soil", "2.0.1", {"soil": "fupin_soil_t5"}, {"fupin_soil_t5": self.GOOD.format(name="soil")})
        monkeypatch.setenv("FUPIN_DISABLE_PLUGINS", "other, soil ")
        pm = get_plugin_manager()
        assert pm.is_blocked("soil") and not pm.has_plugin("soil")
        assert "fupin_soil_t5" not in sys.modules
        assert "soil.soil" not in Hooks(pm).action_kinds()

    def test_disable_autoload(self, install: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> None:
        """FUPIN_DISABLE_PLUGIN_AUTOLOAD=1 loads no entry points."""
        install("fupin-soil", "2.0.1", {"soil": "fupin_soil_t6"}, {"fupin_soil_t6": self.GOOD.format(name="soil")})
        monkeypatch.setenv("FUPIN_DISABLE_PLUGIN_AUTOLOAD", "1")
        assert not get_plugin_manager().has_plugin("soil")

    def test_builtin_name_is_reserved(self, install: Callable[..., None]) -> None:
        """An installed plugin cannot take the name of a built-in plugin."""
        name = next(iter(DEFAULT_PLUGINS))
        install("fupin-impostor", "1.0", {name: "fupin_impostor_t7"}, {"fupin_impostor_t7": ""})
        pm = get_plugin_manager()
        assert any(
            f.name == name and f.distribution == "fupin-impostor" and "already taken by fupin" in f.cause
            for f in plugin_failures(pm)
        )
        assert "fupin_impostor_t7" not in sys.modules


class TestActionKinds:
    def test_plugin_kind_is_found(self, pm: FupinPluginManager) -> None:
        """A kind contributed by an in-process plugin is in the registry."""
        pm.register(EducationPlugin(), name="education")
        kind = Hooks(pm).action_kind("education.workshop")
        assert kind.details is Workshop and kind.quantities == ("hours",)

    def test_duplicate_names_both_plugins(self, pm: FupinPluginManager) -> None:
        """Two plugins contributing one kind name raise PluginError naming both."""
        pm.register(EducationPlugin(), name="education")
        pm.register(EducationPlugin(), name="copycat")
        with pytest.raises(PluginError, match=r"'education.workshop'.*'education' and 'copycat'"):
            Hooks(pm).action_kinds()

    def test_wrong_namespace(self, pm: FupinPluginManager) -> None:
        """A plugin may only add kinds in its own namespace."""
        pm.register(EducationPlugin(), name="training")
        with pytest.raises(PluginError, match=r"'training' contributes action kind 'education.workshop'.*training\.\*"):
            Hooks(pm).action_kinds()

    def test_not_a_list(self, pm: FupinPluginManager) -> None:
        """A hook returning a bare kind instead of a list is a PluginError naming the plugin."""

        class Bare:
            @hookimpl
            def fupin_action_kinds(self) -> ActionKind:
                return ActionKind("bare.x", "x", "x")

        pm.register(Bare(), name="bare")
        with pytest.raises(PluginError, match="'bare'.*must return a list"):
            Hooks(pm).action_kinds()

    def test_not_an_action_kind(self, pm: FupinPluginManager) -> None:
        """Returning something other than ActionKind is a PluginError."""

        class Strings:
            @hookimpl
            def fupin_action_kinds(self) -> list[str]:
                return ["strings.x"]

        pm.register(Strings(), name="strings")
        with pytest.raises(PluginError, match="expected a ActionKind"):
            Hooks(pm).action_kinds()

    def test_unknown_kind_lists_known(self, pm: FupinPluginManager) -> None:
        """An unknown name is a one-line ValidationError listing the known kinds."""
        pm.register(EducationPlugin(), name="education")
        pm.register(FundingPlugin(), name="funding")
        with pytest.raises(ValidationError) as info:
            Hooks(pm).action_kind("education.workshops")
        message = str(info.value)
        assert "\n" not in message
        assert "unknown action kind; known: " in message and "education.workshop, funding.study_aid" in message
        assert info.value.problems[0].value == "education.workshops"

    def test_registry_is_cached(self, pm: FupinPluginManager) -> None:
        """The hook is called once per Hooks object, not per lookup."""
        calls = []

        class Counting:
            @hookimpl
            def fupin_action_kinds(self) -> list[ActionKind]:
                calls.append(1)
                return [ActionKind("counting.x", "x", "x")]

        pm.register(Counting(), name="counting")
        hooks = Hooks(pm)
        for _ in range(3):
            hooks.action_kind("counting.x")
        assert len(calls) == 1


class TestTargets:
    def test_targets_found(self, pm: FupinPluginManager) -> None:
        """A target contributed by a plugin is found by name."""
        pm.register(FundingPlugin(), name="funding")
        assert Hooks(pm).target("funding.budget").evaluate(None).status is Status.MET

    def test_wrong_namespace(self, pm: FupinPluginManager) -> None:
        """Targets follow the same namespace rule as kinds."""
        pm.register(FundingPlugin(), name="money")
        with pytest.raises(PluginError, match="'money' contributes"):
            Hooks(pm).targets()


class TestOtherHooks:
    def test_tables_migrations_commands(self, pm: FupinPluginManager) -> None:
        """tables, migrations and register_commands pass each plugin's contribution through."""
        pm.register(FullPlugin(), name="demo")
        hooks = Hooks(pm)
        metadata = sa.MetaData()
        hooks.tables(metadata)
        cli = click.Group("fupin")
        hooks.register_commands(cli)
        assert "demo_note" in metadata.tables
        assert Path("/srv/demo/migrations") in hooks.migrations()
        assert "demo" in cli.commands

    def test_vocabularies_flattened(self, pm: FupinPluginManager) -> None:
        """Vocabulary paths and mappings from all plugins come back as one list."""

        class Vocab:
            @hookimpl
            def fupin_vocabularies(self) -> list[object]:
                return ["extra.toml", {"tags": ["易地搬迁户"]}]

        pm.register(Vocab(), name="vocab")
        assert Hooks(pm).vocabularies()[-2:] == [Path("extra.toml"), {"tags": ["易地搬迁户"]}]


class TestValidateRecord:
    def test_problems_from_two_plugins(self, pm: FupinPluginManager) -> None:
        """Problems from every plugin are collected; strings become Problems."""

        class NeedsTitle:
            @hookimpl
            def fupin_validate_record(self, record: object, record_type: str) -> list[Problem] | None:
                if record_type == "action" and not record.title:
                    return [Problem("title", "required")]
                return None

        class NeedsHelper:
            @hookimpl
            def fupin_validate_record(self, record: object) -> list[str]:
                return [] if record.helpers else ["no helper"]

        pm.register(NeedsTitle(), name="title")
        pm.register(NeedsHelper(), name="helper")
        problems = Hooks(pm).validate_record(_action(), "action")
        assert sorted(problems, key=str) == [Problem("", "no helper"), Problem("title", "required")]
        assert Hooks(pm).validate_record(_action(title="x", helpers=["C1"]), "action") == []

    def test_declared_record_types_limit_who_is_asked(self, pm: FupinPluginManager) -> None:
        """@validates("action"): asked about actions only; an undeclared validator is asked about everything."""
        asked: list[tuple[str, str]] = []

        class ActionsOnly:
            @hookimpl
            @validates("action")
            def fupin_validate_record(self, record: object, record_type: str) -> list[str]:
                asked.append(("actions", record_type))
                return ["no"]

        pm.register(ActionsOnly(), name="actions")
        hooks = Hooks(pm)
        assert hooks.record_validator("person") is None
        assert hooks.validate_record(object(), "person") == []
        assert hooks.validate_record(_action(), "action") == [Problem("", "no")]
        assert asked == [("actions", "action")]

        class Everything:
            @hookimpl
            def fupin_validate_record(self, record_type: str) -> None:
                asked.append(("all", record_type))

        pm.register(Everything(), name="all")
        validate = Hooks(pm).record_validator("person")
        assert validate is not None and validate(object()) == []
        assert asked[-1] == ("all", "person") and ("actions", "person") not in asked

    def test_garbage_is_a_plugin_error(self, pm: FupinPluginManager) -> None:
        """A validator returning something other than problems or strings is a PluginError."""

        class Garbage:
            @hookimpl
            def fupin_validate_record(self) -> list[int]:
                return [42]

        pm.register(Garbage(), name="garbage")
        with pytest.raises(PluginError, match="42"):
            Hooks(pm).validate_record(_action(), "action")


class TestListPlugins:
    def test_reports_version_hooks_contributions(self, pm: FupinPluginManager) -> None:
        """An in-process plugin is listed with its source, hooks and what it adds."""
        assert pm.register_plugin(FullPlugin(), "demo", distribution="fupin-demo", version="1.2.3")
        [info] = [i for i in list_plugins(pm) if i.name == "demo"]
        assert (info.distribution, info.version, info.module) == ("fupin-demo", "1.2.3", __name__)
        assert info.hooks == (
            "fupin_action_kinds", "fupin_migrations", "fupin_register_commands", "fupin_tables"
        )
        assert info.contributions == {
            "action_kinds": ["demo.visit", "demo.gift"],
            "tables": ["demo_note"],
            "migrations": [str(Path("/srv/demo/migrations"))],
            "commands": ["demo"],
        }

    def test_listing_changes_nothing(self, pm: FupinPluginManager) -> None:
        """Listing uses scratch objects: a later real MetaData can still define the tables."""
        pm.register(FullPlugin(), name="demo")
        list_plugins(pm)
        list_plugins(pm)
        metadata = sa.MetaData()
        Hooks(pm).tables(metadata)
        assert "demo_note" in metadata.tables

    def test_broken_contribution_is_reported_not_raised(self, pm: FupinPluginManager) -> None:
        """A registration hook that raises shows up as an error in the listing."""

        class Raising:
            @hookimpl
            def fupin_targets(self) -> list[TargetSpec]:
                raise RuntimeError("boom")

        pm.register(Raising(), name="raising")
        [info] = [i for i in list_plugins(pm) if i.name == "raising"]
        assert info.contributions == {"targets": "error: RuntimeError: boom"}

    def test_to_dict_is_json_ready(self, pm: FupinPluginManager) -> None:
        """PluginInfo and PluginFailure serialise to JSON."""
        pm.register_plugin(FullPlugin(), "demo", distribution="fupin-demo", version="1.2.3")
        pm.register_plugin(MisspeltPlugin(), "misspelt")
        data = json.loads(json.dumps({
            "plugins": [i.to_dict() for i in list_plugins(pm)],
            "failures": [f.to_dict() for f in plugin_failures(pm)],
        }))
        demo = next(p for p in data["plugins"] if p["name"] == "demo")
        assert demo["hooks"][0] == "fupin_action_kinds" and demo["contributions"]["commands"] == ["demo"]
        assert {"name": "misspelt", "distribution": None, "version": None}.items() <= next(
            f for f in data["failures"] if f["name"] == "misspelt"
        ).items()
