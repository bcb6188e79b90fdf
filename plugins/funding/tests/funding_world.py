"""Helpers shared by fupin-funding's tests and their conftest: the university, its approver."""

from __future__ import annotations

from typing import Any

from fupin import Unit
from fupin.ext import User

#: The university's finance head: plan office, so holds funding.approve over its funds.
APPROVER = "QJNU:head"


def add_university(store: Any) -> None:
    """The unit QJNU and its approver (the tests act as the platform administrator TEST:tester)."""
    store.add_unit(Unit.new(code="QJNU", name="曲靖师范学院", kind="university", vocab=store.vocab))
    store.add_user(User("QJNU", "head", ("plan_office",), login=store.session_login()))


# -- issue #14: tenants that cannot reach each other ----------------------------------------

#: Units besides QJNU: two of its departments, another university and one of its departments.
UNITS = (
    ("QJNU-STU", "学生处", "department", "QJNU"),
    ("QJNU-BIO", "生物与资源工程学院", "department", "QJNU"),
    ("YNU", "云南大学", "university", None),
    ("YNU-ART", "艺术学院", "department", "YNU"),
)
#: Users besides TEST:tester (platform administrator) and QJNU:head (plan office).
USERS = (
    ("QJNU:office", "plan_office"),
    ("QJNU-STU:clerk", "department"),
    ("QJNU-BIO:clerk", "department"),
    ("QJNU-BIO:cadre", "cadre"),
    ("QJNU:cadre1", "cadre"),
    ("YNU:office", "plan_office"),
    ("YNU-ART:clerk", "department"),
    ("PROVINCE:auditor", "auditor"),
)
#: The funds: QJNU's foundation (granted to QJNU-BIO, not to QJNU-STU) and YNU's.
QJNU_FUND, YNU_FUND = "QJNU-FDN", "YNU-FDN"


def add_tenants(store: Any) -> None:
    """Two universities in one provincial database, each with a foundation (QJNU's for the plan qjnu-tuomu, YNU's for none).

    QJNU-FDN: 1,000.00 yuan in on 2017-03-01, 900.00 out on 2017-06-01,
    10,000.00 in on 2017-09-01 (so it holds 100.00 yuan from June to
    September, 10,100.00 after); granted to QJNU-BIO from 2017-01-01.
    YNU-FDN: 5,000.00 yuan in on 2017-03-01.
    """
    import datetime as dt

    from fupin_funding import ledger
    from fupin_funding.ledger import Entry, Fund

    with store.transaction():
        for code, name, kind, parent in UNITS:
            store.add_unit(Unit.new(code=code, name=name, kind=kind, parent_code=parent, vocab=store.vocab))
    for key, role in USERS:
        unit, _, login = key.partition(":")
        store.add_user(User(unit, login, (role,), login=store.session_login()))
    ledger.add_fund(store, Fund(QJNU_FUND, "曲靖师范学院扶贫基金会", "foundation", plan_name="qjnu-tuomu", owner_unit="QJNU"))
    ledger.add_fund(store, Fund(YNU_FUND, "云南大学教育基金会", "foundation", owner_unit="YNU"))
    ledger.post_many(store, [
        Entry(voucher="SJ2017-001", entry_date="2017-03-01", flow="donation", fund_code=QJNU_FUND, amount_fen=100_000, donor="校友会", approved_by=APPROVER),
        Entry(voucher="ZC2017-001", entry_date="2017-06-01", flow="spending", fund_code=QJNU_FUND, amount_fen=90_000, purpose="general", approved_by=APPROVER),
        Entry(voucher="SJ2017-002", entry_date="2017-09-01", flow="donation", fund_code=QJNU_FUND, amount_fen=1_000_000, donor="曲靖某企业", approved_by=APPROVER),
        Entry(voucher="YSJ2017-001", entry_date="2017-03-01", flow="donation", fund_code=YNU_FUND, amount_fen=500_000, donor="校友会", approved_by="YNU:office"),
    ])
    ledger.grant(store, QJNU_FUND, "QJNU-BIO", start=dt.date(2017, 1, 1))


def snapshot(store: Any) -> dict[str, Any]:
    """Row counts of every funding table and every fund's balance (read as the administrator)."""
    import sqlalchemy as sa

    from fupin_funding import ledger

    with store.reading() as conn:
        counts = {t: conn.execute(sa.select(sa.func.count()).select_from(store.table(t))).scalar()
                  for t in ("funding_funds", "funding_entries", "funding_lines", "funding_grants")}
        codes = conn.execute(sa.select(store.table("funding_funds").c.code)).scalars().all()
        return {**counts, "balances": ledger.balances(conn, store.metadata, codes)}
