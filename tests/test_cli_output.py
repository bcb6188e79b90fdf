"""What the command line prints where: one JSON document on stdout whatever fails, usage refused in one line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from fupin import hookimpl
from fupin.cli import Progress, echo_json, make_cli, pass_store
from fupin.errors import ValidationError


class LateFailurePlugin:
    """Commands that print their JSON (in each way a plugin may) and then fail, as code that checks late does."""

    @hookimpl
    def fupin_register_commands(self, cli: click.Group) -> None:
        @cli.group("late")
        def late() -> None:
            """Print, then fail."""

        @late.command("echo-json")
        @click.option("--json", "as_json", is_flag=True)
        @pass_store
        def with_echo_json(store: object, as_json: bool) -> None:
            """fupin.cli.echo_json, then a refusal."""
            echo_json({"plan": store.plan().name})  # type: ignore[attr-defined]
            raise ValidationError.of("year", "太晚了 / too late", 2099)

        @late.command("own-echo")
        @click.option("--json", "as_json", is_flag=True)
        def own_echo(as_json: bool) -> None:
            """The plugin's own click.echo of JSON (as the first-party plugins do), then a bug."""
            click.echo(json.dumps({"rows": [1, 2]}))
            raise ZeroDivisionError("late")

        @late.command("print")
        @click.option("--json", "as_json", is_flag=True)
        def printed(as_json: bool) -> None:
            """print(), then a refusal."""
            print(json.dumps({"rows": []}))
            raise ValidationError.of("rows", "空 / empty")

        @late.command("bytes")
        @click.option("--json", "as_json", is_flag=True)
        def in_bytes(as_json: bool) -> None:
            """Bytes through stdout's buffer (as export writes), then a refusal."""
            with click.open_file("-", "wb") as out:
                out.write(b'{"rows": 3}\n')
            raise ValidationError.of("rows", "太多 / too many")

        @late.command("early")
        @click.option("--json", "as_json", is_flag=True)
        def early(as_json: bool) -> None:
            """A refusal before anything is printed."""
            raise ValidationError.of("year", "太早了 / too early", 1999)


@pytest.fixture
def late(pm, sqlite_url) -> object:
    pm.register(LateFailurePlugin(), name="late")
    command = make_cli(pm)
    assert CliRunner().invoke(command, ["--db", sqlite_url, "init", "--plan", "qjnu-tuomu"]).exit_code == 0

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(command, ["--db", sqlite_url, "late", *args])

    return invoke


def error_line(result: Result, exit_code: int) -> str:
    """The failure's one line on stderr, without a traceback."""
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in result.output, result.stderr
    return lines[0]


class TestOneJsonDocument:
    def test_echo_json_then_failure(self, late) -> None:
        """A plugin command that printed its document with echo_json and then failed: that document only, the error on stderr."""
        result = late("echo-json", "--json")
        assert "too late" in error_line(result, 1)
        assert json.loads(result.stdout) == {"plan": "qjnu-tuomu"}

    def test_own_echo_then_bug(self, late) -> None:
        """Printed with the plugin's own click.echo, then a bug (exit 70): still one document."""
        result = late("own-echo", "--json")
        assert "ZeroDivisionError" in error_line(result, 70)
        assert json.loads(result.stdout) == {"rows": [1, 2]}

    def test_print_then_failure(self, late) -> None:
        """Printed with print(): one document."""
        result = late("print", "--json")
        error_line(result, 1)
        assert json.loads(result.stdout) == {"rows": []}

    def test_bytes_then_failure(self, late) -> None:
        """Written as bytes to stdout's buffer: one document."""
        result = late("bytes", "--json")
        error_line(result, 1)
        assert json.loads(result.stdout) == {"rows": 3}

    def test_failure_before_output_is_the_document(self, late) -> None:
        """Nothing printed before the failure: the error document, as before."""
        result = late("early", "--json")
        line = error_line(result, 1)
        assert json.loads(result.stdout) == {"error": line.removeprefix("Error: "), "exit_code": 1}

    def test_without_json_nothing_is_added(self, late) -> None:
        """Without --json the failure is the stderr line only."""
        result = late("early")
        error_line(result, 1)
        assert result.stdout == ""


class TestSheetOption:
    def test_sheet_with_csv_refused(self, cli, sqlite_url, tmp_path: Path) -> None:
        """--sheet with a CSV file is a usage error (exit 2) in one line, and nothing is imported."""
        assert cli("--db", sqlite_url, "init").exit_code == 0
        path = tmp_path / "areas.csv"
        path.write_text("code,name,level\n530326,会泽县,county\n", encoding="utf-8")
        result = cli("--db", sqlite_url, "import", "areas", str(path), "--sheet", "2")
        assert result.exit_code == 2, result.output
        assert f"--sheet applies to XLSX files only, not {path}" in result.stderr
        assert "Traceback" not in result.output
        listed = cli("--db", sqlite_url, "imports", "--json")
        assert listed.exit_code == 0 and json.loads(listed.stdout) == []


class FakeTerminal(io.StringIO):
    """A text stream that says it is a terminal, as stderr is when a clerk runs fupin."""

    def isatty(self) -> bool:
        return True


class TestProgress:
    @pytest.fixture
    def province(self, cli, sqlite_url, tmp_path: Path) -> Path:
        """Import files of 200 synthetic households, and a database holding their areas."""
        assert cli("--db", sqlite_url, "init").exit_code == 0
        out = tmp_path / "province"
        assert cli("synth", "--households", "200", "--seed", "3", "--output", str(out)).exit_code == 0
        assert cli("--db", sqlite_url, "import", "areas", str(out / "areas.csv")).exit_code == 0
        return out

    def test_progress_lines_on_stderr(self, cli, sqlite_url, province: Path) -> None:
        """--progress: lines with done/total and the percentage on stderr, up to 100%; stdout is the JSON document alone."""
        path = province / "households.csv"
        total = len(path.read_bytes().splitlines())
        result = cli("--db", sqlite_url, "--progress", "import", "households", str(path), "--batch-size", "40", "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["files"][0]["inserted"] == 200
        lines = [line for line in result.stderr.splitlines() if line.startswith("导入 / import households: ")]
        assert len(lines) >= 3, result.stderr
        assert lines[-1].startswith(f"导入 / import households: {total}/{total} (100%), 剩余 / left 0:00:")
        assert all(f"/{total} (" in line for line in lines)
        assert "导入" not in result.stdout

    def test_no_progress_without_the_option(self, cli, sqlite_url, province: Path) -> None:
        """Without --progress (and no terminal) nothing is said about progress."""
        result = cli("--db", sqlite_url, "import", "households", str(province / "households.csv"), "--json")
        assert result.exit_code == 0 and "导入 / import" not in result.stderr

    def test_synth_progress_lines(self, cli, tmp_path: Path) -> None:
        """synth --output with --progress: lines of households written, up to 200/200 (100%); stdout says what was written."""
        result = cli("--progress", "synth", "--households", "200", "--seed", "3", "--output", str(tmp_path / "out"))
        assert result.exit_code == 0, result.output
        lines = [line for line in result.stderr.splitlines() if line.startswith("合成 / synthesising: ")]
        assert lines and lines[-1].startswith("合成 / synthesising: 200/200 (100%), 剩余 / left 0:00:"), result.stderr
        assert result.stdout.startswith("已写入 / written to") and "synthesising" not in result.stdout

    def test_export_progress_lines(self, cli, sqlite_url, province: Path) -> None:
        """export --progress: lines with the counted total and the percentage on stderr; the CSV on stdout is byte-identical."""
        assert cli("--db", sqlite_url, "import", "households", str(province / "households.csv")).exit_code == 0
        quiet = cli("--db", sqlite_url, "export", "households")
        shown = cli("--db", sqlite_url, "--progress", "export", "households")
        assert quiet.exit_code == 0 and shown.exit_code == 0, shown.output
        assert shown.stdout_bytes == quiet.stdout_bytes and len(quiet.stdout_bytes.splitlines()) == 201
        lines = [line for line in shown.stderr.splitlines() if line.startswith("导出 / export households: ")]
        assert lines and lines[-1].startswith("导出 / export households: 200/200 (100%), 剩余 / left 0:00:"), shown.stderr
        assert "导出" not in quiet.stderr

    def test_export_progress_to_a_file(self, cli, sqlite_url, province: Path, tmp_path: Path) -> None:
        """export -o FILE --where: the total counts the filtered rows only."""
        assert cli("--db", sqlite_url, "import", "households", str(province / "households.csv")).exit_code == 0
        out = tmp_path / "one.csv"
        number = province.joinpath("households.csv").read_text(encoding="utf-8-sig").splitlines()[1].split(",")[0]
        result = cli("--db", sqlite_url, "--progress", "export", "households", "-o", str(out), "--where", f"户编号={number}")
        assert result.exit_code == 0, result.output
        assert "导出 / export households: 1/1 (100%)" in result.stderr
        assert len(out.read_bytes().splitlines()) == 2

    def test_demo_progress_lines(self, cli, tmp_path: Path) -> None:
        """demo --progress on a small plan: register lines in households, play lines in steps, both to 100%; stdout unchanged."""
        plan = tmp_path / "plan.toml"
        plan.write_text(_small_plan(), encoding="utf-8")
        quiet = cli("--db", f"sqlite:///{tmp_path / 'quiet.db'}", "demo", "--plan", str(plan), "--register-only")
        shown = cli("--db", f"sqlite:///{tmp_path / 'shown.db'}", "--progress", "demo", "--plan", str(plan))
        assert quiet.exit_code == 0 and shown.exit_code == 0, shown.output[-800:]
        assert shown.stdout.startswith(quiet.stdout)
        register = [line for line in shown.stderr.splitlines() if line.startswith("演示建村 / demo: register: ")]
        assert register[-1].startswith("演示建村 / demo: register: 60/60 (100%)"), shown.stderr
        played = [line for line in shown.stderr.splitlines() if line.startswith("演示模拟 / demo: play the years: ")]
        steps = 5 * (60 + 1) + 1  # each household's year and each year's end, five years; the plugins' streams
        assert len(played) >= 3 and played[-1].startswith(f"演示模拟 / demo: play the years: {steps}/{steps} (100%)"), shown.stderr
        assert all(f"/{steps} (" in line for line in played)
        assert "演示" not in quiet.stderr and "demo: " not in shown.stdout

    def test_bar_on_a_terminal(self) -> None:
        """On a terminal: a bar with position/total, the percentage and the time left."""
        screen = FakeTerminal()
        with Progress("导入 / import households", file=screen) as report:
            for done in range(0, 1001, 100):
                report(done, 1000)
        shown = screen.getvalue()
        assert "导入 / import households" in shown and "1000/1000" in shown and "100%" in shown
        assert "50%" in shown or "40%" in shown or "60%" in shown

    def test_lines_every_tenth(self) -> None:
        """Plain lines: one per tenth of the work, the last at 100%, time left as H:MM:SS."""
        out = io.StringIO()
        with Progress("x", lines=True, file=out, every=3600) as report:
            for done in range(0, 1001, 50):
                report(done, 1000)
        lines = out.getvalue().splitlines()
        assert [line.split(" (")[0] for line in lines] == [f"x: {n}/1000" for n in range(100, 1001, 100)]
        assert lines[-1].startswith("x: 1000/1000 (100%), 剩余 / left 0:00:00")


def _small_plan() -> str:
    """The reference plan with 60 poor households, so the demo plays it quickly."""
    import importlib.resources

    text = (importlib.resources.files("fupin") / "data" / "plans" / "qjnu-tuomu.toml").read_text(encoding="utf-8")
    assert "poor_households = 428" in text
    return text.replace("poor_households = 428", "poor_households = 60", 1)


class TestLibraryProgress:
    """The library's progress callbacks: ``(done, total)``, per chunk, never click."""

    def test_synth_and_export_per_chunk(self, store) -> None:
        """Synthesizer.write reports every 100 households; export_rows counts its rows first and reports per batch."""
        from fupin.io.engine import import_kinds
        from fupin.io.export import export_rows
        from fupin.synth import Synthesizer

        written: list[tuple[int, int]] = []
        Synthesizer(seed=5).write(store, households=250, progress=lambda done, total: written.append((done, total)))
        assert written == [(0, 250), (100, 250), (200, 250), (250, 250)]
        reported: list[tuple[int, int]] = []
        headers, rows = export_rows(store, import_kinds(store)["households"], batch_size=40,
                                    progress=lambda done, total: reported.append((done, total)))
        assert reported == [] and len(list(rows)) == 250  # counted when the stream starts, not before
        assert reported == [(0, 250), *((n, 250) for n in range(40, 250, 40)), (250, 250)]

    def test_store_export_progress(self, store) -> None:
        """store.export(progress=...) reports the filtered total; without it nothing is counted."""
        import io

        from fupin.synth import Synthesizer

        Synthesizer(seed=5).write(store, households=30)
        reported: list[tuple[int, int]] = []
        quiet, shown = io.BytesIO(), io.BytesIO()
        store.export("households", quiet)
        result = store.export("households", shown, progress=lambda done, total: reported.append((done, total)))
        assert result.rows == 30 and reported == [(0, 30), (30, 30)]
        assert shown.getvalue() == quiet.getvalue()
