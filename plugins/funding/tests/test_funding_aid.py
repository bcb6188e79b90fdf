"""Recurring aid: eligibility, the list to sign, the signed list imported back, who is missing, the C29 check."""

from __future__ import annotations

import datetime as dt
import json

from openpyxl import load_workbook

from fupin import Person, Tag, check_plan
from fupin.ext import make_id_number
from fupin_funding import aid, ledger
from fupin_funding.ledger import Entry, Fund
from funding_world import APPROVER


def _fund(store):
    ledger.add_fund(store, Fund("B2017", "2017 年专项经费", "budget", year=2017, plan_name="qjnu-tuomu", owner_unit="QJNU"))
    ledger.post(store, Entry(voucher="YS2017", entry_date="2017-01-05", flow="appropriation", fund_code="B2017",
                             amount_fen=40_000_000, approved_by=APPROVER))


def test_missing_lists_exactly_the_eligible_students_without_disbursement(village, cli, database_url):
    store = village.store
    _fund(store)
    keys = [r["key"] for r in aid.missing(store, village.plan, "study_aid", 2017)]
    # the pupil and the student tagged 在校生 of the poor household; not the 学前教育 child, not the exited household's pupil
    assert sorted(keys) == sorted([village.student_a, village.student_b])
    ledger.post(store, Entry(voucher="ZXJ2017-A", entry_date="2017-08-20", flow="aid", fund_code="B2017", amount_fen=50_000,
                             approved_by=APPROVER, programme="study_aid", aid_year=2017, person=village.student_a))
    result = cli("--db", database_url, "funding", "missing", "--programme", "study_aid", "--year", "2017", "--json", "--unmasked")
    assert result.exit_code == 0, result.output
    assert [r["key"] for r in json.loads(result.output)] == [village.student_b]
    # Without --unmasked the ID number is masked, as in every display.
    masked = json.loads(cli("--db", database_url, "funding", "missing", "--programme", "study_aid", "--year", "2017", "--json").output)
    assert [r["key"] for r in masked] == [village.student_b[:6] + "*" * 12]
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
        row[headers.index("审批人")].value = APPROVER
        row[headers.index("领款人签字")].value = "已签"
    wb.save(out)
    result = cli("--db", database_url, "import", "funding.disbursements", str(out))
    assert result.exit_code == 0, result.output
    assert aid.missing(store, village.plan, "study_aid", 2017) == []
    again = cli("--db", database_url, "import", "funding.disbursements", str(out))
    assert again.exit_code == 0, again.output
    with store.reading() as conn:
        assert ledger.balances(conn, store.metadata, ["B2017"])["B2017"] == 40_000_000 - 2 * 50_000
        assert ledger.unbalanced_entries(conn, store.metadata, ["B2017"]) == []
    c29 = next(r for r in check_plan(store, village.plan, 2017, as_of=dt.date(2018, 1, 1)) if r.commitment == "C29")
    assert c29.status.value == "met" and c29.figures["paid_on_time"] == 2


def test_import_refuses_an_overspending_file_whole(village, cli, database_url, tmp_path):
    store = village.store
    ledger.add_fund(store, Fund("FDN", "基金会", "foundation", owner_unit="QJNU"))
    ledger.post(store, Entry(voucher="SJ1", entry_date="2017-01-05", flow="donation", fund_code="FDN", amount_fen=60_000,
                             approved_by=APPROVER, donor="校友会"))
    f = tmp_path / "d.csv"
    f.write_text("凭证号,资助项目,年度,身份证号,金额,发放日期,资金账户,审批人,领款人签字\n"
                 f"V1,study_aid,2017,{village.student_a},500,2017-08-01,FDN,{APPROVER},签\n"
                 f"V2,study_aid,2017,{village.student_b},500,2017-08-01,FDN,{APPROVER},签\n", encoding="utf-8")
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


def _from_the_lists(store, plan, programme, year):
    """C29 to C31's figures the long way: the list of the eligible against the payments, compared in Python."""
    day = aid.due_day(plan, programme, year)
    with store.reading() as conn:
        owed = {r["key"] for r in aid.eligible(conn, store, plan, programme, year)}
        done = aid.paid(conn, store, programme, year)
    on_time = {k: [p for p in done.get(k, []) if p.entry_date <= day] for k in owed}
    on_time = {k: ps for k, ps in on_time.items() if ps}
    late = {k for k in owed if k in done and k not in on_time}
    figures = {"eligible": len(owed), "paid_on_time": len(on_time), "paid_late": len(late), "missing": len(owed - set(done)),
               "amount_fen": sum(p.amount_fen for ps in on_time.values() for p in ps)}
    return figures, {f"funding_entry:{p.voucher}" for ps in on_time.values() for p in ps}, len(set(done) - owed)


def test_recurring_targets_count_in_the_database_what_the_lists_give(village):
    """C29 to C31 counted in SQL agree with the eligible list against the payments: twice on time, late, not eligible, two elders."""
    store = village.store
    _fund(store)
    elders_home, family = "53032610620001" + "0004", "53032610620001" + "0005"
    second_elder = make_id_number("530326", dt.date(1938, 3, 1), 42, "女")
    store.add_person(Person.new(vocab=store.vocab, id_number=second_elder, household=elders_home, name="成员4-2", relation="配偶",
                                student_status="非在校生"))
    store.add_tag(Tag(second_elder, "孤寡老人", dt.date(2014, 10, 1)))
    for elder in (village.elder, second_elder):
        ledger.add_foster_home(store, elder, family, dt.date(2015, 12, 1))

    def pay(voucher, day, programme, **who):
        ledger.post(store, Entry(voucher=voucher, entry_date=day, flow="aid", fund_code="B2017", amount_fen=50_000,
                                 approved_by=APPROVER, programme=programme, aid_year=2017, **who))

    pay("ZXJ-A1", "2017-08-20", "study_aid", person=village.student_a)
    pay("ZXJ-A2", "2017-08-31", "study_aid", person=village.student_a)  # a second payment on the due day: on time, counted
    pay("ZXJ-B", "2017-09-05", "study_aid", person=village.student_b)  # late
    pay("ZXJ-X", "2017-08-01", "study_aid", person=village.pupil_exited)  # the household no longer enjoys the policies
    pay("CJ-E", "2017-01-20", "festival_support", person=village.elder)
    pay("AX-5", "2017-02-10", "foster_reward", household=family)  # after the day before the festival: late

    results = {r.target: r for r in check_plan(store, village.plan, 2017, as_of=dt.date(2018, 1, 1))}
    for programme, target in aid.TARGETS.items():
        figures, evidence, strangers = _from_the_lists(store, village.plan, programme, 2017)
        result = results[target]
        assert {k: result.figures[k] for k in figures} == figures, programme
        assert set(result.evidence) == evidence, programme
        assert ("不符合条件者" in result.note) == bool(strangers), programme
    c29 = results["funding.study_aid"]
    assert (c29.figures["eligible"], c29.figures["paid_on_time"], c29.figures["paid_late"], c29.figures["missing"]) == (2, 1, 1, 0)
    assert c29.figures["amount_fen"] == 100_000 and set(c29.evidence) == {"funding_entry:ZXJ-A1", "funding_entry:ZXJ-A2"}
    assert c29.note.startswith("1 人逾期发放") and "1 笔发给不符合条件者" in c29.note
    c31 = results["funding.foster_family_reward"]
    assert (c31.figures["eligible"], c31.figures["paid_late"], c31.evidence) == (1, 1, ())
    c30 = results["funding.festival_visits"]
    assert (c30.figures["eligible"], c30.figures["paid_on_time"], c30.figures["missing"], c30.evidence) == (2, 1, 1, ("funding_entry:CJ-E",))
