"""Hostile tenants, table-driven: what a dishonest clerk of one unit or area tries against another's records.

One provincial database holds the demo university (its plan office, departments
and a cadre), a town user of 者海镇, and a household of another town (德基乡,
530326107). Each case is an attempt seen in the wild (issue #14); it must be
refused with a clear line (no traceback), and every table must be exactly as
before: contents compared, not only counts. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json

import pytest
import sqlalchemy as sa

from fupin import Actor, Store
from fupin.storage import schema as S

H1 = "530326106200010001"  # paired with cadre QJNU-C001 below
H3 = "530326106200010003"  # not paired with that cadre
FAR = "530326107200010001"  # a household of another town (德基乡)
FAR_ID = "530326198001010017"  # its head's ID number

ADMIN = "TEST:tester"
OFFICE = "QJNU:office"
STU = "QJNU-STU:clerk"
BIO = "QJNU-BIO:clerk"
CADRE = "QJNU-LEAD:cadre1"
TOWN = "ZHZ-GOV:clerk"
COUNSELLOR = "QJNU-PSY:counsellor"
NOBODY = "NOBODY:x"

#: Tables a refused attempt may still write to: the import batch it was (kept as an
#: attempt) and the audit log.
SKIPPED = {"import_batches", "audit_log", "audit_anchor"}


def contents(url: str, pm) -> dict[str, str]:
    """A digest of every row of every core table, read directly (not through the access layer)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            out = {}
            for t in S.metadata.sorted_tables:
                if t.name in SKIPPED:
                    continue
                rows = conn.execute(sa.select(t).order_by(*t.primary_key.columns)).all()
                out[t.name] = hashlib.sha256(repr([tuple(map(str, r)) for r in rows]).encode()).hexdigest()
            return out
    finally:
        engine.dispose()


def csv_file(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8-sig")
    return str(path)


@pytest.fixture
def province(database_url, cli, tmp_path):
    """The demo university and village, another town with one household, the cadre paired with H1."""
    def ok(*args: str) -> None:
        result = cli("--db", database_url, "--as", ADMIN, *args)
        assert result.exit_code == 0, result.output

    ok("demo", "--register-only")
    areas = csv_file(tmp_path, "areas.csv", "区划代码,名称,层级,上级区划代码\n530326107,德基乡,乡镇,530326\n"
                     "530326107200,德基村,行政村,530326107\n53032610720001,一组,村民小组,530326107200\n")
    ok("import", "areas", areas)
    ok("import", "households", csv_file(tmp_path, "far.csv", f"户编号,村民小组代码,户主姓名,贫困户属性,主要致贫原因\n{FAR},53032610720001,远方户,一般贫困户,因病\n"))
    ok("import", "persons", csv_file(tmp_path, "farp.csv", f"证件号码,户编号,姓名,与户主关系\n{FAR_ID},{FAR},远方户,户主\n"))
    ok("pair", "add", "--cadre", "QJNU-C001", "--household", H1, "--kind", "重点帮扶", "--date", "2015-08-20")
    return database_url


#: (actor, CLI arguments with {files}, what must appear in the refusal). Files are written by the test.
FILES = {
    # Another department's action, by its 记录编号, claimed for BIO.
    "steal_action": "记录编号,帮扶类型,开始日期,登记单位,物品,数量\nQJNU-STU-2016-001,core.goods,2016-09-01,QJNU-BIO,校服,19\n",
    # The university re-parented under the clerk's own department.
    "reparent_university": "单位代码,单位名称,单位类型,上级单位代码\nQJNU,曲靖师范学院,高校,QJNU-BIO\n",
    # A cadre of the students' office moved into BIO.
    "steal_cadre": "干部编号,姓名,单位代码,职级\nQJNU-C019,任林顺,QJNU-BIO,处级\n",
    # A household of another town moved into the clerk's town.
    "steal_household": f"户编号,村民小组代码,户主姓名,贫困户属性,主要致贫原因\n{FAR},53032610620001,远方户,一般贫困户,因病\n",
    # A cycle: the university under one of its own departments, by a plan office that may re-parent.
    "cycle": "单位代码,单位名称,单位类型,上级单位代码\nQJNU,曲靖师范学院,高校,QJNU-STU\n",
    # A person of another town registered again in the clerk's town: the oracle of names.
    "oracle_person": f"证件号码,户编号,姓名,与户主关系\n{FAR_ID},{H3},某人,之子\n",
}

CASES = [
    pytest.param(BIO, ["import", "actions", "{steal_action}"], "outside your scope", id="department-takes-over-action"),
    pytest.param(BIO, ["import", "units", "{reparent_university}"], "outside your scope", id="department-reparents-university"),
    pytest.param(BIO, ["import", "cadres", "{steal_cadre}"], "outside your scope", id="department-moves-cadre"),
    pytest.param(TOWN, ["import", "households", "{steal_household}"], "outside your scope", id="town-moves-household"),
    pytest.param(OFFICE, ["import", "units", "{cycle}"], "cannot be moved under itself", id="office-cycle"),
    pytest.param(CADRE, ["record", "core.site_visit", "--date", "2017-02-01", "--unit", "QJNU-LEAD", "--helper", "QJNU-C001",
                         "--beneficiary", f"household:{H3}", "--detail", "purpose=回访"], "outside your scope", id="cadre-widens-scope"),
    pytest.param(CADRE, ["show", "household", H3], "registry.read", id="cadre-reads-unpaired"),
    pytest.param(TOWN, ["import", "persons", "{oracle_person}", "--dry-run"], "already registered outside your scope", id="dry-run-oracle"),
]

#: What a refusal must never say: the other town's household and its head's name.
LEAKS = ("远方户", FAR)


@pytest.mark.parametrize(("actor", "args", "expected"), CASES)
def test_hostile_tenant_is_refused_and_nothing_changes(province, cli, pm, tmp_path, actor, args, expected):
    """The attempt is refused in one clear line naming why, and every table is exactly as before."""
    files = {name: csv_file(tmp_path, f"{name}.csv", text) for name, text in FILES.items()}
    args_in, args = args, [a.format(**files) for a in args]
    before = contents(province, pm)
    result = cli("--db", province, "--as", actor, *args)
    out = result.output
    assert result.exit_code != 0, out
    assert expected in out, out
    assert "Traceback" not in out and (result.exception is None or isinstance(result.exception, SystemExit)), out
    if "{steal_household}" not in args_in:
        assert not [leak for leak in LEAKS if leak in out], out  # the attempt's own file may name FAR, nothing else
    assert contents(province, pm) == before


def test_cadre_card_stays_closed_after_an_action_naming_it(province, pm):
    """Recording help for a household does not open its card to the cadre: scope comes from pairings only."""
    with Store.open(province, pm=pm, actor=Actor.parse(CADRE)) as store:
        assert store.get_household(H1).number == H1
        from fupin.access import AccessDenied

        with pytest.raises(AccessDenied):
            store.get_household(H3)


# -- masking that holds --------------------------------------------------------------------


def export(cli, url: str, actor: str, kind: str, *extra: str) -> str:
    result = cli("--db", url, "--as", actor, "export", kind, "--format", "csv", *extra)
    assert result.exit_code == 0, result.output
    return result.output


def csv_rows(text: str) -> list[dict[str, str]]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_masked_ids_cannot_be_rebuilt_from_the_export(province, cli):
    """A masked persons export shows the birth date, so the ID's sequence and check characters stay hidden (500 numbers remain)."""
    rows = csv_rows(export(cli, province, TOWN, "persons"))
    assert len(rows) > 1000
    for row in rows:
        masked, birth = row["证件号码"], row["出生日期"]
        assert masked[14:] == "****" and "*" in masked[6:14], row
        assert masked[:6].isdigit() and birth


@pytest.mark.parametrize("where", ["人联系电话~134", "证件号码~5303", "证件号码=530326193211174316", "户联系电话>=13", "银行账号~6"])
def test_filters_on_masked_columns_are_refused(province, cli, pm, where):
    """A filter on a masked column would answer digit by digit: refused without export.unmasked."""
    kind = "households" if where.startswith(("户", "银行")) else "persons"
    result = cli("--db", province, "--as", TOWN, "export", kind, "--format", "csv", "--where", where)
    assert result.exit_code != 0 and "export.unmasked" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(("actor", "kind"), [(OFFICE, "households"), (OFFICE, "persons"), (OFFICE, "tags"), (OFFICE, "cadres"),
                                             (TOWN, "households"), (TOWN, "persons"), (TOWN, "tags")])
def test_a_masked_export_read_back_changes_nothing(province, cli, pm, tmp_path, actor, kind):
    """Masked cells mean "unchanged": every row is unchanged, every table exactly as before."""
    text = export(cli, province, actor, kind)
    assert "*" in text or kind == "cadres"
    path = csv_file(tmp_path, f"masked-{kind}.csv", text.lstrip("\ufeff"))
    before = contents(province, pm)
    result = cli("--db", province, "--as", actor, "import", kind, path, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["updated"] == 0 and report["inserted"] == 0 and report["unchanged"] == len(csv_rows(text)), report
    assert contents(province, pm) == before


def write_csv(tmp_path, name: str, rows: list[dict[str, str]]) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return csv_file(tmp_path, name, out.getvalue())


def test_masked_cells_that_do_not_mask_the_stored_value_are_refused(province, cli, pm, tmp_path):
    """Digits edited around the stars, a masked key without its token, and a forged token are refused."""
    households = csv_rows(export(cli, province, OFFICE, "households"))
    with_phone = next(r for r in households if r["户联系电话"])
    last = with_phone["户联系电话"][-1]
    edited = dict(with_phone, 户联系电话=with_phone["户联系电话"][:-1] + ("0" if last != "0" else "1"))
    persons = csv_rows(export(cli, province, OFFICE, "persons"))
    token = persons[1]["记录标识"]
    forged = dict(persons[1], 记录标识=token[:-1] + ("0" if token[-1] != "0" else "1"))
    keyless = dict(persons[3], 记录标识="")
    before = contents(province, pm)
    reasons, values = [], []
    for kind, rows in (("households", [edited]), ("persons", [forged, keyless])):
        result = cli("--db", province, "--as", OFFICE, "import", kind, write_csv(tmp_path, f"{kind}.csv", rows), "--json")
        report = json.loads(result.output)
        assert result.exit_code == 1 and report["rejected"] == len(rows), report
        reasons += [e["reason"] for e in report["errors"]]
        values += [str(e["value"]) for e in report["errors"]]
    assert any("does not mask the stored one" in r for r in reasons), reasons
    assert any("not a record token of this database" in r for r in reasons), reasons
    assert any("the key is masked" in r for r in reasons), reasons
    assert not [v for v in values if v[:6].isdigit() and "*" not in v and len(v) >= 11], values  # nothing shown in full
    assert contents(province, pm) == before


def test_a_masked_export_of_another_database_is_refused(province, cli, pm, tmp_path):
    """Tokens are keyed by the database: another database's masked export matches nothing here."""
    from fupin.testing import sqlite_file_url

    elsewhere = sqlite_file_url(tmp_path, "elsewhere.db")
    assert cli("--db", elsewhere, "--as", ADMIN, "demo", "--register-only").exit_code == 0
    text = export(cli, elsewhere, ADMIN, "persons")
    path = csv_file(tmp_path, "elsewhere.csv", text.lstrip("\ufeff"))
    before = contents(province, pm)
    result = cli("--db", province, "--as", ADMIN, "import", "persons", path, "--json")
    report = json.loads(result.output)
    assert result.exit_code == 1 and report["rejected"] == len(csv_rows(text))
    assert contents(province, pm) == before


def test_an_unmasked_export_round_trips_byte_for_byte(province, cli, pm, tmp_path):
    """Exported in full and imported back, the export is the same bytes and nothing changed."""
    first = export(cli, province, OFFICE, "persons", "--unmasked")
    path = csv_file(tmp_path, "full.csv", first.lstrip("\ufeff"))
    before = contents(province, pm)
    assert cli("--db", province, "--as", OFFICE, "import", "persons", path).exit_code == 0
    assert export(cli, province, OFFICE, "persons", "--unmasked") == first
    assert contents(province, pm) == before


# -- identity -------------------------------------------------------------------------------


def _api_calls(store):
    """Calls a platform might make, each of which must be refused to an actor without rights."""
    from fupin.io.engine import import_kinds

    return {
        "get_household": lambda: store.get_household(H1),
        "update_household": lambda: store.update_household(H1, {"phone": "13900000000"}),
        "raw transaction": lambda: store.transaction().__enter__(),
        "raw reading": lambda: store.reading().__enter__(),
        "export persons": lambda: list(__import__("fupin.io.export", fromlist=["x"]).export_rows(store, import_kinds(store)["persons"])[1]),
        "add_user": lambda: store.add_user(__import__("fupin.access", fromlist=["User"]).User("EVIL", "me", ("platform_admin",))),
    }


@pytest.mark.parametrize("who", [None, NOBODY, TOWN, COUNSELLOR])
def test_the_api_never_guesses_who_acts(province, pm, who):
    """A store opened without an actor, or as an unregistered one, may do nothing; raw connections need database.raw."""
    from fupin.access import AccessDenied

    actor = None if who is None else Actor.parse(who)
    before = contents(province, pm)
    with Store.open(province, pm=pm, actor=actor) as store:
        for name, call in _api_calls(store).items():
            if who == TOWN and name in ("get_household", "update_household", "export persons"):
                continue  # within a town user's rights (H1 is in its town)
            with pytest.raises(AccessDenied) as caught:
                call()
            message = str(caught.value)
            if who is None:
                assert "no actor given" in message, (name, message)
            elif who in (NOBODY, COUNSELLOR):
                assert "unknown user" in message, (name, message)
    assert contents(province, pm) == before


def test_an_empty_users_table_makes_nobody_administrator(database_url, pm):
    """Before init has registered anyone, nobody holds anything; init makes its own actor the administrator, once."""
    from fupin.access import AccessDenied
    from fupin.storage import migrate

    with Store.open(database_url, pm=pm, actor=Actor.parse(NOBODY)) as store:
        migrate.upgrade(store.engine, store.hooks.migrations())
        with pytest.raises(AccessDenied, match="no user registered yet"):
            store.count("households")
        store.init()
        assert store.count("households") == 0
        assert [u.key for u in store.users()] == [NOBODY]
    with Store.open(database_url, pm=pm, actor=Actor.parse(ADMIN)) as other, pytest.raises(AccessDenied, match="users.manage"):
        other.init()  # a second init is an upgrade: the administrator's to run


def test_on_postgresql_the_login_decides_who_acts(postgres_url, cli, pm):
    """The CLI acts as the user mapped to the session login; --as chooses only among that login's users."""
    import uuid

    from sqlalchemy.engine import make_url

    role = f"fupin_clerk_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        assert cli("--db", postgres_url, "--as", ADMIN, "demo", "--register-only").exit_code == 0
        assert cli("--db", postgres_url, "--as", ADMIN, "users", "add", BIO, "--role", "department", "--db-login", role).exit_code == 0
        with admin.connect() as conn:
            conn.exec_driver_sql(f'GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO "{role}"')
            conn.exec_driver_sql(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
        clerk_url = make_url(postgres_url).set(username=role, password=None).render_as_string(hide_password=False)
        unset = {"FUPIN_ACTOR": None}
        who = cli("--db", clerk_url, "whoami", env=unset)
        assert who.exit_code == 0 and who.output.startswith(f"{BIO}: department"), who.output
        for other in (ADMIN, OFFICE, "NOBODY:x"):
            result = cli("--db", clerk_url, "--as", other, "whoami", env=unset)
            assert result.exit_code == 3 and f"login {role} may not act as {other}" in result.output, result.output
        # The superuser login has the demo's users: several, so it must choose.
        several = cli("--db", postgres_url, "whoami", env=unset)
        assert several.exit_code == 3 and "choose one with --as" in several.output
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')  # its grants in this database
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()


def test_pairing_needs_the_cadre_in_scope_too(province, cli, pm, tmp_path):
    """A plan office may not pair its household with another university's cadre (it would open the card to them)."""
    ok = lambda *a: cli("--db", province, "--as", ADMIN, *a)  # noqa: E731
    assert ok("import", "units", csv_file(tmp_path, "u.csv", "单位代码,单位名称,单位类型\nYNU,云南大学,高校\n")).exit_code == 0
    assert ok("import", "cadres", csv_file(tmp_path, "c.csv", "干部编号,姓名,单位代码,职级\nYNU-C001,外校干部,YNU,处级\n")).exit_code == 0
    before = contents(province, pm)
    one = cli("--db", province, "--as", OFFICE, "pair", "add", "--cadre", "YNU-C001", "--household", H3, "--kind", "联系", "--date", "2016-01-01")
    assert one.exit_code == 3 and "cadre outside your scope" in one.output, one.output
    path = csv_file(tmp_path, "p.csv", f"干部编号,户编号,帮扶类型,结对日期\nYNU-C001,{H3},联系,2016-01-01\n")
    many = cli("--db", province, "--as", OFFICE, "import", "pairings", path)
    assert many.exit_code == 1 and "cadre outside your scope" in many.output, many.output
    assert contents(province, pm) == before
