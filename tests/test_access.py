"""Access control, table-driven: every command and main library call as each role, in and out of scope.

The demo database has the users of its demo file (fupin/data/demo/qjnu-tuomu.toml):
a plan office, two departments, a cadre (who helped households 1 and 2 on a site
visit), an auditor and a town user; the test adds a user of another town and an
unregistered login. Each case says what the actor runs and what must happen:
``ok`` (and, for listings, how many rows come back) or the permission whose lack
refuses it. A refused call must name the permission and change nothing.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from fupin import Actor, Store
from fupin.access import AccessDenied
from fupin.storage import schema as S

H1 = "530326106200010001"  # paired with cadre QJNU-C001 (and helped by it on the demo site visit)
H3 = "530326106200010003"  # not helped by that cadre

ADMIN = "TEST:tester"
OFFICE = "QJNU:office"
STU = "QJNU-STU:clerk"
BIO = "QJNU-BIO:clerk"
CADRE = "QJNU-LEAD:cadre1"
AUDITOR = "PROVINCE:auditor"
TOWN = "ZHZ-GOV:clerk"
OTHER_TOWN = "DJ-GOV:clerk"
NOBODY = "NOBODY:x"

ALL_HOUSEHOLDS = 428


def lines(output: str) -> int:
    return len([line for line in output.splitlines() if line.strip()])


#: (actor, CLI arguments, expected): expected is "ok", ("rows", n) for a JSON-lines
#: export that must return n rows, or the name of the missing permission.
CASES = [
    # show one household card
    (ADMIN, ["show", "household", H1], "ok"),
    (OFFICE, ["show", "household", H1], "ok"),
    (STU, ["show", "household", H1], "registry.read"),
    (CADRE, ["show", "household", H1], "ok"),
    (CADRE, ["show", "household", H3], "registry.read"),
    (AUDITOR, ["show", "household", H3], "ok"),
    (TOWN, ["show", "household", H3], "ok"),
    (OTHER_TOWN, ["show", "household", H3], "registry.read"),
    (NOBODY, ["show", "household", H1], "registry.read"),
    # list / export households (masked)
    (ADMIN, ["export", "households", "--format", "jsonl"], ("rows", ALL_HOUSEHOLDS)),
    (OFFICE, ["export", "households", "--format", "jsonl"], ("rows", ALL_HOUSEHOLDS)),
    (CADRE, ["export", "households", "--format", "jsonl"], ("rows", 2)),
    (TOWN, ["export", "households", "--format", "jsonl"], ("rows", ALL_HOUSEHOLDS)),
    (OTHER_TOWN, ["export", "households", "--format", "jsonl"], ("rows", 0)),
    (STU, ["export", "households", "--format", "jsonl"], "registry.read"),
    (NOBODY, ["export", "persons", "--format", "jsonl"], "registry.read"),
    # unmasked export
    (OFFICE, ["export", "persons", "--unmasked", "--format", "jsonl"], "ok"),
    (AUDITOR, ["export", "persons", "--unmasked", "--format", "jsonl"], "export.unmasked"),
    (TOWN, ["export", "persons", "--unmasked", "--format", "jsonl"], "export.unmasked"),
    # support actions: a department sees and exports only its own
    (ADMIN, ["export", "actions", "--format", "jsonl"], ("rows", 4)),
    (STU, ["export", "actions", "--format", "jsonl"], ("rows", 1)),
    (BIO, ["export", "actions", "--format", "jsonl"], ("rows", 0)),
    (CADRE, ["export", "actions", "--format", "jsonl"], ("rows", 2)),
    (AUDITOR, ["export", "actions", "--format", "jsonl"], ("rows", 4)),
    (NOBODY, ["export", "actions", "--format", "jsonl"], "actions.read"),
    # recording an action for the students' office
    (STU, ["record", "core.goods", "--date", "2017-01-20", "--unit", "QJNU-STU", "--detail", "item=书", "--detail", "quantity=3"], "ok"),
    (BIO, ["record", "core.goods", "--date", "2017-01-20", "--unit", "QJNU-STU", "--detail", "item=书", "--detail", "quantity=3"], "actions.write"),
    (OFFICE, ["record", "core.goods", "--date", "2017-01-21", "--unit", "QJNU-STU", "--detail", "item=书", "--detail", "quantity=3"], "ok"),
    (CADRE, ["record", "core.site_visit", "--date", "2017-02-01", "--unit", "QJNU-LEAD", "--helper", "QJNU-C001", "--detail", "purpose=回访"], "ok"),
    (CADRE, ["record", "core.site_visit", "--date", "2017-02-01", "--unit", "QJNU-LEAD", "--helper", "QJNU-C002", "--detail", "purpose=回访"], "actions.write"),
    (AUDITOR, ["record", "core.goods", "--date", "2017-01-20", "--unit", "QJNU-STU", "--detail", "item=书", "--detail", "quantity=3"], "actions.write"),
    (TOWN, ["record", "core.goods", "--date", "2017-01-20", "--unit", "QJNU-STU", "--detail", "item=书", "--detail", "quantity=3"], "actions.write"),
    # batch import of a household
    (OFFICE, ["import", "households", "{households_file}"], "ok"),
    (TOWN, ["import", "households", "{households_file2}"], "ok"),
    (OTHER_TOWN, ["import", "households", "{households_file3}"], "registry.write"),
    (STU, ["import", "households", "{households_file3}"], "registry.write"),
    (AUDITOR, ["import", "households", "{households_file3}"], "registry.write"),
    # users, import batches, plans, duplicates
    (ADMIN, ["users", "add", "X:y", "--role", "auditor"], "ok"),
    (OFFICE, ["users", "add", "X:z", "--role", "platform_admin"], "users.manage"),
    (STU, ["users", "list"], "users.manage"),
    (OFFICE, ["imports"], "ok"),
    (STU, ["imports"], "audit.read"),
    (OFFICE, ["plan", "load", "qjnu-tuomu"], "ok"),
    (STU, ["plan", "load", "qjnu-tuomu"], "plans.write"),
    (AUDITOR, ["dedup", "scan", "--json"], "ok"),
    (STU, ["dedup", "scan", "--json"], "registry.read"),
    (STU, ["synth", "--households", "2"], "registry.write"),
    (STU, ["init"], "users.manage"),
    (NOBODY, ["demo", "--force"], "users.manage"),
]


def snapshot(url: str, pm) -> dict[str, int]:
    """Row counts of every core table, read directly (not through the access layer).

    Import batches are left out: a refused import is kept on record as an attempt.
    """
    with Store.open(url, pm=pm, actor=Actor.parse(ADMIN)) as store:
        with store.engine.connect() as conn:
            return {
                t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in S.metadata.sorted_tables
                if t.name != "import_batches"
            }


@pytest.fixture
def demo_db(database_url, cli, tmp_path):
    """The demo database, plus a user of another town, and household files to import."""
    assert cli("--db", database_url, "demo", "--register-only").exit_code == 0
    assert cli("--db", database_url, "users", "add", OTHER_TOWN, "--role", "area_user", "--area", "530326107").exit_code == 0
    # The cadre's households are those it is paired with (the demo's site visit to H1 and H2 opens nothing).
    for household in (H1, "530326106200010002"):
        assert cli("--db", database_url, "pair", "add", "--cadre", "QJNU-C001", "--household", household, "--kind", "联系", "--date", "2015-08-20").exit_code == 0
    header = "户编号,村民小组代码,户主姓名,贫困户属性,主要致贫原因\r\n"
    files = {}
    for n, name in enumerate(("households_file", "households_file2", "households_file3"), start=1):
        path = tmp_path / f"{name}.csv"
        path.write_text(header + f"53032610620004990{n},53032610620004,新户{n},一般贫困户,因病\r\n", encoding="utf-8-sig")
        files[name] = str(path)
    return database_url, files


def test_every_command_as_every_role(demo_db, cli, pm):
    """Each case is allowed or refused as its table says; a refusal names the permission and changes nothing."""
    url, files = demo_db
    failures = []
    for actor, args, expected in CASES:
        args = [a.format(**files) for a in args]
        before = snapshot(url, pm)
        result = cli("--db", url, "--as", actor, *args)
        label = f"{actor} {' '.join(args)}"
        if expected == "ok" or isinstance(expected, tuple):
            if result.exit_code != 0:
                failures.append(f"{label}: expected ok, got exit {result.exit_code}: {result.output.strip()[:200]}")
            elif isinstance(expected, tuple) and lines(result.output) != expected[1]:
                failures.append(f"{label}: expected {expected[1]} rows, got {lines(result.output)}")
        else:
            out = result.output.strip()
            # On PostgreSQL a user mapped to no login is refused before any permission is asked.
            refused = f"lacks {expected}" in out or (actor == NOBODY and f"may not act as {actor}" in out)
            # A refused permission exits 3; rows of an import refused for scope are refused input (exit 1).
            status = 1 if args[0] == "import" and "outside your scope" in out else 3
            if result.exit_code != status or not refused or "Traceback" in out:
                failures.append(f"{label}: expected refusal naming {expected}, got exit {result.exit_code}: {out[:200]}")
            elif snapshot(url, pm) != before:
                failures.append(f"{label}: refused but the database changed")
    assert not failures, "\n".join(failures)


def test_department_counts_without_details(demo_db, pm):
    """A department cannot read another department's actions but the aggregate counts include them."""
    url, _ = demo_db
    with Store.open(url, pm=pm, actor=Actor.parse(BIO)) as store:
        assert list(store.actions()) == []
        assert store.count("support_actions") == 4
        with pytest.raises(AccessDenied, match="registry.read"):
            store.household_card(H1)
        with pytest.raises(AccessDenied, match="registry.write"):
            store.update_household(H1, {"phone": "13900000000"})
    with Store.open(url, pm=pm, actor=Actor.parse(STU)) as store:
        assert [a.unit for a in store.actions()] == ["QJNU-STU"]


def test_library_acting_as(demo_db, pm):
    """One store can act as different users: the same call is allowed for one and refused for another."""
    url, _ = demo_db
    with Store.open(url, pm=pm, actor=Actor.parse(OFFICE)) as office:
        town = office.acting_as(Actor.parse(OTHER_TOWN))
        assert office.get_household(H3).number == H3
        with pytest.raises(AccessDenied, match="registry.read"):
            town.get_household(H3)
        card = office.household_card(H1)
        office.update_household(H1, {"phone": "13900000000"}, expected_version=1)
        assert office.get_household(H1).phone == "13900000000"
        entry = office.audit_entries(table="households", key=H1)[-1]
        assert (entry.unit, entry.user) == ("QJNU", "office")
        assert card.household.number == H1


def test_where_injection_is_just_a_value(demo_db, cli):
    """--where values are bound: SQL in them matches nothing and breaks nothing."""
    url, _ = demo_db
    for evil in ("户主姓名=x' OR '1'='1", "户编号=1; DROP TABLE households; --", "户主姓名~%' --"):
        result = cli("--db", url, "export", "households", "--format", "jsonl", "--where", evil)
        assert result.exit_code == 0 and result.output == ""
    assert lines(cli("--db", url, "export", "households", "--format", "jsonl").output) == ALL_HOUSEHOLDS


def test_passwords_never_shown(cli):
    """A database password appears neither in errors nor in --help."""
    url = "postgresql+psycopg://clerk:s3cret-pw@127.0.0.1:1/fupin"
    result = cli("--db", url, "show", "household", H1)
    assert result.exit_code == 4 and "s3cret-pw" not in result.output and "***" in result.output
    assert "s3cret-pw" not in cli("--help", env={"FUPIN_DATABASE_URL": url}).output


def test_unmasked_export_is_audited_and_masked_by_default(demo_db, cli, pm):
    """ID numbers are masked unless --unmasked; every export leaves an audit entry naming the actor, and whether it was masked."""
    url, _ = demo_db
    masked = [json.loads(x) for x in cli("--db", url, "--as", TOWN, "export", "persons", "--format", "jsonl").output.splitlines()]
    assert masked and all("*" in p["证件号码"] for p in masked)
    cli("--db", url, "--as", OFFICE, "export", "persons", "--unmasked", "--format", "jsonl")
    with Store.open(url, pm=pm, actor=Actor.parse(ADMIN)) as store:
        entries = [e for e in store.audit_entries() if e.operation == "export"]
    assert [(e.unit, e.user, e.new["unmasked"]) for e in entries] == [("ZHZ-GOV", "clerk", False), ("QJNU", "office", True)]


class TestPluginPermissions:
    def test_a_plugin_declares_a_permission_and_extends_a_packaged_role(self):
        """A permission declared in [permissions] may be granted; extend adds it to a packaged role."""
        from fupin.access import load_permissions, load_roles

        ext = {"permissions": {"soil.approve": "approve soil reports"},
               "roles": {"plan_office": {"extend": True, "permissions": ["soil.approve"]}}}
        roles = load_roles([ext])
        assert "soil.approve" in roles["plan_office"].permissions
        assert "registry.read" in roles["plan_office"].permissions
        assert load_permissions([ext])["soil.approve"] == "approve soil reports"

    def test_an_undeclared_permission_is_refused(self):
        """A role naming a permission nobody declared is refused, naming it."""
        from fupin.access import load_roles
        from fupin.errors import ValidationError

        with pytest.raises(ValidationError, match="soil.approve"):
            load_roles([{"roles": {"x": {"scope": "all", "permissions": ["soil.approve"]}}}])
