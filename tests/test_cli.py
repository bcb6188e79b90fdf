"""The fupin command line: exact outcomes, exit codes, and nothing stored on refusal."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fupin import ActionKind, Actor, Store, hookimpl
from fupin.storage import schema


@pytest.fixture
def db(database_url, cli):
    """An initialised database with the reference plan loaded."""
    result = cli("--db", database_url, "init", "--plan", "qjnu-tuomu")
    assert result.exit_code == 0, result.output
    return database_url


def counts(url, pm) -> dict[str, int]:
    with Store.open(url, pm=pm, actor=Actor.from_env()) as store:
        return {t.name: store.count(t.name) for t in schema.CORE_TABLES}


def one_line_error(result, exit_code: int = 1) -> str:
    """The output of a refused command: exit 1 (or ``exit_code``), one 'Error:' line, no traceback."""
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


class TestRecord:
    def test_unknown_kind_refused(self, db, cli, pm):
        """An unknown kind exits 1 with one line naming the kind, and stores nothing."""
        before = counts(db, pm)
        line = one_line_error(cli("--db", db, "record", "core.nothing", "--date", "2016-01-01", "--unit", "QJNU"))
        assert "core.nothing" in line and "unknown action kind" in line
        assert counts(db, pm) == before

    def test_invalid_details_refused(self, db, cli, pm):
        """Details that fail the kind's class exit 1 naming the field, and store nothing."""
        cli("--db", db, "demo", "--force", "--register-only")
        before = counts(db, pm)
        line = one_line_error(
            cli("--db", db, "record", "core.goods", "--date", "2016-01-01", "--unit", "QJNU",
                "--detail", "item=米", "--detail", "quantity=lots")
        )
        assert "details.quantity" in line
        assert counts(db, pm) == before

    def test_record_from_options(self, db, cli, pm):
        """A valid action is stored with money in integer fen and the actor in the audit log."""
        cli("--db", db, "demo", "--force", "--register-only")
        result = cli(
            "--db", db, "--as", "QJNU-STU:clerk", "record", "core.goods", "--date", "2017-01-20",
            "--unit", "QJNU-STU", "--beneficiary", "unit:TMC-XX", "--detail", "item=图书",
            "--detail", "quantity=200", "--amount", "1234.56", "--json",
        )
        assert result.exit_code == 0, result.output
        stored = json.loads(result.output)
        assert (stored["amount_fen"], stored["details"]["quantity"]) == (123456, 200)
        with Store.open(db, pm=pm, actor=Actor.from_env()) as store:
            entry = store.audit_entries(table="support_actions", key=str(stored["id"]))[0]
        assert (entry.unit, entry.user, entry.new["amount_fen"]) == ("QJNU-STU", "clerk", 123456)

    def test_record_from_json_file(self, db, cli, pm, tmp_path):
        """--from reads the same fields from a JSON file."""
        cli("--db", db, "demo", "--force", "--register-only")
        path = tmp_path / "meeting.json"
        path.write_text(
            json.dumps({"date": "2016-06-30", "unit": "QJNU-PO", "plan": "qjnu-tuomu", "details": {"topic": "半年总结"}}),
            encoding="utf-8",
        )
        result = cli("--db", db, "record", "core.meeting", "--from", str(path))
        assert result.exit_code == 0, result.output
        assert result.output.startswith("已记录 / recorded: core.meeting #")

    def test_sub_fen_amount_refused(self, db, cli, pm):
        """An amount with more than two decimals is refused: fen are whole."""
        line = one_line_error(cli("--db", db, "record", "core.goods", "--date", "2016-01-01", "--amount", "1.005",
                                  "--detail", "item=x", "--detail", "quantity=1"))
        assert "at most two decimals" in line

    def test_missing_date_is_usage_error(self, db, cli):
        """Without --date or --from it is a usage error (exit 2)."""
        assert cli("--db", db, "record", "core.goods").exit_code == 2

    def test_uninitialised_database(self, database_url, cli):
        """A database never initialised is named, with the fix (exit 4: the environment)."""
        line = one_line_error(cli("--db", database_url, "record", "core.goods", "--date", "2016-01-01"), exit_code=4)
        assert "fupin init" in line


class TestPlugins:
    def test_json_lists_contributions(self, cli, pm):
        """plugins --json is valid JSON listing each plugin with version and contributions."""

        class Dept:
            @hookimpl
            def fupin_action_kinds(self):
                return [ActionKind("dept.lecture", "讲座", "Lecture")]

        pm.register_plugin(Dept(), "dept", distribution="fupin-dept", version="1.2.3")
        data = json.loads(cli("plugins", "--json").output)
        by_name = {p["name"]: p for p in data["plugins"]}
        assert by_name["dept"]["version"] == "1.2.3"
        assert by_name["dept"]["contributions"]["action_kinds"] == ["dept.lecture"]
        assert "core.goods" in by_name["core"]["contributions"]["action_kinds"]
        assert data["failures"] == []


class TestPlan:
    def test_show_reference_plan(self, cli):
        """plan show prints every commitment id of the reference plan."""
        result = cli("plan", "show", "qjnu-tuomu")
        assert result.exit_code == 0
        assert all(f"C{i:02d}" in result.output for i in range(1, 38))

    def test_show_json_and_file(self, cli, tmp_path):
        """A plan file prints the same as the packaged plan of that name."""
        from fupin.plans import load_plan

        path = tmp_path / "copy.toml"
        path.write_text(load_plan("qjnu-tuomu").text, encoding="utf-8")
        by_file = json.loads(cli("plan", "show", str(path), "--json").output)
        by_name = json.loads(cli("plan", "show", "qjnu-tuomu", "--json").output)
        assert by_file == by_name and len(by_name["commitments"]) == 37

    def test_unknown_plan(self, cli):
        """An unknown plan name is a one-line error."""
        assert "no-such-plan" in one_line_error(cli("plan", "show", "no-such-plan"))


class TestDemoAndShow:
    def test_demo_summary_and_refusal(self, database_url, cli, pm):
        """demo prints the summary; a second run without --force refuses and changes nothing."""
        result = cli("--db", database_url, "demo", "--register-only")
        assert result.exit_code == 0, result.output
        assert "拖木村" in result.output and "428 户" in result.output and "厅级 14" in result.output
        before = counts(database_url, pm)
        assert "not empty" in one_line_error(cli("--db", database_url, "demo", "--register-only"))
        assert counts(database_url, pm) == before
        assert cli("--db", database_url, "demo", "--force", "--register-only").exit_code == 0
        assert counts(database_url, pm) == before

    def test_show_household_masks_ids(self, database_url, cli, pm):
        """show household prints the card with ID numbers masked (only the area's first 6 kept: the birth date is shown beside them)."""
        cli("--db", database_url, "demo", "--register-only")
        with Store.open(database_url, pm=pm, actor=Actor.from_env()) as store:
            card = store.household_card("530326106200010002", unmasked=True)
        result = cli("--db", database_url, "show", "household", "530326106200010002")
        assert result.exit_code == 0, result.output
        for member in card.members:
            assert member.name in result.output
            assert member.id_number not in result.output
            assert f"{member.id_number[:6]}************" in result.output
        data = json.loads(cli("--db", database_url, "show", "household", "530326106200010002", "--json").output)
        assert len(data["members"]) == len(card.members)

    def test_show_unknown_household(self, database_url, cli):
        """An unknown household number is a one-line error."""
        cli("--db", database_url, "init")
        assert "H404" in one_line_error(cli("--db", database_url, "show", "household", "H404"))


class TestSynth:
    def test_same_seed_same_records(self, tmp_path, cli, pm):
        """Two databases synthesised with the same seed hold identical people."""
        people = []
        for name in ("a", "b"):
            url = f"sqlite:///{tmp_path / name}.db"
            cli("--db", url, "init")
            result = cli("--db", url, "synth", "--households", "30", "--seed", "7")
            assert result.exit_code == 0, result.output
            with Store.open(url, pm=pm, actor=Actor.from_env()) as store:
                people.append([store.household_card(h).members for h in (f"53032610120001{n:04d}" for n in range(1, 8))])
        assert people[0] == people[1] and people[0][0]


def test_console_script_never_prints_a_traceback(tmp_path):
    """The installed `fupin` script turns an error into one line on stderr (exit 4: not initialised)."""
    proc = subprocess.run(
        [sys.executable, "-c", "from fupin.cli import main; main()", "--db", f"sqlite:///{tmp_path}/x.db",
         "record", "core.goods", "--date", "2016-01-01"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 4
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("Error: ") and len(proc.stderr.strip().splitlines()) == 1
