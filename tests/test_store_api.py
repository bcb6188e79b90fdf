"""The platform API on Store, as an embedding platform calls it (SQLite and PostgreSQL).

The demo register (428 households of Tuomu) with its users: the plan office
(``QJNU:office``, every household, unmasked exports), a department without
registry access (``QJNU-STU:clerk``), the town's area user (``ZHZ-GOV:clerk``)
and a user of another town added here (``DJ-GOV:clerk``), who reaches none of them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest

import fupin
from fupin import AccessDenied, Actor, FileTooLarge, NotFound, Page, ReadLimits, Store, ValidationError
from fupin.plans import load_plan

H1 = "530326106200010001"
OFFICE, STU, TOWN, OTHER_TOWN = "QJNU:office", "QJNU-STU:clerk", "ZHZ-GOV:clerk", "DJ-GOV:clerk"
SECOND_PLAN = Path(__file__).resolve().parents[1] / "examples" / "plans" / "ddac-xinzhai.toml"
HEADER = "户编号,村民小组代码,户主姓名,贫困户属性,主要致贫原因\r\n"


@pytest.fixture
def demo(database_url, cli, pm):
    """The demo register, a user of another town, and a store acting as the plan office."""
    assert cli("--db", database_url, "demo", "--register-only").exit_code == 0
    assert cli("--db", database_url, "users", "add", OTHER_TOWN, "--role", "area_user", "--area", "530326107").exit_code == 0
    with Store.open(database_url, pm=pm, actor=Actor.parse(OFFICE)) as store:
        yield store


def as_(store, actor):
    return store.acting_as(Actor.parse(actor))


def full_ids(store, number):
    return [m.id_number for m in store.household_card(number, unmasked=True).members]


class TestSearch:
    def test_by_name_pinyin_and_initials(self, demo):
        """A name, its full pinyin (with or without a space, the last syllable cut short) and its initials find the person."""
        person = demo.household_card(H1, unmasked=True).members[0]
        from pypinyin import lazy_pinyin

        syllables = lazy_pinyin(person.name)
        for query in (person.name, person.name[1:], "".join(syllables), " ".join(syllables), "".join(syllables)[:-1],
                      "".join(s[0] for s in syllables)):
            found = demo.search_people(query, per_page=200)
            assert person.name in {h.name for h in found.items}, query
            assert found.total >= 1
        households = demo.search_households("".join(syllables), per_page=200)
        assert H1 in {h.number for h in households.items}

    def test_by_id_number_full_and_last_digits(self, demo):
        """A full ID number finds its person; its last 4 to 6 digits need export.unmasked (they are what masking hides)."""
        number = full_ids(demo, H1)[0]
        hit = demo.search_people(number)
        assert hit.total == 1 and hit.items[0].household == H1
        assert hit.items[0].id_number == number[:6] + "*" * 12
        assert number[-4:] in {n[-4:] for n in full_ids(demo, H1)}
        assert H1 in {h.household for h in demo.search_people(number[-6:]).items}
        assert demo.search_households(number).items[0].number == H1
        assert demo.search_households(H1).items[0].number == H1
        with pytest.raises(AccessDenied, match="export.unmasked"):
            as_(demo, TOWN).search_people(number[-4:])
        assert as_(demo, TOWN).search_people(number).total == 1

    def test_pages(self, demo):
        """Pages do not overlap, keep the total, and bad paging is refused naming the field."""
        first, second = demo.search_people("张", per_page=5), demo.search_people("张", page=2, per_page=5)
        assert isinstance(first, Page) and first.total == second.total > 10
        assert len(first.items) == 5 and not {h.id_number + h.name for h in first.items} & {h.id_number + h.name for h in second.items}
        assert first.pages == -(-first.total // 5)
        json.dumps(first.to_dict(), ensure_ascii=False)
        for kwargs, field in (({"page": 0}, "page"), ({"per_page": 201}, "per_page"), ({"per_page": 0}, "per_page")):
            with pytest.raises(ValidationError, match=field):
                demo.search_people("张", **kwargs)
        with pytest.raises(ValidationError, match="query"):
            demo.search_people("  ")
        with pytest.raises(ValidationError, match="query"):
            demo.search_people("1234567")

    def test_scope(self, demo):
        """A user of another town finds nobody of Tuomu; a department without registry access may not search."""
        assert demo.search_people("张").total > 0
        assert as_(demo, OTHER_TOWN).search_people("张").total == 0
        assert as_(demo, OTHER_TOWN).search_households("张").total == 0
        assert as_(demo, OTHER_TOWN).search_people(full_ids(demo, H1)[0]).total == 0
        with pytest.raises(AccessDenied, match="registry.read"):
            as_(demo, STU).search_people("张")
        assert as_(demo, TOWN).search_people("张").total == demo.search_people("张").total


class TestHouseholdCard:
    def test_masked_by_default(self, demo):
        """Neither the ID numbers nor the phone nor the bank account appear in full in the masked card's JSON."""
        demo.update_household(H1, {"phone": "13912345678", "bank_account": "6228480012345678901"})
        card = demo.household_card(H1)
        assert card.masked
        text = json.dumps(card.to_dict(), ensure_ascii=False)
        for number in full_ids(demo, H1):
            assert number not in text and number[6:] not in text
            assert number[:6] in text
        assert "13912345678" not in text and "12345678" not in text and "139****5678" in text
        assert "6228480012345678901" not in text and "0012345678" not in text and "622848*********8901" in text

    def test_unmasked_needs_the_permission_and_is_audited(self, demo):
        """unmasked=True needs export.unmasked and leaves a read_unmasked entry; a town user is refused."""
        with pytest.raises(AccessDenied, match="export.unmasked"):
            as_(demo, TOWN).household_card(H1, unmasked=True)
        assert as_(demo, TOWN).household_card(H1).household.number == H1
        card = demo.household_card(H1, unmasked=True)
        assert not card.masked and all(re.fullmatch(r"\d{17}[\dX]", m.id_number) for m in card.members)
        entry = demo.acting_as(Actor.parse("TEST:tester")).audit_entries(table="households", key=H1, operation="read_unmasked")[-1]
        assert (entry.unit, entry.user) == ("QJNU", "office")

    def test_scope_and_unknown(self, demo):
        """Another town's user is refused the card; an unknown number is NotFound."""
        with pytest.raises(AccessDenied, match="registry.read"):
            as_(demo, OTHER_TOWN).household_card(H1)
        with pytest.raises(NotFound):
            demo.household_card("530326106299999999")


class TestImportAndExport:
    def test_stream_import_names_the_upload(self, demo):
        """A stream is imported under its name: the rows land, and a refused row's error names the upload."""
        good = (HEADER + "530326106200049901,53032610620004,新户甲,一般贫困户,因病\r\n").encode("utf-8-sig")
        result = demo.import_file("households", io.BytesIO(good), name="uploads/新户.csv")
        assert result.committed and result.inserted == 1 and result.files[0].file == "新户.csv"
        assert demo.household_card("530326106200049901").household.head_name == "新户甲"
        bad = (HEADER + "530326106200049902,53032610620004,新户乙,不是属性,因病\r\n").encode("utf-8-sig")
        refused = demo.import_file("households", io.BytesIO(bad), name="乡镇上报.csv")
        assert not refused.committed and refused.rejected == 1
        assert str(refused.errors[0]).startswith("乡镇上报.csv row 2 贫困户属性")
        with pytest.raises(ValidationError, match="name"):
            demo.import_file("households", io.BytesIO(good))

    def test_oversize_stream_is_refused_without_reading_it_all(self, demo):
        """A stream larger than ReadLimits.max_total_mb is refused in one line once that much is read."""

        class Endless(io.RawIOBase):
            read_bytes = 0

            def readable(self):
                return True

            def readinto(self, buffer):
                self.read_bytes += len(buffer)
                buffer[:] = b"x" * len(buffer)
                return len(buffer)

        stream = Endless()
        with pytest.raises(FileTooLarge, match="big.csv.*1 MiB") as caught:
            demo.import_file("households", stream, name="big.csv", limits=ReadLimits(max_total_mb=1))
        assert "\n" not in str(caught.value) and "fupin-upload" not in str(caught.value)
        assert stream.read_bytes <= (1 << 20) + 1

    def test_export_round_trip(self, demo):
        """A masked CSV export into BytesIO reads back as the same records, all unchanged; text streams take JSON lines."""
        out = io.BytesIO()
        exported = demo.export("households", out, where=["户主姓名~张"])
        assert exported.masked and exported.rows > 0 and exported.to_dict()["format"] == "csv"
        back = demo.import_file("households", io.BytesIO(out.getvalue()), name="export.csv")
        assert back.committed and (back.unchanged, back.inserted, back.updated) == (exported.rows, 0, 0)
        text = io.StringIO()
        demo.export("persons", text, fmt="jsonl")
        first = json.loads(text.getvalue().splitlines()[0])
        assert first["证件号码"].endswith("*" * 12)
        with pytest.raises(ValidationError, match="xlsx"):
            demo.export("persons", io.StringIO(), fmt="xlsx")
        with pytest.raises(AccessDenied, match="export.unmasked"):
            as_(demo, TOWN).export("persons", io.BytesIO(), unmasked=True)


class TestPlansAndCampaign:
    def test_several_stored_plans(self, store, tmp_path):
        """Two stored plans and one loaded from a file are each found by name; parsed once per version; no name is refused naming them."""
        store.save_plan(load_plan("qjnu-tuomu"))
        assert store.plan() is store.plan("qjnu-tuomu")
        second = load_plan(SECOND_PLAN)
        store.save_plan(second)
        path = tmp_path / "third.toml"
        path.write_text(second.text.replace(f'name = "{second.name}"', 'name = "third-plan"', 1), encoding="utf-8")
        store.save_plan(load_plan(path))
        for name in ("qjnu-tuomu", second.name, "third-plan"):
            assert store.plan(name).name == name
        with pytest.raises(ValidationError, match="third-plan"):
            store.plan()
        with pytest.raises(NotFound, match="nope"):
            store.plan("nope")
        cached = store.plan("third-plan")
        assert store.acting_as(Actor.parse("TEST:tester")).plan("third-plan") is cached
        changed = attrs_evolve_title(cached)
        store.save_plan(changed)
        assert store.plan("third-plan") is not cached and store.plan("third-plan").title_zh == changed.title_zh

    def test_campaign_calls(self, demo):
        """worklist, check, report and its rendering, pairing, exits and dedup, by plan name or Plan, serialise to JSON."""
        plan = demo.plan("qjnu-tuomu")
        cadre = demo.cadres()[0].code
        pairing_id = demo.pair(fupin.Pairing.new(vocab=demo.vocab, level="household", start=dt.date(2015, 8, 20),
                                                  cadre=cadre, household=H1, kind="联系", plan=plan.name))
        assert [p.id for p in demo.pairings(household=H1)] == [pairing_id]
        due = demo.worklist("qjnu-tuomu", as_of=dt.date(2016, 3, 1))
        assert H1 in {d.household for d in due} and due == demo.worklist(plan, as_of=dt.date(2016, 3, 1))
        assert as_(demo, OTHER_TOWN).worklist(plan, as_of=dt.date(2016, 3, 1)) == []
        results = demo.check(plan, 2016, as_of=dt.date(2016, 12, 31))
        json.dumps([r.to_dict() for r in results])
        report = demo.report("qjnu-tuomu", 2016, as_of=dt.date(2016, 12, 31))
        assert "<html" in fupin.render_report(report).lower()
        assert json.loads(fupin.render_report(report, fmt="json", lang="en"))["year"] == 2016
        with pytest.raises(ValidationError, match="fmt"):
            fupin.render_report(report, fmt="pdf")
        auto = demo.auto_pair(plan, on=dt.date(2015, 9, 1), dry_run=True)
        json.dumps(auto.to_dict())
        demo.end_pairing(pairing_id, dt.date(2016, 6, 30), "调整 / reassigned")
        assert demo.pairings(household=H1)[0].end == dt.date(2016, 6, 30)
        assessments = demo.assess_exits(plan, 2016, households=[H1])
        assert [a.household for a in assessments] == [H1] and not assessments[0].passed
        with pytest.raises(ValidationError):
            demo.record_exit(H1, 2016, on=dt.date(2016, 12, 1), plan="qjnu-tuomu")
        assert isinstance(demo.find_duplicates(), list)


def attrs_evolve_title(plan):
    """The plan with another Chinese title, as its TOML says it."""
    return type(plan).from_toml(plan.text.replace(plan.title_zh, plan.title_zh + "(修订)", 1))
