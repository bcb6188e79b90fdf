"""Recurring aid: eligibility, the list to sign, the signed list imported back, who is missing, the C29 check."""

from __future__ import annotations

import datetime as dt
import json

from openpyxl import load_workbook

from fupin import check_plan
from fupin_funding import aid, ledger
from fupin_funding.ledger import Entry, Fund



def _fund(store):
    ledger.add_fund(store, Fund("B2017", "2017 年专项经费", "budget", year=2017))
    ledger.post(store, Entry(voucher="YS2017", entry_date="2017-01-05", flow="appropriation", fund_code="B2017",
                             amount_fen=40_000_000, approved_by="处长"))


def test_missing_lists_exactly_the_eligible_students_without_disbursement(village, cli, database_url):
    store = village.store
    _fund(store)
    keys = [r["key"] for r in aid.missing(store, village.plan, "study_aid", 2017)]
    # the pupil and the student tagged 在校生 of the poor household; not the 学前教育 child, not the exited household's pupil
    assert sorted(keys) == sorted([village.student_a, village.student_b])
    ledger.post(store, Entry(voucher="ZXJ2017-A", entry_date="2017-08-20", flow="aid", fund_code="B2017", amount_fen=50_000,
                             approved_by="处长", programme="study_aid", aid_year=2017, person=village.student_a))
    result = cli("--db", database_url, "funding", "missing", "--programme", "study_aid", "--year", "2017", "--json", "--unmasked")
    assert result.exit_code == 0, result.output
    assert [r["key"] for r in json.loads(result.output)] == [village.student_b]
    # Without --unmasked the ID number is masked, as in every display.
    masked = json.loads(cli("--db", database_url, "funding", "missing", "--programme", "study_aid", "--year", "2017", "--json").output)
    assert [r["key"] for r in masked] == [village.student_b[:6] + "*" * 8 + village.student_b[-4:]]
    c29 = next(r for r in check_plan(store, village.plan, 2017, as_of=dt.date(2018, 1, 1)) if r.commitment == "C29")
    assert c29.status.value == "not_met" and c29.figures["eligible"] == 2 and c29.figures["paid_on_time"] == 1
    assert c29.evidence == ("funding_entry:ZXJ2017-A",)


def test_aid_list_signed_and_imported_back(village, cli, database_url, tmp_path):
    store = village.store
    _fund(store)
    out = tmp_path / "list.xlsx"
    result = cli("--db", database_url, "funding", "aid-list", "--programme", "study_aid", "--year", "2017", "--fund", "B2017", "-o", str(out))
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    ws = wb.active
    header_row = next(i for i, row in enumerate(ws.iter_rows(values_only=True), start=1) if row[0] == "凭证号")
    headers = [c.value for c in ws[header_row]]
    for row in ws.iter_rows(min_row=header_row + 1):
        row[headers.index("发放日期")].value = "2017-08-25"
        row[headers.index("审批人")].value = "处长"
        row[headers.index("领款人签字")].value = "已签"
    wb.save(out)
    result = cli("--db", database_url, "import", "funding.disbursements", str(out))
    assert result.exit_code == 0, result.output
    assert aid.missing(store, village.plan, "study_aid", 2017) == []
    again = cli("--db", database_url, "import", "funding.disbursements", str(out))
    assert again.exit_code == 0, again.output
    with store.reading() as conn:
        assert ledger.balances(conn, store.metadata)["B2017"] == 40_000_000 - 2 * 50_000
        assert ledger.unbalanced_entries(conn, store.metadata) == []
    c29 = next(r for r in check_plan(store, village.plan, 2017, as_of=dt.date(2018, 1, 1)) if r.commitment == "C29")
    assert c29.status.value == "met" and c29.figures["paid_on_time"] == 2


def test_import_refuses_an_overspending_file_whole(village, cli, database_url, tmp_path):
    store = village.store
    ledger.add_fund(store, Fund("FDN", "基金会", "foundation"))
    ledger.post(store, Entry(voucher="SJ1", entry_date="2017-01-05", flow="donation", fund_code="FDN", amount_fen=60_000,
                             approved_by="处长", donor="校友会"))
    f = tmp_path / "d.csv"
    f.write_text("凭证号,资助项目,年度,身份证号,金额,发放日期,资金账户,审批人,领款人签字\n"
                 f"V1,study_aid,2017,{village.student_a},500,2017-08-01,FDN,处长,签\n"
                 f"V2,study_aid,2017,{village.student_b},500,2017-08-01,FDN,处长,签\n", encoding="utf-8")
    result = cli("--db", database_url, "import", "funding.disbursements", str(f))
    assert result.exit_code != 0
    assert "overspend refused" in result.output
    assert store.count("funding_entries") == 1 and store.count("funding_lines") == 2


def test_festival_support_and_foster_reward(village):
    store = village.store
    ledger.add_foster_home(store, village.elder, "53032610620001" + "0005", dt.date(2015, 12, 1))
    assert [r["key"] for r in aid.missing(store, village.plan, "festival_support", 2017)] == [village.elder]
    assert [r["key"] for r in aid.missing(store, village.plan, "foster_reward", 2017)] == ["530326106200010005"]
    assert aid.due_day(village.plan, "festival_support", 2017) == dt.date(2017, 1, 27)
