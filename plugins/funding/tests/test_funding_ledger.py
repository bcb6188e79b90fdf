"""The ledger: balanced entries, refused overspending and restricted misuse, balances = sum of entries."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fupin import Actor, ValidationError
from fupin_funding import ledger
from fupin_funding.ledger import Entry, Fund
from funding_world import APPROVER, add_university


def snapshot(store):
    with store.reading() as conn:
        return {t: conn.execute(sa.select(sa.func.count()).select_from(store.table(t))).scalar() for t in ("funding_entries", "funding_lines")}


def entry(voucher, flow, fund, fen, day="2017-03-01", **kw):
    kw.setdefault("approved_by", APPROVER)
    return Entry(voucher=voucher, entry_date=day, flow=flow, fund_code=fund, amount_fen=fen, **kw)


@pytest.fixture
def funds(store):
    add_university(store)
    ledger.add_fund(store, Fund("B2017", "2017 年专项经费", "budget", year=2017, owner_unit="QJNU"))
    ledger.add_fund(store, Fund("FDN", "基金会", "foundation", owner_unit="QJNU"))
    ledger.add_fund(store, Fund("FDN-ZX", "助学限定", "restricted", purpose="study_aid", owner_unit="QJNU"))
    return store


def test_migrations_build_the_declared_tables(store):
    """After init, the database matches the plugin's Table objects too (no autogenerate diff)."""
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), store.metadata)
    assert diff == []


def test_balanced_lines_and_balance(funds):
    store = funds
    ledger.post(store, entry("V1", "appropriation", "B2017", 40_000_000))
    ledger.post(store, entry("V2", "spending", "B2017", 1_000_000, purpose="infrastructure"))
    with store.reading() as conn:
        assert ledger.balances(conn, store.metadata, ["B2017"])["B2017"] == 39_000_000
        assert ledger.entry_totals(conn, store.metadata, ["B2017"])["B2017"] == 39_000_000
        assert ledger.unbalanced_entries(conn, store.metadata, ["B2017"]) == []
    assert any(a.record_key == "V1" for a in store.audit_entries(table="funding_entries"))


def test_overspend_is_refused_and_ledger_unchanged(funds):
    store = funds
    ledger.post(store, entry("V1", "appropriation", "B2017", 100_000))
    before = snapshot(store)
    with pytest.raises(ValidationError, match="余额不足 / overspend refused: B2017 holds 1,000.00 yuan on 2017-03-01"):
        ledger.post(store, entry("V2", "spending", "B2017", 100_001, purpose="general"))
    assert snapshot(store) == before


def test_restricted_money_only_on_its_purpose(funds):
    store = funds
    ledger.post(store, entry("SJ1", "donation", "FDN-ZX", 500_000, donor="校友会", purpose="study_aid"))
    before = snapshot(store)
    with pytest.raises(ValidationError, match="restricted money of FDN-ZX may be spent only on study_aid"):
        ledger.post(store, entry("V2", "spending", "FDN-ZX", 1_000, purpose="infrastructure"))
    assert snapshot(store) == before


def test_entry_rules():
    with pytest.raises(ValidationError, match="integer fen"):
        entry("V", "appropriation", "B", 10.5)
    with pytest.raises(ValidationError, match="positive"):
        entry("V", "appropriation", "B", 0)
    with pytest.raises(ValidationError, match="cannot approve"):
        entry("V", "appropriation", "B", 1, entered_by=APPROVER)
    with pytest.raises(ValidationError, match="voucher"):
        entry("", "appropriation", "B", 1)
    with pytest.raises(ValidationError, match="person paid"):
        entry("V", "aid", "B", 1, programme="study_aid")


def test_wrong_fund_kinds_and_duplicate_voucher(funds):
    store = funds
    with pytest.raises(ValidationError, match="budget fund"):
        ledger.post(store, entry("V1", "appropriation", "FDN", 1))
    with pytest.raises(ValidationError, match="restricted fund of its purpose"):
        ledger.post(store, entry("V1", "donation", "FDN", 1, donor="x", purpose="study_aid"))
    ledger.post(store, entry("V1", "donation", "FDN", 1, donor="x"))
    with pytest.raises(ValidationError, match="already used"):
        ledger.post(store, entry("V1", "donation", "FDN", 1, donor="x"))


OPS = st.lists(
    st.tuples(st.sampled_from(["appropriation", "donation", "spending", "restricted_in", "restricted_out", "misuse"]),
              st.integers(min_value=1, max_value=5_000_000)),
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_balances_equal_sum_of_entries_after_any_operations(sqlite_store, ops):
    """Property: whatever is attempted, balances = sum of accepted entries, never negative, every entry balanced."""
    store = sqlite_store
    n = store.count("funding_funds")
    b, f, r = f"B{n}", f"F{n}", f"R{n}"
    ledger.add_fund(store, Fund(b, "预算", "budget", year=2017, owner_unit="QJNU"))
    ledger.add_fund(store, Fund(f, "基金会", "foundation", owner_unit="QJNU"))
    ledger.add_fund(store, Fund(r, "限定", "restricted", purpose="study_aid", owner_unit="QJNU"))
    expected = {b: 0, f: 0, r: 0}
    for i, (op, fen) in enumerate(ops):
        v = f"{b}-{i}"
        e, fund, delta = {
            "appropriation": (entry(v, "appropriation", b, fen), b, fen),
            "donation": (entry(v, "donation", f, fen, donor="d"), f, fen),
            "spending": (entry(v, "spending", b, fen, purpose="general"), b, -fen),
            "restricted_in": (entry(v, "donation", r, fen, donor="d", purpose="study_aid"), r, fen),
            "restricted_out": (entry(v, "spending", r, fen, purpose="study_aid"), r, -fen),
            "misuse": (entry(v, "spending", r, fen, purpose="general"), r, None),
        }[op]
        try:
            ledger.post(store, e)
        except ValidationError:
            assert delta is None or expected[fund] + delta < 0
        else:
            assert delta is not None and expected[fund] + delta >= 0
            expected[fund] += delta
    with store.reading() as conn:
        balance = ledger.balances(conn, store.metadata, [b, f, r])
        totals = ledger.entry_totals(conn, store.metadata, [b, f, r])
        assert ledger.unbalanced_entries(conn, store.metadata, [b, f, r]) == []
    assert balance == expected
    assert all(totals.get(k, 0) == v for k, v in expected.items())
    assert min(balance.values()) >= 0


DATED = st.lists(st.tuples(st.booleans(), st.integers(min_value=1, max_value=28), st.integers(min_value=1, max_value=3_000)), max_size=25)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=DATED)
def test_a_row_is_refused_exactly_when_some_later_day_would_go_negative(sqlite_store, ops):
    """Property: in a batch of dated rows, each is accepted iff, with the stored entries and the rows accepted
    before it, no day's balance goes below zero (the running sums and segment tree against brute force)."""
    store = sqlite_store
    code = f"F{store.count('funding_funds')}"
    ledger.add_fund(store, Fund(code, "基金会", "foundation", owner_unit="QJNU"))
    stored = [(dt.date(2017, 3, 5), 1_000), (dt.date(2017, 3, 20), 2_000), (dt.date(2017, 3, 25), -1_500)]
    for n, (day, fen) in enumerate(stored):
        flow = dict(flow="donation", donor="d") if fen > 0 else dict(flow="spending", purpose="general")
        ledger.post(store, entry(f"{code}-S{n}", fund=code, fen=abs(fen), day=day, **flow))
    rows = []
    for i, (inflow, day, fen) in enumerate(ops):
        flow = dict(flow="donation", donor="d") if inflow else dict(flow="spending", purpose="general")
        rows.append((i, entry(f"{code}-{i}", fund=code, fen=fen, day=dt.date(2017, 3, day), **flow)))
    with store.transaction() as conn:
        problems, denied = ledger.check_entries(store, conn, rows)
    moves, refused = list(stored), set()
    for i, e in rows:
        trial = moves + [(e.entry_date, e.amount_fen if e.inflow else -e.amount_fen)]
        days = sorted({d for d, _ in trial})
        if e.inflow or all(sum(f for d, f in trial if d <= day) >= 0 for day in days):
            moves = trial
        else:
            refused.add(i)
    assert set(problems) == refused and not denied
    assert all("overspend refused" in p.reason for ps in problems.values() for p in ps)


@pytest.fixture
def sqlite_store(sqlite_url, pm):
    from fupin import Store

    with Store.open(sqlite_url, pm=pm, actor=Actor.from_env()) as store:
        store.init()
        add_university(store)
        yield store
