"""Batch import and export: formats, validation, idempotency, batches, masking (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
import json

import attrs
import openpyxl
import pytest
import sqlalchemy as sa

from fupin import Actor, FupinError, Person, Problem, Store, hookimpl
from fupin.idnumber import make_id_number
from fupin.io.engine import import_files
from fupin.io.files import write_table
from fupin.io.kinds import AREAS, HOUSEHOLDS, PERSONS, Column, ModelKind, Reference
from fupin.storage import schema as S
from fupin.synth import Synthesizer

GROUPS_PER_FILE = ["53032610120001", "53032610120002"]


def register(n_households: int, seed: int = 5):
    """Synthetic areas, households and persons, as the rows an office would send."""
    synth = Synthesizer(seed=seed)
    areas = synth.areas(n_households)
    groups = [a.code for a in areas if a.level == "group"]
    items = list(synth.households(groups, n_households))
    return areas, [i.household for i in items], [p for i in items for p in i.members]


def kind_rows(kind, records, english=False):
    headers = [c.name if english else c.zh for c in kind.columns]
    rows = []
    for r in records:
        values = kind.export_row(kind.db_row(r) | ({"level": r.level} if kind is AREAS else {}))
        rows.append([values[c.name] for c in kind.columns])
    return headers, rows


def write(path, kind, records, fmt="csv", **options):
    headers, rows = kind_rows(kind, records, english=options.pop("english", False))
    write_table(path, fmt, headers, rows, **options)
    return path


@pytest.fixture
def registered(store, tmp_path):
    """A store with the synthetic areas imported, and the households/persons files written."""
    areas, households, persons = register(40)
    result = import_files(store, "areas", [write(tmp_path / "areas.csv", AREAS, areas)])
    assert result.errors == [] and result.inserted == len(areas)
    return store, households, persons


def rival_head(persons):
    """A second head (户主) for the household of the first head in ``persons``."""
    head = next(p for p in persons if p.relation == "户主")
    rival = attrs.evolve(head, id_number=make_id_number("530326", dt.date(1960, 2, 2), 77, head.sex), birth_date=None)
    return Person(**{**attrs.asdict(rival), "sex": None})


def snapshot(store):
    return {t.name: store.count(t.name) for t in S.CORE_TABLES if t.name not in ("audit_log", "import_batches")}


@attrs.frozen(cache_hash=True)
class _Hashed:
    number: int
    day: dt.date | None = None


@attrs.frozen
class _Empty:
    pass


class _GcWatcher:
    """A plugin noting the garbage collector's state while records are validated (during an import)."""

    def __init__(self, seen: list) -> None:
        self.seen = seen

    @hookimpl
    def fupin_validate_record(self, record, record_type):
        import gc

        self.seen.append((gc.get_freeze_count(), gc.get_threshold()))


class TestFormats:
    def test_gb18030_csv_and_xlsx_with_title_rows_import_identically(self, registered, tmp_path, pm):
        """The same register as a GB18030 CSV and as an XLSX with two title rows gives identical records."""
        store, households, _ = registered
        headers, rows = kind_rows(HOUSEHOLDS, households)
        gb = tmp_path / "register-gbk.csv"
        with open(gb, "w", encoding="gb18030", newline="") as f:
            w = csv.writer(f)
            w.writerow(headers)
            w.writerows(rows)
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(["会泽县者海镇建档立卡贫困户花名册"])
        ws.append(["填报单位：者海镇人民政府", None, "填报日期：2015-10-31"])
        ws.append(headers)
        for row in rows:
            ws.append(row)
        xlsx = tmp_path / "register.xlsx"
        wb.save(xlsx)

        from_csv = import_files(store, "households", [gb])
        assert from_csv.errors == [] and from_csv.inserted == len(households)
        assert from_csv.files[0].format == "csv"
        cards_csv = [store.get_household(h.number) for h in households]
        # Into a second database from the XLSX.
        with Store.open(f"sqlite:///{tmp_path}/other.db", pm=pm, actor=Actor.from_env()) as other:
            other.init()
            areas, _, _ = register(40)
            import_files(other, "areas", [write(tmp_path / "a2.csv", AREAS, areas)])
            from_xlsx = import_files(other, "households", [xlsx])
            assert from_xlsx.errors == [] and from_xlsx.inserted == len(households)
            assert [other.get_household(h.number) for h in households] == cards_csv == households
        # And re-importing the XLSX into the first database changes nothing: same records.
        again = import_files(store, "households", [xlsx])
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(households))

    def test_english_headers_jsonl_and_messy_cells(self, registered, tmp_path):
        """English headers, JSON lines, full-width digits and stray spaces all import."""
        store, households, persons = registered
        import_files(store, "households", [write(tmp_path / "h.jsonl", HOUSEHOLDS, households, "jsonl", english=True)])
        headers, rows = kind_rows(PERSONS, persons)
        id_col = headers.index("证件号码")
        rel_col = headers.index("与户主关系")
        rows[0][id_col] = "  " + rows[0][id_col].translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")) + " "
        rows[0][rel_col] = f" {rows[0][rel_col]} "
        path = tmp_path / "p.csv"
        write_table(path, "csv", headers, rows)
        result = import_files(store, "persons", [path])
        assert result.errors == [] and result.inserted == len(persons)
        assert store.get_person(persons[0].id_number) == persons[0]


class TestValidation:
    def test_three_bad_rows_in_a_thousand(self, store, tmp_path, cli, database_url):
        """3 bad rows of 1,000: exit 1, nothing written, each named; --on-error skip writes the 997."""
        areas, households, _ = register(1000)
        import_files(store, "areas", [write(tmp_path / "areas.csv", AREAS, areas)])
        headers, rows = kind_rows(HOUSEHOLDS, households)
        rows[10][headers.index("主要致贫原因")] = "懒惰"
        rows[500][headers.index("村民小组代码")] = "53032610120099"
        rows[998][headers.index("人均纯收入(元)")] = "2670.123"
        path = tmp_path / "households.csv"
        write_table(path, "csv", headers, rows)
        before = snapshot(store)
        result = cli("--db", database_url, "import", "households", str(path), "--errors", str(tmp_path / "errors.csv"), "--json")
        assert result.exit_code == 1
        assert snapshot(store) == before
        with open(tmp_path / "errors.csv", encoding="utf-8-sig") as f:
            errors = list(csv.reader(f))[1:]
        assert [(e[1], e[2]) for e in errors] == [("12", "主要致贫原因"), ("502", "村民小组代码"), ("1000", "人均纯收入(元)")]
        assert all(e[0] == "households.csv" and e[4] for e in errors)
        assert "at most two decimals" in errors[2][4]
        summary = json.loads(result.output)
        assert (summary["inserted"], summary["rejected"], summary["committed"]) == (0, 3, False)

        skip = cli("--db", database_url, "import", "households", str(path), "--on-error", "skip", "--json")
        assert skip.exit_code == 1
        assert json.loads(skip.output)["inserted"] == 997
        assert store.count("households") == 997

    def test_dry_run_writes_nothing(self, registered, tmp_path):
        """--dry-run validates and counts but writes nothing, not even a batch."""
        store, households, _ = registered
        before = snapshot(store) | {"import_batches": store.count("import_batches")}
        result = import_files(store, "households", [write(tmp_path / "h.csv", HOUSEHOLDS, households)], dry_run=True)
        assert result.inserted == len(households) and not result.committed
        assert snapshot(store) | {"import_batches": store.count("import_batches")} == before

    def test_missing_required_column(self, registered, tmp_path):
        """A file without a required column is refused as a whole, naming the column."""
        store, households, _ = registered
        headers, rows = kind_rows(HOUSEHOLDS, households)
        cut = headers.index("户主姓名")
        path = tmp_path / "h.csv"
        write_table(path, "csv", headers[:cut] + headers[cut + 1 :], [r[:cut] + r[cut + 1 :] for r in rows])
        result = import_files(store, "households", [path])
        assert [(e.row, e.column) for e in result.errors] == [(1, "户主姓名")]  # the header row, as the spreadsheet numbers it
        assert store.count("households") == 0

    def test_duplicate_key_and_second_head(self, registered, tmp_path):
        """A key repeated in the file and a second head of one household are both named by row."""
        store, households, persons = registered
        import_files(store, "households", [write(tmp_path / "h.csv", HOUSEHOLDS, households)])
        rival = rival_head(persons)
        path = write(tmp_path / "p.csv", PERSONS, [*persons, persons[0], rival])
        result = import_files(store, "persons", [path])
        reasons = {e.row: e.reason for e in result.errors}
        assert "与第 2 行重复 / duplicate of row 2" in reasons[len(persons) + 2]
        assert "already has a head" in reasons[len(persons) + 3]
        assert len(result.errors) == 2 and store.count("persons") == 0

    def test_duplicate_and_second_head_in_a_later_batch(self, registered, tmp_path):
        """Into an empty table the stored rows are not looked up; a clash with an earlier batch is still found and named."""
        store, households, persons = registered
        import_files(store, "households", [write(tmp_path / "h.csv", HOUSEHOLDS, households)])
        rival = rival_head(persons)
        moved = attrs.evolve(persons[1], household=next(h.number for h in households if h.number != persons[1].household), relation="其他")
        path = write(tmp_path / "p.csv", PERSONS, [*persons, persons[0], rival, moved])
        result = import_files(store, "persons", [path], batch_size=7, on_error="skip")
        reasons = {e.row: e.reason for e in result.errors}
        assert "duplicate of an earlier row" in reasons[len(persons) + 2]
        assert "already has a head" in reasons[len(persons) + 3]
        assert f"already registered as {persons[1].name} of household {persons[1].household}" in reasons[len(persons) + 4]
        assert (result.inserted, result.rejected, len(result.errors)) == (len(persons), 3, 3)
        assert store.count("persons") == len(persons)
        assert store.get_person(persons[1].id_number).household == persons[1].household

    def test_clash_of_a_chunk_in_the_middle(self, registered, tmp_path):
        """A chunk that clashes with an earlier one while the next is already being checked: both come out as checked alone."""
        store, households, persons = registered
        import_files(store, "households", [write(tmp_path / "h.csv", HOUSEHOLDS, households)])
        path = write(tmp_path / "p.csv", PERSONS, [*persons[:10], persons[0], *persons[10:]])
        result = import_files(store, "persons", [path], batch_size=7, on_error="skip")
        assert [(e.row, e.column) for e in result.errors] == [(12, "证件号码")]
        assert "duplicate of an earlier row" in result.errors[0].reason
        assert (result.inserted, result.rejected, result.files[0].rows) == (len(persons), 1, len(persons) + 1)
        assert store.count("persons") == len(persons)

    def test_clash_of_a_household_chunk_in_the_middle(self, registered, tmp_path):
        """The same for a kind that writes after each chunk and file (the status history): nothing twice, nothing lost."""
        store, households, _ = registered
        path = write(tmp_path / "h.csv", HOUSEHOLDS, [*households[:10], households[0], *households[10:]])
        result = import_files(store, "households", [path], batch_size=7, on_error="skip")
        assert [(e.row, e.column) for e in result.errors] == [(12, "户编号")]
        assert (result.inserted, result.rejected) == (len(households), 1)
        with store.engine.connect() as conn:
            entries = conn.execute(sa.select(S.household_status.c.household_id)).scalars().all()
        assert sorted(entries) == sorted(set(entries)) and len(entries) == len(households)

    def test_person_registered_elsewhere_is_refused(self, registered, tmp_path):
        """An ID number registered in another household (18 or 15 digits) is refused, naming the record."""
        store, households, persons = registered
        import_files(store, "households", [write(tmp_path / "h.csv", HOUSEHOLDS, households)])
        import_files(store, "persons", [write(tmp_path / "p.csv", PERSONS, persons)])
        first = persons[0]
        other = next(h.number for h in households if h.number != first.household)
        headers, rows = kind_rows(PERSONS, [attrs.evolve(first, household=other)])
        rows[0][headers.index("证件号码")] = first.id_number[:6] + first.id_number[8:17]  # the legacy 15 digits
        rows[0][headers.index("与户主关系")] = "其他"
        path = tmp_path / "again.csv"
        write_table(path, "csv", headers, rows)
        result = import_files(store, "persons", [path])
        assert [(e.row, e.column) for e in result.errors] == [(2, "证件号码")]
        assert f"already registered as {first.name} of household {first.household}" in result.errors[0].reason

    def test_duplicate_across_chunks(self, registered, tmp_path):
        """A key repeated far apart in a file (different write batches) is still refused."""
        store, households, _ = registered
        path = write(tmp_path / "h.csv", HOUSEHOLDS, [*households, households[0]])
        result = import_files(store, "households", [path], batch_size=7)
        assert [(e.row, e.column) for e in result.errors] == [(len(households) + 2, "户编号")]
        assert "duplicate" in result.errors[0].reason and store.count("households") == 0

    def test_number_typed_id_in_xlsx(self, registered, tmp_path):
        """An ID number typed as a number in Excel is refused with the fix, not silently truncated."""
        store, households, persons = registered
        import_files(store, "households", [write(tmp_path / "h.csv", HOUSEHOLDS, households)])
        headers, rows = kind_rows(PERSONS, persons[:3])
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(headers)
        for row in rows:
            ws.append(row)
        ws.cell(row=2, column=1).value = float(rows[0][0][:17] + "0")
        path = tmp_path / "p.xlsx"
        wb.save(path)
        result = import_files(store, "persons", [path])
        assert result.errors[0].row == 2 and result.errors[0].column == "证件号码"
        assert "format the column as text" in result.errors[0].reason


class TestParallelParsing:
    def test_worker_gives_the_same_result(self, registered, tmp_path, pm, database_url):
        """Parsing in a forked worker gives the same counts, errors and records as parsing in-process."""
        store, households, _ = registered
        headers, rows = kind_rows(HOUSEHOLDS, households)
        rows[5][headers.index("主要致贫原因")] = "懒惰"
        path = tmp_path / "h.csv"
        write_table(path, "csv", headers, rows)
        serial = import_files(store, "households", [path], parallel=False, batch_size=7, on_error="skip")
        store.reset()
        areas, _, _ = register(40)
        import_files(store, "areas", [write(tmp_path / "a.csv", AREAS, areas)])
        forked = import_files(store, "households", [path], parallel=True, batch_size=7, on_error="skip")
        assert (forked.inserted, forked.rejected) == (serial.inserted, serial.rejected) == (39, 1)
        assert forked.errors == serial.errors
        assert store.get_household(households[0].number) == households[0]

    def test_records_cross_as_field_values_and_come_back_equal(self, registered):
        """pack/unpack: records travel as columns of their fields (days as ordinals) and come back equal; problems as they are."""
        import pickle

        from fupin.io.parallel import pack, unpack

        store, households, persons = registered
        problems = [Problem("id_number", "校验码错误 / bad check digit", "x")]
        undated = attrs.evolve(households[1], first_identified=None)
        chunk = [(2, households[0]), (3, persons[0]), (4, problems), (5, undated), (6, persons[1])]
        row_numbers, order, groups = packed = pack(chunk)
        assert (row_numbers, order) == ([2, 3, 4, 5, 6], [0, 1, 2, 0, 1])
        assert [cls for cls, _, _ in groups] == [type(households[0]), type(persons[0]), None]
        birth = [f.name for f in attrs.fields(type(persons[0]))].index("birth_date")
        first = [f.name for f in attrs.fields(type(households[0]))].index("first_identified")
        assert groups[1][2] == (birth,) and groups[1][1][birth] == [p.birth_date.toordinal() for p in persons[:2]]
        assert groups[0][2] == (first,) and groups[0][1][first] == [households[0].first_identified.toordinal(), None]
        assert groups[2] == (None, [problems], ())
        back = unpack(pickle.loads(pickle.dumps(packed)))
        assert back == chunk
        assert [type(r) for _, r in back] == [type(r) for _, r in chunk]
        assert unpack(pack(chunk[1:2])) == chunk[1:2]  # one class only

    def test_records_with_a_cached_hash_come_back_through_their_setstate(self):
        """A class whose __setstate__ also resets a cached hash is restored by it, hash and all."""
        from fupin.io.parallel import pack, unpack

        chunk = [(1, _Hashed(1, dt.date(2019, 8, 1))), (2, _Hashed(2))]
        back = unpack(pack(chunk))
        assert back == chunk
        assert [hash(r) for _, r in back] == [hash(r) for _, r in chunk]

    def test_records_without_fields_come_back(self):
        """A record class with no fields still crosses, one record per row."""
        from fupin.io.parallel import pack, unpack

        chunk = [(1, _Empty()), (2, [Problem("x", "bad")]), (3, _Empty())]
        assert unpack(pack(chunk)) == chunk

    def test_garbage_collector_left_as_found(self, registered, tmp_path):
        """The import freezes older objects and collects less often for its duration only, also when it fails."""
        import gc

        store, households, _ = registered
        before = gc.get_freeze_count(), gc.get_threshold()
        seen = []
        store.hooks.pm.register(_GcWatcher(seen), name="gc-watcher")
        try:
            assert import_files(store, "households", [write(tmp_path / "h.csv", HOUSEHOLDS, households)]).committed
        finally:
            store.hooks.pm.unregister(name="gc-watcher")
        assert seen and all(frozen > before[0] and threshold[0] >= 10_000 for frozen, threshold in seen)
        assert (gc.get_freeze_count(), gc.get_threshold()) == before
        with pytest.raises(FupinError):
            import_files(store, "households", [tmp_path / "missing.csv"])
        assert (gc.get_freeze_count(), gc.get_threshold()) == before

    def test_status_history_belongs_to_its_households(self, registered, tmp_path):
        """Each imported household's history starts with its own status and date, into an empty table or not."""
        store, households, _ = registered
        first, rest = households[:15], households[15:]
        for part in (first, rest):  # the second import appends to a table that holds rows
            assert import_files(store, "households", [write(tmp_path / "h.csv", HOUSEHOLDS, part)]).inserted == len(part)
        for h in households:
            entry = store.household_card(h.number).status_history[0]
            assert (entry.status, entry.effective) == (h.status, h.first_identified or entry.effective)
        with store.engine.connect() as conn:
            ids = conn.execute(sa.select(S.households.c.id)).scalars().all()
            assert sorted(conn.execute(sa.select(S.household_status.c.household_id)).scalars().all()) == sorted(ids)

    def test_worker_error_reaches_the_importer(self, registered, tmp_path):
        """A file that fails to decode half-way fails the import with the row named, and nothing is written."""
        store, households, _ = registered
        path = write(tmp_path / "h.csv", HOUSEHOLDS, households)
        with open(path, "ab") as f:
            f.write("\r\n".encode() + "户".encode("gb18030") + b",x\r\n")
        with pytest.raises(FupinError, match="row"):
            import_files(store, "households", [path], parallel=True, encoding="utf-8")
        assert store.count("households") == 0


class TestIdempotency:
    def test_second_import_changes_nothing_and_a_change_is_audited(self, registered, tmp_path, cli, database_url):
        """Re-import: 0 inserted, 0 updated; a changed cell updates the record with an audit entry."""
        store, households, _ = registered
        path = write(tmp_path / "h.csv", HOUSEHOLDS, households)
        first = import_files(store, "households", [path])
        assert first.inserted == len(households)
        second = json.loads(cli("--db", database_url, "import", "households", str(path), "--json").output)
        assert (second["inserted"], second["updated"], second["unchanged"]) == (0, 0, len(households))

        headers, rows = kind_rows(HOUSEHOLDS, households)
        rows[3][headers.index("脱贫状态")] = "已脱贫(享受政策)"
        rows[3][headers.index("户联系电话")] = "13800000000"
        write_table(path, "csv", headers, rows)
        third = import_files(store, "households", [path])
        assert (third.inserted, third.updated, third.unchanged) == (0, 1, len(households) - 1)
        number = households[3].number
        entry = store.audit_entries(table="households", key=number)[-1]
        assert entry.operation == "update"
        assert entry.old == {"status": "未脱贫", "phone": households[3].phone} or entry.old["status"] == "未脱贫"
        assert entry.new["status"] == "已脱贫(享受政策)" and entry.new["phone"] == "13800000000"
        assert [s.status for s in store.household_card(number).status_history][-1] == "已脱贫(享受政策)"

    def test_batches_are_recorded(self, registered, tmp_path, cli, database_url):
        """Every import is a batch with file name, content hash, counts, unit and user; `fupin imports` lists them."""
        store, households, _ = registered
        path = write(tmp_path / "h.csv", HOUSEHOLDS, households)
        import_files(store, "households", [path])
        import_files(store, "households", [path])
        with store.engine.connect() as conn:
            batches = conn.execute(sa.select(S.import_batches).where(S.import_batches.c.kind == "households").order_by(S.import_batches.c.id)).mappings().all()
        assert [(b["status"], b["inserted"], b["unchanged"]) for b in batches] == [("committed", 40, 0), ("committed", 0, 40)]
        assert batches[0]["content_hash"] == batches[1]["content_hash"] and len(batches[0]["content_hash"]) == 64
        assert (batches[0]["unit"], batches[0]["user"]) == ("TEST", "tester")
        listing = cli("--db", database_url, "imports").output
        assert "h.csv" in listing and "committed" in listing


class TestExport:
    def test_unmasked_export_reimports_without_loss(self, tmp_path, cli, pm, database_url):
        """The demo exported --unmasked and imported into an empty database gives the same records."""
        sqlite_url = f"sqlite:///{tmp_path}/copy.db"
        assert cli("--db", database_url, "demo", "--register-only").exit_code == 0
        assert cli("--db", sqlite_url, "init", "--plan", "qjnu-tuomu").exit_code == 0
        for kind in ("areas", "units", "cadres", "households", "persons", "tags", "actions"):
            fmt = {"households": "xlsx", "persons": "jsonl"}.get(kind, "csv")
            out = tmp_path / f"{kind}.{fmt}"
            assert cli("--db", database_url, "export", kind, "--unmasked", "--format", fmt, "-o", str(out)).exit_code == 0
            result = cli("--db", sqlite_url, "import", kind, str(out), "--json")
            assert result.exit_code == 0, result.output
        for kind in ("areas", "units", "cadres", "households", "persons", "tags", "actions"):
            a = cli("--db", database_url, "export", kind, "--unmasked", "--format", "jsonl").output
            b = cli("--db", sqlite_url, "export", kind, "--unmasked", "--format", "jsonl").output
            assert a == b and a, kind
        with Store.open(database_url, pm=pm, actor=Actor.from_env()) as store:
            entries = [e for e in store.audit_entries() if e.operation == "export"]
        assert entries and all(e.new["unmasked"] for e in entries)

    def test_masked_by_default(self, cli, database_url, pm):
        """ID numbers keep their first 6 and last 4 characters; phones are masked."""
        cli("--db", database_url, "demo", "--register-only")
        out = cli("--db", database_url, "export", "persons", "--format", "jsonl").output
        rows = [json.loads(line) for line in out.splitlines()]
        assert rows and all(r["证件号码"][6:14] == "********" and len(r["证件号码"]) == 18 for r in rows)
        with Store.open(database_url, pm=pm, actor=Actor.from_env()) as store:
            # A masked export is audited too, as masked.
            [entry] = [e for e in store.audit_entries() if e.operation == "export"]
            assert entry.new["unmasked"] is False and entry.new["kind"] == "persons"

    def test_where_filters_are_bound(self, cli, database_url):
        """--where filters by column; an injection attempt is just a value that matches nothing."""
        cli("--db", database_url, "demo", "--register-only")
        low = cli("--db", database_url, "export", "households", "--format", "jsonl", "--where", "贫困户属性=低保贫困户").output
        rows = [json.loads(line) for line in low.splitlines()]
        assert rows and {r["贫困户属性"] for r in rows} == {"低保贫困户"}
        evil = cli("--db", database_url, "export", "households", "--format", "jsonl", "--where", "户主姓名=x' OR '1'='1")
        assert evil.exit_code == 0 and evil.output == ""
        assert cli("--db", database_url, "export", "households", "--where", "nonsense=1").exit_code == 1


class TestTemplatesAndKinds:
    def test_xlsx_template_has_dropdowns(self, cli, tmp_path):
        """The XLSX template has the headers and a drop-down of allowed values for enumerated columns."""
        path = tmp_path / "t.xlsx"
        assert cli("template", "households", "-o", str(path)).exit_code == 0
        wb = openpyxl.load_workbook(path)
        ws = wb.worksheets[0]
        headers = [c.value for c in ws[1]]
        assert headers[:3] == ["户编号", "村民小组代码", "户主姓名"]
        formulas = [dv.formula1 for dv in ws.data_validations.dataValidation]
        assert len(formulas) >= 5
        options = wb["选项"]
        values = {c.value for col in options.iter_cols() for c in col}
        assert {"一般贫困户", "因病", "是", "否"} <= values

    def test_csv_template_reimports_empty(self, cli, store, database_url, tmp_path):
        """A CSV template is a valid, empty import file."""
        path = tmp_path / "t.csv"
        cli("template", "persons", "--format", "csv", "-o", str(path))
        result = import_files(store, "persons", [path])
        assert result.errors == [] and result.inserted == 0

    def test_list_shows_every_kind(self, cli):
        """import --list names every core kind with its columns."""
        data = json.loads(cli("import", "--list", "--json").output)
        kinds = {k["kind"]: k for k in data}
        assert {"areas", "units", "cadres", "households", "persons", "tags", "actions"} <= set(kinds)
        assert "证件号码" in [c["zh"] for c in kinds["persons"]["columns"]]
        assert "details.item" in [c["name"] for c in kinds["actions"]["columns"]]

    def test_plugin_import_kind(self, database_url, pm, tmp_path):
        """A plugin's ModelKind imports through the same engine, with its own table and references."""

        @attrs.frozen
        class Sample:
            sample_no: str
            household: str
            ph: object = None

        class Lab:
            @hookimpl
            def fupin_tables(self, metadata):
                sa.Table("lab_samples", metadata, sa.Column("sample_no", sa.String(20), primary_key=True),
                         sa.Column("household", sa.String(32)), sa.Column("ph", sa.Numeric(4, 2)),
                         sa.Column("import_batch_id", sa.Integer))

            @hookimpl
            def fupin_importers(self):
                return [ModelKind(
                    name="lab.samples", label_zh="土壤样本", label_en="Soil samples", table="lab_samples",
                    key=("sample_no",), record_type="lab.sample", model=Sample,
                    references=(Reference("household", "households", "number", "户 / household", "household"),),
                    columns=(Column("sample_no", "样本编号", "code", required=True), Column("household", "户编号", "code", required=True),
                             Column("ph", "酸碱度", "decimal")),
                )]

        pm.register(Lab(), name="lab")
        with Store.open(database_url, pm=pm, actor=Actor.from_env()) as store:
            store.init()
            store.metadata.tables["lab_samples"].create(store.engine)
            areas, households, _ = register(5)
            import_files(store, "areas", [write(tmp_path / "a.csv", AREAS, areas)])
            import_files(store, "households", [write(tmp_path / "h.csv", HOUSEHOLDS, households)])
            path = tmp_path / "s.csv"
            write_table(path, "csv", ["样本编号", "户编号", "酸碱度"], [["S1", households[0].number, "6.5"], ["S2", "nobody", "7"]])
            result = import_files(store, "lab.samples", [path], on_error="skip")
            assert result.inserted == 1 and [(e.row, e.column) for e in result.errors] == [(3, "户编号")]
