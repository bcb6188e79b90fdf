"""One demo run: the funding targets in `fupin check --year 2017` match the recorded entries; honest shortfalls;
no ID number in any voucher, check, report or export of any role."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from fupin import Actor, Store
from fupin.ext import User
from fupin_funding import ledger


@pytest.fixture
def demo_url(cli, sqlite_url):
    """A demo database (SQLite: the demo is slow, and its five years are the same on both backends)."""
    assert cli("--db", sqlite_url, "demo").exit_code == 0
    return sqlite_url


def test_no_id_number_leaks_through_vouchers(demo_url, cli, pm):
    """Issue #14: the demo's vouchers are numbered, and check, report and export show no ID number to any role,
    a user of another province included (the export's ID column masked)."""
    with Store.open(demo_url, pm=pm, actor=Actor.parse("TEST:tester")) as store:
        store.add_user(User("GZ-EDU", "clerk", ("department",), login=store.session_login()))  # another province's department
        with store.reading() as conn:
            vouchers = conn.execute(sa.select(store.table("funding_entries").c.voucher).where(
                store.table("funding_entries").c.flow == "aid")).scalars().all()
            ids = set(conn.execute(sa.select(store.table("persons").c.id_number)).scalars())
    assert vouchers and all(re.fullmatch(r"(ZXJ|CJWW|AXJL)20\d\d-QJNU-\d{6}", v) for v in vouchers)
    for actor in ("TEST:tester", "QJNU:office", "QJNU-STU:clerk", "PROVINCE:auditor", "GZ-EDU:clerk"):
        check = cli("--db", demo_url, "--as", actor, "check", "--year", "2017", "--json")
        data = json.loads(check.output)
        evidence = [k for r in (data if isinstance(data, list) else data["results"]) if r["plugin"] == "funding" for k in r["evidence"]]
        report = json.loads(cli("--db", demo_url, "--as", actor, "report", "--year", "2017", "--format", "json").output)
        funding = [json.dumps(s, ensure_ascii=False) for s in report["sections"] if s.get("id", "").startswith("funding")]
        funding += [k for r in report["commitments"] if r.get("plugin") == "funding" for k in r["evidence"]]
        exported = cli("--db", demo_url, "--as", actor, "export", "funding.disbursements")
        for text in (*evidence, *funding, exported.output):
            # Household numbers are 18 digits too, and public: look for the persons' ID numbers.
            assert not ids & set(re.findall(r"\d{17}[\dX]|\d{15}", text)), (actor, text[:200])
        assert not any(re.search(r"\d{15,}", k) for k in evidence)
        # The provincial auditor reaches every fund; the other province's department none.
        if actor == "GZ-EDU:clerk":
            entries = [k for k in evidence if k.startswith("funding_entry:")]
            assert exported.output.count("\n") == 1 and entries and all("outside your scope" in k for k in entries)
        if actor == "PROVINCE:auditor":
            assert exported.output.count("\n") > 100 and not any("outside your scope" in k for k in evidence)


def test_demo_check_2017_matches_the_ledger(cli, demo_url, pm):
    sqlite_url = demo_url
    result = cli("--db", sqlite_url, "check", "--year", "2017", "--json")
    data = json.loads(result.output)
    rows = data if isinstance(data, list) else data["results"]
    found = {r["id"]: r for r in rows if r["plugin"] == "funding"}
    assert {"C02", "C28", "C29", "C30", "C31"} <= set(found)
    with Store.open(sqlite_url, pm=pm, actor=Actor.from_env()) as store, store.reading() as conn:
        e, f = store.table("funding_entries"), store.table("funding_funds")
        budget = conn.execute(sa.select(sa.func.sum(e.c.amount_fen)).join(f, f.c.code == e.c.fund_code)
                              .where(e.c.flow == "appropriation", f.c.year == 2017)).scalar()
        study = conn.execute(sa.select(sa.func.count()).where(e.c.programme == "study_aid", e.c.aid_year == 2017)).scalar()
        codes = list(conn.execute(sa.select(f.c.code)).scalars())
        assert ledger.unbalanced_entries(conn, store.metadata, codes) == []
        totals = ledger.entry_totals(conn, store.metadata, codes)
        assert ledger.balances(conn, store.metadata, codes) == {k: totals.get(k, 0) for k in codes}
    assert found["C02"]["figures"]["budget_fen"] == budget
    assert found["C29"]["figures"]["paid_on_time"] == study == found["C29"]["figures"]["eligible"]
    assert all(found[c]["status"] == "met" for c in ("C02", "C28", "C29", "C30", "C31"))
    shortfalls = {y: {r["id"]: r["status"] for r in json.loads(cli("--db", sqlite_url, "check", "--year", str(y), "--json").output)
                      if r["plugin"] == "funding"} for y in (2016, 2018, 2019)} if isinstance(data, list) else None
    if shortfalls:
        assert shortfalls[2016]["C02"] == "not_met" and shortfalls[2018]["C29"] == "not_met" and shortfalls[2019]["C30"] == "not_met"
