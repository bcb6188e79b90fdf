"""The public face: what platforms and plugins may import, and that it stays the only way in."""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import inspect
import json
from pathlib import Path

import attrs
import pytest

import fupin

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = fupin.PUBLIC_MODULES


def _plugin_sources() -> list[Path]:
    """Every module of a first-party plugin, of the example plugin and of the example platform."""
    return sorted({*ROOT.glob("plugins/*/src/**/*.py"), *ROOT.glob("examples/*/src/**/*.py"), *ROOT.glob("examples/*/*.py")})


def _public_names(module: str) -> set[str]:
    return set(importlib.import_module(module).__all__)


def private_imports(path: Path) -> list[str]:
    """``file:line`` and what is wrong, for each import of a non-public fupin module or name in ``path``."""
    where = path.relative_to(ROOT)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (alias.name == "fupin" or alias.name.startswith("fupin.")) and alias.name not in PUBLIC:
                    found.append(f"{where}:{node.lineno}: import {alias.name} (not a public module)")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
            module = node.module
            if module != "fupin" and not module.startswith("fupin."):
                continue
            if module not in PUBLIC:
                found.append(f"{where}:{node.lineno}: from {module} import ... (not a public module)")
                continue
            names = _public_names(module)
            found.extend(
                f"{where}:{node.lineno}: from {module} import {alias.name} (not in {module}.__all__)"
                for alias in node.names
                if alias.name not in names
            )
    return found


class TestPluginsUsePublicNames:
    def test_first_party_plugins_import_only_public_names(self) -> None:
        """No module of a plugin (plugins/, examples/) or of the example platform imports a fupin module or name outside the public face."""
        sources = _plugin_sources()
        assert len(sources) > 20
        found = [line for path in sources for line in private_imports(path)]
        assert not found, "imports of non-public fupin names:\n" + "\n".join(found)

    def test_a_private_import_is_named_by_file_and_line(self, tmp_path: Path) -> None:
        """The check names the file, the line and the module or name that is not public."""
        plugin = ROOT / "plugins" / "_probe_.py"
        try:
            plugin.write_text("from fupin import Store\nfrom fupin.queries import own_records\nimport fupin.storage\nfrom fupin.ext import nothing_like_it\n")
            assert private_imports(plugin) == [
                "plugins/_probe_.py:2: from fupin.queries import ... (not a public module)",
                "plugins/_probe_.py:3: import fupin.storage (not a public module)",
                "plugins/_probe_.py:4: from fupin.ext import nothing_like_it (not in fupin.ext.__all__)",
            ]
        finally:
            plugin.unlink()


class TestPublicModules:
    @pytest.mark.parametrize("module", PUBLIC)
    def test_every_public_name_resolves_and_is_documented(self, module: str) -> None:
        """Each public module has an ``__all__``, and every class and function it names exists and has a docstring."""
        mod = importlib.import_module(module)
        assert isinstance(getattr(mod, "__all__", None), list | tuple), f"{module} has no __all__"
        missing = [name for name in mod.__all__ if not hasattr(mod, name)]
        assert not missing, f"{module}.__all__ names what it lacks: {missing}"
        bare = [
            name for name in mod.__all__
            if (inspect.isclass(obj := getattr(mod, name)) or inspect.isfunction(obj)) and not inspect.getdoc(obj)
        ]
        assert not bare, f"{module}: public names without a docstring: {bare}"

    def test_access_denied_is_public_at_the_top(self) -> None:
        """A platform catches the permission error from ``fupin`` itself."""
        from fupin.ext import AccessDenied

        assert fupin.AccessDenied is AccessDenied
        assert issubclass(fupin.AccessDenied, fupin.FupinError) and fupin.AccessDenied.exit_code == 3

    def test_ext_reexports_rather_than_copies(self) -> None:
        """``fupin.ext`` gives the very objects the core uses, so a plugin and the core never disagree."""
        import fupin.ext

        classes = [getattr(fupin.ext, n) for n in fupin.ext.__all__ if inspect.isclass(getattr(fupin.ext, n))]
        assert all(c.__module__.startswith("fupin.") for c in classes)
        assert all(attrs.has(c) or issubclass(c, Exception) or inspect.isclass(c) for c in classes)


# -- one serialisation ------------------------------------------------------------------------------------------

#: Public attrs classes that are declarations or tools, not results: they are never serialised.
NOT_RESULTS = {
    "ActionKind",  # names a details class (a type)
    "TargetSpec",  # holds the target's function
    "Param",  # a declaration of a target's parameter
    "Permission",  # a plugin's declaration (fupin_permissions)
    "CheckContext",  # holds a connection
    "Column", "Reference", "ImportKind", "ModelKind", "ActionsKind",  # import declarations (parsers, tables)
    "Problem",  # an error detail; its value may be anything the caller gave
    "User",  # a permission record, read by the access layer
    "Synthesizer",  # a generator of synthetic records, not a result
    "Term", "Vocabulary",  # controlled vocabularies, written as their own TOML files
    "IdNumber",  # a parsed ID number: serialised as the number itself wherever it appears
    "ReadLimits",  # the limits an import reads files with: a setting
}


def _public_attrs_classes() -> dict[str, type]:
    import fupin.ext

    found = {}
    for mod in (fupin, fupin.ext):
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isclass(obj) and attrs.has(obj):
                found[name] = obj
    return found


def test_every_public_result_class_has_the_shared_to_dict() -> None:
    """Every public attrs class that is a result serialises through the one implementation (``fupin.serial``)."""
    from fupin.serial import Serialisable

    results = {n: c for n, c in _public_attrs_classes().items() if n not in NOT_RESULTS}
    assert len(results) > 20
    lacking = sorted(n for n, c in results.items() if not issubclass(c, Serialisable))
    assert not lacking, f"public result classes without fupin.serial.Serialisable: {lacking}"


def test_plain_values() -> None:
    """Dates are ISO text, Decimal text, enums their value, tuples and sets lists, nested attrs their to_dict."""
    from decimal import Decimal

    from fupin.serial import plain

    result = fupin.CheckResult("C01", fupin.Status.MET, evidence=("action:A",), figures={"on": dt.date(2016, 1, 2), "n": Decimal("1.50")})
    assert plain({"r": result, "s": {"b", "a"}, "t": (1, 2)}) == {
        "r": {"id": "C01", "status": "met", "required": "", "actual": "", "evidence": ["action:A"], "note": "",
              "target": "", "figures": {"on": "2016-01-02", "n": 1.5}, "required_en": "", "actual_en": "", "note_en": "", "plugin": ""},
        "s": ["a", "b"], "t": [1, 2],
    }
    with pytest.raises(TypeError, match="cannot serialise object"):
        plain(object())


def test_real_results_serialise_as_json(store, tmp_path: Path) -> None:
    """Results of a small store through the public API (card, check, worklist, report, pairings, transfer,
    auto-pairing, exits, duplicates, search, import, export, audit, plugins) all give ``to_dict()`` that
    ``json.dumps`` takes and gives back unchanged."""
    import io

    from tests.campaign_seed import PLAN, action, add_household, cadre_code, d, h, pair, seed_base

    plan = seed_base(store)
    for seq in (1, 2, 3):
        add_household(store, 1, seq)
    pair(store, cadre_code(1), h(1, 1))
    action(store, "core.site_visit", "2016-04-01", "S-1", {"purpose": "调研"})
    units = io.BytesIO("code,name,kind\nQJNU-JY,教育学院,department\n".encode())

    results: list[object] = [
        store.household_card(h(1, 1)),
        *store.check(plan, 2016, as_of=d("2017-01-15")),
        *store.worklist(plan, as_of=d("2016-06-01")),
        store.report(plan, 2016, as_of=d("2017-01-15")),
        *store.pairings(),
        store.transfer(cadre_code(1), cadre_code(2), on=d("2016-07-01"), reason="调动"),
        store.auto_pair(plan, on=d("2016-07-02"), dry_run=True),
        *store.assess_exits(plan, 2016),
        *store.find_duplicates(),
        store.search_people("户主"),
        store.search_households("户主"),
        store.import_file("units", units, name="units.csv"),
        store.export("households", io.BytesIO()),
        *store.audit_entries(),
        *fupin.list_plugins(store.pm),
        plan,
        store.actor,
    ]
    kinds = {type(r).__name__ for r in results}
    assert {"HouseholdCard", "CheckResult", "DueItem", "YearlyReport", "PairingRow", "TransferResult", "AutoResult",
            "Assessment", "Page", "ImportResult", "ExportResult", "AuditEntry", "PluginInfo", "Plan", "Actor"} <= kinds
    for r in results:
        data = r.to_dict()  # type: ignore[attr-defined]
        assert isinstance(data, dict)
        assert json.loads(json.dumps(data)) == data, type(r).__name__
    assert PLAN == plan.name and dt.date.fromisoformat(plan.to_dict()["period_start"]) == plan.period_start
    assert store.search_people("户主").to_dict()["items"][0]["id_number"].endswith("*" * 12)


# -- typing -----------------------------------------------------------------------------------------------------

#: Public parameters and returns that may really be anything, each with why. A container of free-form
#: values (``dict[str, Any]``: JSON-ready figures, a plan's TOML tables) is not a bare ``Any`` and is allowed.
ANY_ALLOWED = {
    "fupin.AuditEntry.__init__:old", "fupin.AuditEntry.__init__:new",  # the record's JSON values before and after
    "fupin.CheckContext.param:return", "fupin.ext.CheckContext.param:return",  # a plan parameter: any TOML value
    "fupin.ext.Param.__init__:default", "fupin.ext.Param.problems:value",  # likewise
    "fupin.SupportAction.__init__:details", "fupin.ext.SupportAction.__init__:details",  # an instance of the kind's details class
    "fupin.SupportAction.new:fields", "fupin.ext.SupportAction.new:fields",  # the remaining SupportAction fields
    "fupin.RowError.__init__:value",  # the refused cell's value, as read
    "fupin.Store.import_file:options", "fupin.Store.import_files:options",  # the import kind's own options
    "fupin.cli.echo_json:data",  # any JSON-ready value
    # an import kind's record is an instance of its own attrs class (a plugin's, for plugin kinds)
    "fupin.ext.ImportKind.build:return", "fupin.ext.ModelKind.build:return",
    "fupin.ext.ImportKind.db_row:record", "fupin.ext.ModelKind.db_row:record",
    "fupin.ext.ImportKind.key_of:record", "fupin.ext.ImportKind.update_problems:record",
}


def _public_callables() -> list[tuple[str, object]]:
    """Every public function, and every public method of a public class (``__init__`` included), by dotted name."""
    found: list[tuple[str, object]] = []
    for module in PUBLIC:
        mod = importlib.import_module(module)
        for name in mod.__all__:
            obj = getattr(mod, name)
            unwrap = getattr(obj, "_get_wrapped_function", None)  # a pytest fixture: its function
            if callable(unwrap) and type(obj).__name__.startswith("Fixture"):
                obj = unwrap()
            if inspect.isfunction(obj):
                found.append((f"{module}.{name}", obj))
            elif inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_") and attr != "__init__":
                        continue
                    if isinstance(member, classmethod | staticmethod):
                        member = member.__func__
                    elif isinstance(member, property):
                        member = member.fget
                    if inspect.isfunction(member):
                        found.append((f"{module}.{name}.{attr}", member))
    return found


def bare_any(annotation: object) -> bool:
    """Whether an annotation (as text, the modules use postponed annotations) is ``Any`` or ``Any | None``."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    return {part.strip() for part in str(text).split("|")} - {"None"} == {"Any"}


class TestTyping:
    def test_public_signatures_name_their_types(self) -> None:
        """No public parameter or return is annotated ``Any`` where a type is known (see ANY_ALLOWED)."""
        found = []
        for where, fn in _public_callables():
            sig = inspect.signature(fn)  # type: ignore[arg-type]
            named = [(p.name, p.annotation) for p in sig.parameters.values()] + [("return", sig.return_annotation)]
            found += [f"{where}:{name}" for name, annotation in named if bare_any(annotation)]
        unexpected = sorted(set(found) - ANY_ALLOWED)
        assert not unexpected, "public signatures annotated Any (give the type, or add to ANY_ALLOWED with why):\n" + "\n".join(unexpected)

    def test_bare_any_is_told_from_containers(self) -> None:
        assert bare_any("Any") and bare_any("Any | None") and not bare_any("dict[str, Any]") and not bare_any("Plan")

    def test_mypy_strict_passes_on_the_public_modules(self) -> None:
        """``python -m mypy`` with the repository's configuration (strict on the public modules) finds nothing."""
        import subprocess
        import sys

        done = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr


# -- the reference page -----------------------------------------------------------------------------------------


def test_the_reference_page_is_current() -> None:
    """docs/reference.md is what scripts/gen-reference writes from the public modules' docstrings today."""
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader("gen_reference", str(ROOT / "scripts" / "gen-reference"))
    spec = importlib.util.spec_from_loader("gen_reference", loader)
    assert spec is not None
    gen = importlib.util.module_from_spec(spec)
    loader.exec_module(gen)
    expected = gen.render()
    assert (ROOT / "docs" / "reference.md").read_text(encoding="utf-8") == expected, (
        "docs/reference.md is stale: run scripts/gen-reference"
    )
    for module in PUBLIC:
        assert f"## `{module}`" in expected
        assert all(f"### `{module}.{name}`" in expected for name in importlib.import_module(module).__all__)
