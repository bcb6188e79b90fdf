"""Import, export, check, report and the ``fupin psychology`` commands: no note text anywhere but the explicit read."""

from __future__ import annotations

import json

from fupin import Actor, Store

from psy_world import CHILD1, NOTE, SESSIONS_CSV, clean, setup_files


def test_import_export_check_report_without_notes(cli, database_url, seed, tmp_path, key):
    sessions, cases = setup_files(cli, database_url, seed, tmp_path)
    imported = cli("--db", database_url, "import", "psychology.sessions", str(sessions), "--json")
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.output)["files"][0]["inserted"] == 3
    clean(imported.output, key)
    assert cli("--db", database_url, "import", "psychology.cases", str(cases)).exit_code == 0

    # Export: no note column, no note text, persons masked; a re-import of the export changes nothing.
    out = tmp_path / "out.csv"
    exported = cli("--db", database_url, "export", "psychology.sessions", "-o", str(out))
    assert exported.exit_code == 0, exported.output
    text = out.read_text(encoding="utf-8-sig")
    clean(text, key)
    assert "记录内容" not in text and CHILD1 not in text and "PSY-3" in text and "个别疏导" in text
    unmasked = tmp_path / "unmasked.csv"
    assert cli("--db", database_url, "export", "psychology.sessions", "--unmasked", "-o", str(unmasked)).exit_code == 0
    clean(unmasked.read_text(encoding="utf-8-sig"), key)
    again = cli("--db", database_url, "import", "psychology.sessions", str(unmasked), "--json")
    assert again.exit_code == 0, again.output
    counts = json.loads(again.output)["files"][0]
    assert (counts["inserted"], counts["updated"], counts["unchanged"]) == (0, 0, 3)

    # Check: C32 counts the tagged persons of the village counselled in 2017; C33 the cases with steps.
    check = cli("--db", database_url, "check", "--year", "2017", "--json")
    assert check.exit_code in (0, 1), check.output
    clean(check.output, key)
    results = {r["id"]: r for r in json.loads(check.output) if r["plugin"] == "psychology"}
    c32, c33 = results["C32"], results["C33"]
    assert c32["figures"]["groups"]["留守儿童"] == {"persons": "<5", "counselled": "<5", "share": None}
    assert c32["figures"]["groups"]["空巢老人"] == {"persons": 6, "counselled": 5, "share": round(5 / 6, 4)}
    assert "留守儿童 <5/<5" in c32["actual"] and "空巢老人 5/6 (83%)" in c32["actual"]
    assert c32["status"] == "met" and sorted(c32["evidence"]) == ["psychology_session:PSY-1", "psychology_session:PSY-2", "psychology_session:PSY-3"]
    assert c33["figures"]["cases"] == 2 and c33["figures"]["without_steps"] == 1 and c33["status"] == "not_met"
    assert sorted(c33["evidence"]) == ["psychology_case:SW-1", "psychology_case:SW-2"]

    # Report, in every format: counts only, small cells as <5, never a note.
    for fmt in ("text", "json", "html"):
        report = cli("--db", database_url, "report", "--year", "2017", "--format", fmt)
        assert report.exit_code in (0, 1), report.output
        clean(report.output, key)
        assert "<5" in report.output or "&lt;5" in report.output
        assert CHILD1 not in report.output and "小花" not in report.output
    data = json.loads(cli("--db", database_url, "report", "--year", "2017", "--format", "json").output)
    text = json.dumps(data, ensure_ascii=False)
    assert "psychology.summary" in text and "心理疏导 <5 次" in text

    # Listings never show a note either.
    for args in (("sessions", "--year", "2017"), ("sessions", "--year", "2017", "--json"), ("cases", "--year", "2017"),
                 ("roster", "--group", "留守儿童", "--year", "2017")):
        listed = cli("--db", database_url, "psychology", *args)
        assert listed.exit_code == 0, listed.output
        clean(listed.output, key)

    # The audit log holds no note, cipher or key.
    with Store.open(database_url, actor=Actor.from_env()) as store:
        clean(json.dumps([[e.old, e.new, e.reason] for e in store.audit_entries()], ensure_ascii=False, default=str), key)


def test_note_command(cli, sqlite_url, seed, tmp_path, key):
    sessions, _cases = setup_files(cli, sqlite_url, seed, tmp_path)
    assert cli("--db", sqlite_url, "import", "psychology.sessions", str(sessions)).exit_code == 0
    refused = cli("--db", sqlite_url, "psychology", "note", "PSY-1")
    assert refused.exit_code == 1 and "reason" in refused.output
    clean(refused.output)
    shown = cli("--db", sqlite_url, "psychology", "note", "PSY-1", "--reason", "回访前了解上次情况")
    assert shown.exit_code == 0 and NOTE in shown.output
    with Store.open(sqlite_url, actor=Actor.from_env()) as store:
        reads = [e for e in store.audit_entries(table="psychology_sessions") if e.operation == "read_note"]
        assert [(e.record_key, e.reason) for e in reads] == [("PSY-1", "回访前了解上次情况")]
    # Without the key, a note cannot be read and a file with notes is refused, without echoing the note.
    no_key = cli("--db", sqlite_url, "psychology", "note", "PSY-1", "--reason", "x" * 3, env={"FUPIN_PSYCHOLOGY_KEY": ""})
    assert no_key.exit_code == 4 and "FUPIN_PSYCHOLOGY_KEY" in no_key.output  # 4: the environment lacks the key
    other = tmp_path / "more.csv"
    other.write_text(SESSIONS_CSV.replace("PSY-", "NEW-"), encoding="utf-8")
    result = cli("--db", sqlite_url, "import", "psychology.sessions", str(other), "--json", env={"FUPIN_PSYCHOLOGY_KEY": ""})
    assert result.exit_code == 1 and "FUPIN_PSYCHOLOGY_KEY" in result.output
    clean(result.output)


def test_child_without_consent_refused_on_import(cli, sqlite_url, seed, tmp_path, key):
    setup_files(cli, sqlite_url, seed, tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text(SESSIONS_CSV.splitlines()[0] + f"\nPSY-9,2017-04-10,李心怡,个别疏导,{CHILD1},QJNU-PSY,40,,,,,,,qjnu-tuomu,\"{NOTE}\"\n", encoding="utf-8")
    result = cli("--db", sqlite_url, "import", "psychology.sessions", str(bad))
    assert result.exit_code == 1 and "consent" in result.output
    clean(result.output)


def test_roster_names_only_with_psychology_read(cli, sqlite_url, seed, tmp_path):
    setup_files(cli, sqlite_url, seed, tmp_path)
    named = json.loads(cli("--db", sqlite_url, "psychology", "roster", "--group", "空巢老人", "--year", "2017", "--json").output)
    assert named["persons"] == 6 and len(named["roster"]) == 6 and "*" in named["roster"][0]["id_number"]
    assert cli("--db", sqlite_url, "users", "add", "QJNU-PSY:clerk", "--role", "department").exit_code == 0
    counts = cli("--db", sqlite_url, "--as", "QJNU-PSY:clerk", "psychology", "roster", "--group", "留守儿童", "--year", "2017", "--json")
    assert counts.exit_code == 0, counts.output
    assert json.loads(counts.output) == {"group": "留守儿童", "year": 2017, "persons": "<5", "counselled": "0"}
    denied = cli("--db", sqlite_url, "--as", "QJNU-PSY:clerk", "psychology", "note", "PSY-1", "--reason", "看看")
    assert denied.exit_code == 3 and "psychology.read" in denied.output
