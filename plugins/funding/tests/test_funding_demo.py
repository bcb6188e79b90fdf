"""One demo run: the funding targets in `fupin check --year 2017` match the recorded entries; honest shortfalls."""

from __future__ import annotations

import json

import sqlalchemy as sa

from fupin import Store
from fupin_funding import ledger


def test_demo_check_2017_matches_the_ledger(cli, sqlite_url, pm):
    assert cli("--db", sqlite_url, "demo").exit_code == 0
    result = cli("--db", sqlite_url, "check", "--year", "2017", "--json")
    data = json.loads(result.output)
    rows = data if isinstance(data, list) else data["results"]
    found = {r["id"]: r for r in rows if r["plugin"] == "funding"}
    assert {"C02", "C28", "C29", "C30", "C31"} <= set(found)
    with Store.open(sqlite_url, pm=pm) as store, store.reading() as conn:
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
