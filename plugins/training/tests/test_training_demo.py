"""`fupin demo` with the plugin: plausible activity 2015–2019, checked and reported, with honest shortfalls."""

from __future__ import annotations

import json


def test_demo_records_the_stream(cli, sqlite_url):
    """One demo run: C17/C20/C21/C22 checked by the plugin, the 2017 livestock gap and the 2019 skills gap shown."""
    demo = cli("--db", sqlite_url, "demo")
    assert demo.exit_code == 0, demo.output
    assert "农业技术培训、实用技术与党员干部培训" in demo.output

    def check(year):
        result = cli("--db", sqlite_url, "check", "--year", str(year), "--json")
        assert result.exit_code in (0, 1), result.output
        return {r["id"]: r for r in json.loads(result.output)}

    y2017 = check(2017)
    for cid in ("C17", "C20", "C21", "C22"):
        assert y2017[cid]["plugin"] == "training" and y2017[cid]["status"] != "no_data", y2017[cid]
    assert y2017["C17"]["status"] == "met" and y2017["C22"]["status"] == "met"
    assert y2017["C20"]["status"] == "not_met" and y2017["C20"]["figures"]["short_areas"] == ["livestock"]
    assert y2017["C21"]["status"] == "not_due" and y2017["C21"]["evidence"]
    assert check(2018)["C20"]["status"] == "met"

    y2019 = check(2019)
    skills = y2019["C21"]
    assert skills["status"] == "not_met"
    f = skills["figures"]
    assert 0.75 < f["share_min"] < 1 and 0 < f["with_max"] < f["with_min"] < f["households"]

    gaps = json.loads(cli("--db", sqlite_url, "training", "gaps", "--year", "2019", "--json").output)
    assert gaps["without"] == f["without"] == len(gaps["gaps"])
    assert all(g["sessions"] for g in gaps["gaps"])

    report = json.loads(cli("--db", sqlite_url, "report", "--year", "2017", "--format", "json").output)
    section = next(s for s in report["sections"] if s["key"] == "training.courses")
    assert any("畜牧养殖" in s for s in section["shortfalls"])
