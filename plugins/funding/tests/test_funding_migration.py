"""Migration funding_0002 on a database made by funding_0001: owners, grants, vouchers without ID numbers."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from fupin import Actor, Store, Unit, load_plan
from fupin.ext import make_id_number
from fupin.storage import migrate

ID1 = make_id_number("530326", dt.date(2005, 3, 1), 11, "男")
ID2 = make_id_number("530326", dt.date(2004, 7, 9), 12, "女")


def test_upgrade_attributes_funds_and_renumbers_vouchers(database_url, pm):
    """Funds get the plan's helping unit; generated vouchers become ZXJ2017-QJNU-NNNNNN after those used, others lose the digits; all audited."""
    with Store.open(database_url, pm=pm, actor=Actor.parse("QJNU:admin")) as store:
        for revision in ("core@head", "funding_0001"):  # the core as it is now, the plugin as it was
            migrate.upgrade(store.engine, store.hooks.migrations(), revision)
        with store.engine.begin() as conn:  # the administrator, as init makes the first actor
            conn.execute(sa.text("""INSERT INTO users (unit, "user", roles) VALUES ('QJNU', 'admin', '["platform_admin"]')"""))
        store.add_unit(Unit.new(code="QJNU", name="曲靖师范学院", kind="university", vocab=store.vocab))
        store.save_plan(load_plan("qjnu-tuomu"))
        with store.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO funding_funds (code, name, kind, plan_name) VALUES "
                                 "('FDN', '基金会', 'foundation', 'qjnu-tuomu'), ('B2017', '预算', 'budget', NULL)"))
            conn.execute(sa.text("UPDATE funding_funds SET year = 2017 WHERE code = 'B2017'"))
            for n, (voucher, fund) in enumerate([
                ("SJ2017-1", "FDN"), (f"ZXJ2017-{ID1}", "FDN"), ("ZXJ2017-QJNU-000003", "FDN"), (f"ZXJ2017-{ID2}", "B2017"),
                (f"V-{ID1}-A", "FDN"), (f"CJWW2017-{ID2}", "FDN"),
            ], start=1):
                conn.execute(sa.text(
                    "INSERT INTO funding_entries (id, voucher, entry_date, flow, fund_code, amount_fen, description, entered_by, approved_by) "
                    "VALUES (:id, :voucher, :day, 'donation', :fund, 100, '', 'a', 'b')"), {"id": n, "voucher": voucher, "fund": fund, "day": dt.date(2017, 3, n)})
        store.init()
        with store.reading() as conn:
            owners = dict(conn.execute(sa.text("SELECT code, owner_unit FROM funding_funds")).all())
            vouchers = dict(conn.execute(sa.text("SELECT id, voucher FROM funding_entries")).all())
            grants = conn.execute(sa.text("SELECT count(*) FROM funding_grants")).scalar()
            from fupin import audit as chain

            assert chain.verify(conn).ok  # the migration's entries joined the chain
        audit = [(e.record_key, e.old["voucher"], e.user) for e in store.audit_entries(table="funding_entries")]
    # The plan's fund and the one of no plan (there is one plan): both QJNU's.
    assert owners == {"FDN": "QJNU", "B2017": "QJNU"}
    assert grants == 0
    assert vouchers == {
        1: "SJ2017-1", 2: "ZXJ2017-QJNU-000004", 3: "ZXJ2017-QJNU-000003", 4: "ZXJ2017-QJNU-000005",
        5: "V-#5-A", 6: "CJWW2017-QJNU-000001",
    }
    assert not any(re.search(r"\d{15,}", v) for v in vouchers.values())
    assert audit == [
        ("ZXJ2017-QJNU-000004", f"ZXJ2017-{ID1}", "migration funding_0002"), ("ZXJ2017-QJNU-000005", f"ZXJ2017-{ID2}", "migration funding_0002"),
        ("V-#5-A", f"V-{ID1}-A", "migration funding_0002"), ("CJWW2017-QJNU-000001", f"CJWW2017-{ID2}", "migration funding_0002"),
    ]
