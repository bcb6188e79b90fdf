"""``fupin demo`` records counselling and social work for 2015 to 2019: checks and report show them, with honest
shortfalls, figures that match the stored records, and no note text. One demo run (about 15 s on SQLite)."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from fupin import Actor, Store

from fupin_psychology.simulate import _NOTES


def _psychology(cli, url, year):
    result = cli("--db", url, "check", "--year", str(year), "--json")
    assert result.exit_code in (0, 1), result.output
    for note in _NOTES:
        assert note not in result.output
    assert "gAAAA" not in result.output
    return {r["id"]: r for r in json.loads(result.output) if r["plugin"] == "psychology"}


def test_demo_psychology_stream(cli, sqlite_url, key):
    demo = cli("--db", sqlite_url, "demo")
    assert demo.exit_code == 0, demo.output
    assert "心理疏导与社会工作" in demo.output
    assert not any(note in demo.output for note in _NOTES) and "gAAAA" not in demo.output

    y2017 = _psychology(cli, sqlite_url, 2017)
    assert sorted(y2017) == ["C32", "C33"]
    assert y2017["C32"]["status"] == "met" and y2017["C33"]["status"] == "met"

    # The figures are those of the stored records, counted here independently.
    with Store.open(sqlite_url, actor=Actor.from_env()) as store, store.engine.connect() as conn:
        tagged = {tag: set(ids.split(",")) for tag, ids in conn.execute(sa.text(
            "SELECT t.tag, group_concat(p.id_number) FROM person_tags t JOIN persons p ON p.id = t.person_id "
            "WHERE t.tag IN ('留守儿童', '空巢老人') AND t.start <= '2017-12-31' AND (t.\"end\" IS NULL OR t.\"end\" >= '2017-01-01') "
            "GROUP BY t.tag")).all()}
        seen = set()
        refs = set()
        for ref, persons in conn.execute(sa.text(
                "SELECT ref, persons FROM psychology_sessions WHERE date BETWEEN '2017-01-01' AND '2017-12-31' "
                "AND mode <> '电话' AND duration_min >= 20")).all():
            people = set(json.loads(persons))
            seen |= people
            if people & (tagged["留守儿童"] | tagged["空巢老人"]):
                refs.add(f"psychology_session:{ref}")
        ciphers = conn.execute(sa.text("SELECT count(*) FROM psychology_sessions WHERE note_cipher LIKE 'gAAAA%'")).scalar_one()
        total = conn.execute(sa.text("SELECT count(*) FROM psychology_sessions")).scalar_one()
        phone = conn.execute(sa.text("SELECT count(*) FROM psychology_sessions WHERE mode = '电话'")).scalar_one()  # no note
        assert phone > 0  # recorded, yet not counted by C32
        cases = conn.execute(sa.text(
            "SELECT count(*) FROM psychology_cases WHERE opened <= '2017-12-31' AND (closed IS NULL OR closed >= '2017-01-01') "
                "AND steps LIKE '%\"2017-%'")).scalar_one()
    groups = y2017["C32"]["figures"]["groups"]
    for group in ("留守儿童", "空巢老人"):
        assert groups[group]["persons"] == len(tagged[group]) >= 5
        assert groups[group]["counselled"] == len(tagged[group] & seen)
    assert set(y2017["C32"]["evidence"]) == refs
    assert y2017["C33"]["figures"]["cases"] == cases >= 3
    assert ciphers > 0 and ciphers == total - phone  # every demo note is encrypted with the key in the environment

    # Honest shortfalls: no social-work case in 2015; 2018 too few empty-nest elderly visited.
    assert _psychology(cli, sqlite_url, 2015)["C33"]["status"] == "not_met"
    y2018 = _psychology(cli, sqlite_url, 2018)
    assert y2018["C32"]["status"] == "not_met" and y2018["C32"]["figures"]["short"] == ["空巢老人"]

    for fmt in ("text", "json", "html"):
        report = cli("--db", sqlite_url, "report", "--year", "2018", "--format", fmt)
        assert report.exit_code in (0, 1), report.output
        assert "psychology" in report.output or "心理疏导" in report.output
        assert not any(note in report.output for note in _NOTES) and "gAAAA" not in report.output

    shown = cli("--db", sqlite_url, "psychology", "note", sorted(refs)[0].split(":", 1)[1], "--reason", "演示核对")
    assert shown.exit_code == 0 and any(note in shown.output for note in _NOTES)
    assert dt.date.today().year >= 2020  # the plan's years are all past: shortfalls are final
