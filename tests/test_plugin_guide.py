"""The plugin author's documents match the code.

docs/plugin_tables.md documents exactly the columns of the tables it lists. Every Python
block of docs/writing_a_plugin.md and docs/plugin_hooks.md is marked with what it is
(``<!-- guide: file=PATH -->``: a file of the guide's plugin, or the next part of one;
``<!-- guide: module -->``: a complete plugin module on its own; ``<!-- guide: skip (why) -->``),
and the blocks run: the guide's fupin-clinic plugin is written out from them, registered,
and does what the guide says; each hook page example registers on a fresh plugin manager.
A block that does not compile or import fails naming its page and line.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from fupin.storage import schema as S

DOCS = Path(__file__).resolve().parent.parent / "docs"


def documented_tables() -> dict[str, list[str]]:
    """Table -> the columns its section of plugin_tables.md lists, in order."""
    text = (DOCS / "plugin_tables.md").read_text(encoding="utf-8")
    out: dict[str, list[str]] = {}
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        name = section.split("\n", 1)[0].strip()
        out[name] = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
    return out


TABLES = documented_tables()


def test_the_tables_a_plugin_reads_are_documented() -> None:
    """The tables the guide and the core's targets send plugins to are all on the page."""
    wanted = {"support_actions", "action_beneficiaries", "action_helpers", "households", "persons", "person_tags",
              "plans", "plan_villages", "units", "cadres", "pairings", "visits", "areas"}
    assert wanted <= set(TABLES)


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_column_is_documented_and_exists(table: str) -> None:
    """Each documented column exists in the schema, and each column of the table is documented, in schema order."""
    assert table in S.metadata.tables, f"{table} is documented but not in the schema"
    assert TABLES[table] == [c.name for c in S.metadata.tables[table].c]


# -- the guide's code blocks ------------------------------------------------------------

GUIDE_PAGES = ("writing_a_plugin.md", "plugin_hooks.md")
MARK = re.compile(r"<!-- guide: (file=(?P<file>\S+)|(?P<module>module)|skip \((?P<why>[^)]+)\)) -->")


@attrs.frozen
class Block:
    page: str
    line: int  # of the opening fence
    lang: str
    text: str
    file: str | None  # file=PATH
    module: bool  # a complete module on its own
    skip: str | None  # why it cannot run

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"


def blocks(page: str) -> list[Block]:
    """The fenced blocks of ``page`` with the guide mark on the line above (blank lines between allowed)."""
    lines = (DOCS / page).read_text(encoding="utf-8").splitlines()
    out, i = [], 0
    while i < len(lines):
        fence = re.match(r"^```(\w*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        j = i + 1
        while not lines[j].startswith("```"):
            j += 1
        k = i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        mark = MARK.fullmatch(lines[k].strip()) if k >= 0 else None
        out.append(Block(page, i + 1, fence.group(1), "\n".join(lines[i + 1:j]) + "\n",
                         mark["file"] if mark else None, bool(mark and mark["module"]), mark["why"] if mark else None))
        i = j + 1
    return out


ALL_BLOCKS = [b for page in GUIDE_PAGES for b in blocks(page)]


@pytest.mark.parametrize("page", GUIDE_PAGES)
def test_every_python_block_says_what_it_is(page: str) -> None:
    """No Python block is left unmarked: each is a file of the guide's plugin, a complete module, or skipped with a reason."""
    unmarked = [b.where for b in ALL_BLOCKS if b.page == page and b.lang == "python" and not (b.file or b.module or b.skip)]
    assert unmarked == []
    skipped = [b for b in ALL_BLOCKS if b.page == page and b.skip]
    assert len(skipped) <= 2, [b.where for b in skipped]


@pytest.mark.parametrize("block", [b for b in ALL_BLOCKS if b.lang == "python" and not b.skip], ids=lambda b: b.where)
def test_every_python_block_compiles(block: Block) -> None:
    compile(block.text, block.where, "exec")


def write_guide_plugin(root: Path) -> Path:
    """Write the files the guide's marked blocks make (parts of one file in page order) under ``root``."""
    files: dict[str, str] = {}
    for b in ALL_BLOCKS:
        if b.page == "writing_a_plugin.md" and b.file:
            comment = "# " if b.lang == "python" else "# "
            files[b.file] = files.get(b.file, "") + f"{comment}-- from {b.where}\n" + b.text
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def guide_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = write_guide_plugin(tmp_path_factory.mktemp("guide"))
    sys.path.insert(0, str(root))
    try:
        yield root
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == "fupin_clinic" or m.startswith("fupin_clinic.")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def clinic(guide_root: Path) -> Any:
    try:
        return importlib.import_module("fupin_clinic")
    except Exception as exc:  # name the block: the generated files say where each part comes from
        raise AssertionError(f"the guide's plugin does not import: {type(exc).__name__}: {exc}") from exc


@pytest.fixture
def pm(pm: Any, clinic: Any) -> Any:
    pm.register(clinic, name="clinic")
    return pm


def _guide_toml(marker: str) -> str:
    return next(b.text for b in ALL_BLOCKS if b.page == "writing_a_plugin.md" and b.lang == "toml" and marker in b.text)


PLAN = """\
format_version = 1

[plan]
name = "med-clinic"
title_zh = "医学院义诊方案"
title_en = "Medical college free clinics"

[plan.period]
start = 2021-01-01
end = 2022-12-31

[plan.helping_unit]
code = "MED"
name_zh = "医学院"

[[plan.villages]]
code = "530326106201"
name_zh = "示例村"

"""
DAY = dt.date(2021, 5, 6)
VILLAGE = "530326106201"


def _plan(min_patients: str = "min_patients = 100", settings: str | None = None) -> Any:
    from fupin import Plan

    commitment = _guide_toml("clinic.patients_per_year").replace("min_patients = 100", min_patients)
    return Plan.from_toml(PLAN + commitment + "\n" + (settings if settings is not None else _guide_toml("[plugins.clinic]")),
                          source="med-clinic.toml")


def _world(store: Any) -> Any:
    from fupin import Area, Unit

    with store.transaction():
        store.add_unit(Unit.new(vocab=store.vocab, code="MED", name="医学院", kind="院系部门"))
        store.add_areas([Area("530000", "云南省", "province"), Area("530300", "曲靖市", "city", "530000"),
                         Area("530326", "会泽县", "county", "530300"), Area("530326106", "者海镇", "town", "530326"),
                         Area(VILLAGE, "示例村", "village", "530326106")])
    return store.hooks.action_kind("clinic.free_clinic")


def _clinic(store: Any, kind: Any, patients: int, ref: str, **details: Any) -> Any:
    from fupin import SupportAction

    return SupportAction.new(kind, start=DAY, unit="MED", ref=ref, vocab=store.vocab,
                             beneficiaries=details.pop("beneficiaries", [f"village:{VILLAGE}"]),
                             details={"specialty": "eyes", "doctors": 2, "patients": patients, **details})


class TestTheGuidesPlugin:
    """The fupin-clinic plugin written from docs/writing_a_plugin.md does what the guide says, on both backends."""

    def test_the_kind_records_and_validates(self, store: Any) -> None:
        """A clinic day is recorded with its specialty's canonical label; a bad detail is refused naming details.FIELD."""
        from fupin import ValidationError

        kind = _world(store)
        done = store.record_action(_clinic(store, kind, 40, "MED-1"))
        assert [(a.ref, a.details.specialty, a.details.patients) for a in store.actions(kind="clinic.free_clinic")] == [("MED-1", "眼科", 40)]
        assert done.id is not None
        with pytest.raises(ValidationError, match=r"details\.patients"):
            _clinic(store, kind, 0, "MED-2")
        with pytest.raises(ValidationError, match=r"details\.specialty"):
            _clinic(store, kind, 5, "MED-2", specialty="牙科")
        with pytest.raises(ValidationError, match=r"details\.patients"):  # the rule across fields (fupin_validate_record)
            store.record_action(_clinic(store, kind, 500, "MED-2"))
        with pytest.raises(ValidationError, match=r"beneficiaries"):
            store.record_action(_clinic(store, kind, 5, "MED-2", beneficiaries=[]))

    def test_the_target_checks_the_plan(self, store: Any) -> None:
        """M01 is met with 120 patients against 100, not met against 200 once the year is over; the evidence names the records."""
        from fupin import Status

        kind = _world(store)
        store.save_plan(_plan())
        store.record_action(_clinic(store, kind, 70, "MED-1"))
        store.record_action(_clinic(store, kind, 50, "MED-2"))
        (met,) = [r for r in store.check("med-clinic", 2021, as_of=dt.date(2022, 3, 1)) if r.commitment == "M01"]
        assert met.status is Status.MET and set(met.evidence) == {"action:MED-1", "action:MED-2"} and met.figures["patients"] == 120
        store.save_plan(_plan("min_patients = 200"))
        (short,) = [r for r in store.check("med-clinic", 2021, as_of=dt.date(2022, 3, 1)) if r.commitment == "M01"]
        assert short.status is Status.NOT_MET

    def test_the_plan_is_checked_against_what_the_plugin_declares(self, store: Any) -> None:
        """A mistyped target parameter or plan setting is refused naming its key."""
        from fupin import PlanError

        _world(store)
        with pytest.raises(PlanError, match=r"M01\.params\.min_patients"):
            store.save_plan(_plan('min_patients = "一百"'))
        with pytest.raises(PlanError, match=r"plugins\.clinic\.report_specialties"):
            store.save_plan(_plan(settings='[plugins.clinic]\nreport_specialties = "yes"\n'))
        with pytest.raises(PlanError, match=r"plugins\.clinic\.colour"):
            store.save_plan(_plan(settings="[plugins.clinic]\ncolour = 1\n"))

    def test_the_report_section_counts(self, store: Any) -> None:
        kind = _world(store)
        store.save_plan(_plan())
        store.record_action(_clinic(store, kind, 70, "MED-1"))
        (section,) = store.hooks.report_sections(store, store.plan("med-clinic"), 2021)
        assert section.paragraphs_en == ("1 free clinic days in 2021, 70 patients seen.",) and section.rows == (("眼科", 1),)

    def test_the_permission_and_role_resolve(self, pm: Any) -> None:
        from fupin.hooks import Hooks

        setup = Hooks(pm).access_setup()
        assert setup.failures == ()
        assert "clinic.approve" in setup.roles["plan_office"].permissions
        assert setup.roles["clinic_doctor"].kinds == ("clinic.*",)

    def test_the_command_and_the_import_kind(self, cli: Any, sqlite_url: str, pm: Any) -> None:
        """`fupin clinic days` lists what the store holds; `fupin import --list` shows clinic.days."""
        from fupin import Actor, Store

        assert cli("--db", sqlite_url, "init").exit_code == 0
        with Store.open(sqlite_url, pm=pm, actor=Actor.parse("TEST:tester")) as store:
            store.record_action(_clinic(store, _world(store), 30, "MED-1"))
        listed = cli("--db", sqlite_url, "clinic", "days", "--year", "2021", "--json")
        assert listed.exit_code == 0, listed.output
        assert json.loads(listed.output) == [{"ref": "MED-1", "start": "2021-05-06", "specialty": "眼科", "patients": 30}]
        text = cli("--db", sqlite_url, "clinic", "days")
        assert text.exit_code == 0 and "MED-1" in text.output and "眼科" in text.output
        assert "clinic.days" in cli("import", "--list").output


def test_the_guides_own_tests_pass_with_fixtures_from_the_entry_point(guide_root: Path) -> None:
    """The test file of section 11 runs under pytest as a plugin author's would: fixtures come from installing fupin."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(guide_root), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not postgres",
                           "--rootdir", str(guide_root), str(guide_root / "tests" / "test_clinic.py")],
                          cwd=guide_root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout


@pytest.mark.parametrize("block", [b for b in ALL_BLOCKS if b.module], ids=lambda b: b.where)
def test_every_hook_example_is_a_complete_plugin_module(block: Block) -> None:
    """Each example of plugin_hooks.md imports, registers on a fresh plugin manager (hook names and
    arguments checked), and what its registration hooks return is accepted."""
    import types

    from fupin.hooks import Hooks
    from fupin.plugins import get_plugin_manager

    module = types.ModuleType("fupin_lifesci_example")
    module.__file__ = str(DOCS / block.page)
    try:
        exec(compile(block.text, block.where, "exec"), module.__dict__)
    except Exception as exc:
        raise AssertionError(f"{block.where}: {type(exc).__name__}: {exc}") from exc
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(module, name="lifesci")
    pm.check_pending()
    hooks = Hooks(pm)
    implemented = {c.name for c in pm.get_hookcallers(module) or ()}
    if "fupin_action_kinds" in implemented and "return []" not in block.text:
        assert any(name.startswith("lifesci.") for name in hooks.action_kinds())
    if "fupin_targets" in implemented:
        assert any(name.startswith("lifesci.") for name in hooks.targets())
    if "fupin_importers" in implemented:
        assert any(name.startswith("lifesci.") for name in hooks.importers())
    if "fupin_plan_settings" in implemented:
        assert hooks.plan_settings()["lifesci"]
