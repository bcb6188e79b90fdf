"""The note key's fingerprint (issue #14): a valid but different key is refused on record, import and read; the
key rotation; a database that held notes before the fingerprint; a counsellor of another plan. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from fupin import Actor, NotFound, Plan, Store, Unit, ValidationError
from fupin.ext import AccessDenied, User

from fupin_psychology import crypto
from fupin_psychology.crypto import NoteKeyMismatch, NoteKeyMissing
from fupin_psychology.keys import rekey
from fupin_psychology.model import Session
from fupin_psychology.records import WRITE, read_note, record_session, sessions_in

from psy_world import CHILD1, ELDERLY, NOTE, SESSIONS_CSV, clean, setup_files

MISMATCH = "密钥与本库不符 / the key does not match this database's key"


def session(ref: str = "S-1", note: str | None = NOTE, **changes) -> Session:
    values = dict(ref=ref, date=dt.date(2017, 4, 10), counsellor="李心怡", mode="individual", persons=(CHILD1,), unit_code="QJNU-PSY",
                  consent_by="王奶奶", consent_date=dt.date(2017, 4, 8), plan_name="qjnu-tuomu", note=note)
    return Session(**(values | changes))


def key_row(store) -> dict:
    with store.engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT * FROM psychology_key")).mappings().one())


def ciphers(store) -> dict[str, str]:
    with store.engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT ref, note_cipher FROM psychology_sessions WHERE note_cipher IS NOT NULL")).all())


def operations(store) -> list[str]:
    return [e.operation for e in store.audit_entries()]


# -- record and read ----------------------------------------------------------------------------


def test_first_note_sets_the_fingerprint_never_the_key(village, key):
    store, _plan = village
    assert key_row(store)["fingerprint"] is None  # the migration's row, before any note
    record_session(store, session(note=None))
    assert key_row(store)["fingerprint"] is None  # a session without a note needs no key and sets nothing
    record_session(store, session("S-2"))
    row = key_row(store)
    assert row["scheme"] == crypto.SCHEME and row["set_by"] == "TEST:tester" and row["set_at"] is not None
    assert row["fingerprint"] == crypto.fingerprint(key, bytes.fromhex(row["salt"])) and len(row["fingerprint"]) == 32
    stored = json.dumps(row, default=str)
    assert key not in stored and key.rstrip("=") not in stored
    # The same key in another database (another salt) has another fingerprint: a fingerprint links no two databases.
    assert crypto.fingerprint(key, crypto.new_salt()) != row["fingerprint"]
    assert operations(store).count("key_set") == 1
    record_session(store, session("S-3"))  # the same key again: accepted, the fingerprint unchanged
    assert key_row(store) == row and store.count("psychology_sessions") == 3


def test_wrong_key_refused_on_record_and_read(village, key, monkeypatch):
    store, _plan = village
    record_session(store, session())
    shown = key_row(store)["fingerprint"][: crypto.SHOWN]
    before = (store.count("psychology_sessions"), len(store.audit_entries()))

    monkeypatch.setenv(crypto.KEY_ENV, Fernet.generate_key().decode())
    with pytest.raises(NoteKeyMismatch) as refused:
        record_session(store, session("S-2"))
    message = str(refused.value)
    assert message.startswith(MISMATCH) and f"fingerprint {shown}" in message and "\n" not in message
    with pytest.raises(NoteKeyMismatch, match="密钥与本库不符"):
        read_note(store, "S-1", "回访前核对")
    assert (store.count("psychology_sessions"), len(store.audit_entries())) == before  # nothing written, no read audited
    # A session without a note needs no key: the wrong one is not even looked at.
    record_session(store, session("S-3", note=None))

    monkeypatch.setenv(crypto.KEY_ENV, key)
    assert read_note(store, "S-1", "回访前核对") == NOTE


def test_missing_or_invalid_key(village, key, monkeypatch):
    store, _plan = village
    record_session(store, session())
    monkeypatch.setenv(crypto.KEY_ENV, "not-a-fernet-key")
    with pytest.raises(NoteKeyMissing, match="not a valid Fernet key"):
        read_note(store, "S-1", "核对")
    with pytest.raises(NoteKeyMissing, match="not a valid Fernet key"):
        record_session(store, session("S-2"))
    assert store.count("psychology_sessions") == 1


# -- import -------------------------------------------------------------------------------------


def test_wrong_key_refused_on_import(cli, database_url, seed, tmp_path, key):
    sessions, _cases = setup_files(cli, database_url, seed, tmp_path)
    assert cli("--db", database_url, "import", "psychology.sessions", str(sessions)).exit_code == 0
    other = tmp_path / "other.csv"
    other.write_text(SESSIONS_CSV.replace("PSY-", "NEW-"), encoding="utf-8")
    wrong = Fernet.generate_key().decode()
    with Store.open(database_url, actor=Actor.from_env()) as store:
        shown = key_row(store)["fingerprint"][: crypto.SHOWN]

    result = cli("--db", database_url, "import", "psychology.sessions", str(other), "--json", env={crypto.KEY_ENV: wrong})
    assert result.exit_code == 1, result.output
    clean(result.output, wrong)
    clean(result.output, key)
    data = json.loads(result.output)
    assert data["committed"] is False and data["files"][0]["inserted"] == 0
    # Rows 2 and 4 carry a note (row 3 has none): each is refused in the note column, with the fingerprint.
    assert [(e["row"], e["column"]) for e in data["errors"]] == [(2, "记录内容"), (4, "记录内容")]
    assert all(e["reason"].startswith(MISMATCH) and f"fingerprint {shown}" in e["reason"] for e in data["errors"])
    with Store.open(database_url, actor=Actor.from_env()) as store:
        assert store.count("psychology_sessions") == 3 and set(ciphers(store)) == {"PSY-1", "PSY-3"}  # nothing written

    text = cli("--db", database_url, "import", "psychology.sessions", str(other), env={crypto.KEY_ENV: wrong})
    assert text.exit_code == 1 and "other.csv row 2 记录内容" in text.output and MISMATCH in text.output

    # --on-error skip keeps the row without a note and still refuses every row with one.
    skipped = cli("--db", database_url, "import", "psychology.sessions", str(other), "--on-error", "skip", "--json",
                  env={crypto.KEY_ENV: wrong})
    counts = json.loads(skipped.output)["files"][0]
    assert (counts["inserted"], counts["rejected"]) == (1, 2), skipped.output
    with Store.open(database_url, actor=Actor.from_env()) as store:
        assert store.count("psychology_sessions") == 4
        assert set(ciphers(store)) == {"PSY-1", "PSY-3"}  # only the notes of the first import, with the right key
        assert key_row(store)["fingerprint"][: crypto.SHOWN] == shown
    assert cli("--db", database_url, "psychology", "note", "PSY-3", "--reason", "核对", env={crypto.KEY_ENV: key}).exit_code == 0


def test_refused_or_dry_run_import_sets_no_fingerprint(cli, database_url, seed, tmp_path, key):
    sessions, _cases = setup_files(cli, database_url, seed, tmp_path)
    first = Fernet.generate_key().decode()
    dry = cli("--db", database_url, "import", "psychology.sessions", str(sessions), "--dry-run", env={crypto.KEY_ENV: first})
    assert dry.exit_code == 0, dry.output
    bad = tmp_path / "bad.csv"  # a good row with a note, then a child without consent: the whole file is refused
    bad.write_text(SESSIONS_CSV.splitlines()[0] + "\n" + SESSIONS_CSV.splitlines()[1].replace("王奶奶,2017-04-08", ",")
                   .replace("PSY-1", "BAD-1") + "\n" + SESSIONS_CSV.splitlines()[3] + "\n", encoding="utf-8")
    assert cli("--db", database_url, "import", "psychology.sessions", str(bad), env={crypto.KEY_ENV: first}).exit_code == 1
    with Store.open(database_url, actor=Actor.from_env()) as store:
        assert key_row(store)["fingerprint"] is None and store.count("psychology_sessions") == 0
    # So the real key's first import is accepted and sets it.
    assert cli("--db", database_url, "import", "psychology.sessions", str(sessions)).exit_code == 0
    with Store.open(database_url, actor=Actor.from_env()) as store:
        row = key_row(store)
        assert row["fingerprint"] == crypto.fingerprint(key, bytes.fromhex(row["salt"])) and row["set_by"] == "TEST:tester"


def test_note_command_with_wrong_key(cli, database_url, seed, tmp_path, key):
    sessions, _cases = setup_files(cli, database_url, seed, tmp_path)
    assert cli("--db", database_url, "import", "psychology.sessions", str(sessions)).exit_code == 0
    wrong = Fernet.generate_key().decode()
    result = cli("--db", database_url, "psychology", "note", "PSY-1", "--reason", "核对", env={crypto.KEY_ENV: wrong})
    assert result.exit_code == 1 and MISMATCH in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    clean(result.output, wrong)


# -- a database with notes from before the fingerprint ----------------------------------------------


def legacy_store(database_url: str, pm, notes: dict[str, str]) -> Store:
    """A database at psychology_0001 holding ``notes`` (ref -> Fernet token), then upgraded as a new release would."""
    from fupin.storage import migrate  # the test stops the plugin's branch half-way, as an old release left it

    store = Store.open(database_url, pm=pm, actor=Actor.parse("TEST:tester"))
    migrate.upgrade(store.engine, store.hooks.migrations(), revision="psychology_0001")
    with store.engine.begin() as conn:
        for n, (ref, token) in enumerate(notes.items()):
            conn.execute(sa.text(
                "INSERT INTO psychology_sessions (ref, date, counsellor, mode, persons, note_cipher, unit_code) "
                "VALUES (:ref, :date, '李心怡', '电话', :persons, :token, 'QJNU-PSY')"),
                {"ref": ref, "date": dt.date(2016, 1, 1) + dt.timedelta(days=n), "persons": json.dumps([ELDERLY[0]]), "token": token})
    store.init()
    return store


def test_existing_notes_decide_the_first_key(database_url, pm, seed, key, monkeypatch):
    real, stray = key, Fernet.generate_key().decode()
    # The earliest note is the real key's; a later one was written with another key (the bug of issue #14).
    notes = {"OLD-1": crypto.encrypt("旧记录一", real), "OLD-2": crypto.encrypt("旧记录二", stray), "OLD-3": crypto.encrypt("旧记录三", real)}
    with legacy_store(database_url, pm, notes) as store:
        seed(store)
        assert key_row(store)["fingerprint"] is None and store.count("psychology_sessions") == 3

        monkeypatch.setenv(crypto.KEY_ENV, stray)  # it opens a stored note, but not the earliest: refused
        with pytest.raises(NoteKeyMismatch, match="does not open the notes already stored"):
            record_session(store, session())
        monkeypatch.setenv(crypto.KEY_ENV, Fernet.generate_key().decode())
        with pytest.raises(NoteKeyMismatch, match="does not open the notes already stored"):
            record_session(store, session())
        assert key_row(store)["fingerprint"] is None and store.count("psychology_sessions") == 3

        monkeypatch.setenv(crypto.KEY_ENV, real)
        record_session(store, session())
        assert key_row(store)["fingerprint"] == crypto.fingerprint(real, bytes.fromhex(key_row(store)["salt"]))
        assert read_note(store, "OLD-1", "核对旧记录") == "旧记录一"
        # The stray note is the database's key's no more: said so, not a bare decrypt error.
        with pytest.raises(NoteKeyMismatch, match="OLD-2 was not encrypted with this database's key"):
            read_note(store, "OLD-2", "核对旧记录")
        monkeypatch.setenv(crypto.KEY_ENV, stray)
        with pytest.raises(NoteKeyMismatch, match="密钥与本库不符"):
            read_note(store, "OLD-2", "核对旧记录")
        # A rotation cannot carry the stray note over: refused, naming it, nothing changed.
        monkeypatch.setenv(crypto.KEY_ENV, real)
        before = (ciphers(store), key_row(store))
        with pytest.raises(NoteKeyMismatch, match=r"1 notes do not open .*\(OLD-2\); nothing changed"):
            rekey(store, Fernet.generate_key().decode(), "轮换")
        assert (ciphers(store), key_row(store)) == before


# -- rotation -------------------------------------------------------------------------------------


def test_rekey_round_trip(village, key, monkeypatch):
    store, _plan = village
    for n in range(1, 4):
        record_session(store, session(f"S-{n}", note=f"{NOTE} {n}"))
    record_session(store, session("S-4", note=None))
    old_row, old_ciphers = key_row(store), ciphers(store)
    new = Fernet.generate_key().decode()

    done = rekey(store, new, "咨询师离职, 更换密钥")
    assert done.notes == 3 and done.old_fingerprint == old_row["fingerprint"][: crypto.SHOWN]
    row = key_row(store)
    assert row["fingerprint"] == crypto.fingerprint(new, bytes.fromhex(row["salt"])) and row["salt"] != old_row["salt"]
    assert done.new_fingerprint == row["fingerprint"][: crypto.SHOWN]
    assert set(ciphers(store)) == set(old_ciphers) and not set(ciphers(store).values()) & set(old_ciphers.values())

    # The old key is now the wrong one, for reading and for writing; the new one opens every note.
    with pytest.raises(NoteKeyMismatch, match="密钥与本库不符"):
        read_note(store, "S-1", "核对")
    with pytest.raises(NoteKeyMismatch, match="密钥与本库不符"):
        record_session(store, session("S-5"))
    monkeypatch.setenv(crypto.KEY_ENV, new)
    assert [read_note(store, f"S-{n}", "核对") for n in range(1, 4)] == [f"{NOTE} {n}" for n in range(1, 4)]
    record_session(store, session("S-5"))

    audited = [e for e in store.audit_entries() if e.operation == "rekey"]
    assert [(e.table_name, e.reason, e.new["notes"]) for e in audited] == [("psychology_key", "咨询师离职, 更换密钥", 3)]
    everything = json.dumps([[e.old, e.new, e.reason] for e in store.audit_entries()], ensure_ascii=False, default=str)
    assert key not in everything and new not in everything and NOTE not in everything and "gAAAA" not in everything

    # And back: a second rotation from the new key.
    assert rekey(store, key, "再次轮换").notes == 4


def test_rekey_refusals_change_nothing(village, key, monkeypatch):
    store, _plan = village
    record_session(store, session())
    before = (ciphers(store), key_row(store), len(store.audit_entries()))
    new = Fernet.generate_key().decode()
    with pytest.raises(ValidationError, match="reason"):
        rekey(store, new, " ")
    with pytest.raises(ValidationError, match="is the key already in FUPIN_PSYCHOLOGY_KEY"):
        rekey(store, key, "轮换")
    with pytest.raises(NoteKeyMissing, match="FUPIN_NEW_KEY is not set"):
        rekey(store, "", "轮换", "FUPIN_NEW_KEY")
    with pytest.raises(NoteKeyMissing, match="not a valid Fernet key"):
        rekey(store, "short", "轮换")
    store.add_user(User("QJNU-PSY", "zhao", ("counsellor",)))
    with pytest.raises(AccessDenied, match="psychology.rekey"):
        rekey(store.acting_as(Actor("QJNU-PSY", "zhao")), new, "轮换")
    before = (before[0], before[1], before[2] + 1)  # the user added is audited
    monkeypatch.setenv(crypto.KEY_ENV, Fernet.generate_key().decode())  # the old key must be the database's
    with pytest.raises(NoteKeyMismatch, match="密钥与本库不符"):
        rekey(store, new, "轮换")
    assert (ciphers(store), key_row(store), len(store.audit_entries())) == before


def test_rekey_command(cli, database_url, seed, tmp_path, key):
    sessions, _cases = setup_files(cli, database_url, seed, tmp_path)
    assert cli("--db", database_url, "import", "psychology.sessions", str(sessions)).exit_code == 0
    new = Fernet.generate_key().decode()

    unset = cli("--db", database_url, "psychology", "rekey", "--new-key-env", "FUPIN_NEW_KEY", "--reason", "轮换")
    assert unset.exit_code == 4 and "FUPIN_NEW_KEY is not set" in unset.output, unset.output
    assert cli("--db", database_url, "users", "add", "QJNU-PSY:zhao", "--role", "counsellor").exit_code == 0
    denied = cli("--db", database_url, "--as", "QJNU-PSY:zhao", "psychology", "rekey", "--new-key-env", "FUPIN_NEW_KEY",
                 "--reason", "轮换", env={"FUPIN_NEW_KEY": new})
    assert denied.exit_code == 3 and "psychology.rekey" in denied.output, denied.output
    wrong = cli("--db", database_url, "psychology", "rekey", "--new-key-env", "FUPIN_NEW_KEY", "--reason", "轮换",
                env={"FUPIN_NEW_KEY": new, crypto.KEY_ENV: Fernet.generate_key().decode()})
    assert wrong.exit_code == 1 and MISMATCH in wrong.output

    done = cli("--db", database_url, "psychology", "rekey", "--new-key-env", "FUPIN_NEW_KEY", "--reason", "咨询师离职", "--json",
               env={"FUPIN_NEW_KEY": new})
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["notes"] == 2
    clean(done.output, key)
    assert new not in done.output
    assert cli("--db", database_url, "psychology", "note", "PSY-1", "--reason", "核对").exit_code == 1
    shown = cli("--db", database_url, "psychology", "note", "PSY-1", "--reason", "核对", env={crypto.KEY_ENV: new})
    assert shown.exit_code == 0 and NOTE in shown.output
    # The files' notes now go in only with the new key.
    again = tmp_path / "again.csv"
    again.write_text(SESSIONS_CSV.replace("PSY-", "NEW-"), encoding="utf-8")
    assert cli("--db", database_url, "import", "psychology.sessions", str(again)).exit_code == 1
    assert cli("--db", database_url, "import", "psychology.sessions", str(again), env={crypto.KEY_ENV: new}).exit_code == 0


def test_rekey_waits_for_a_writer_of_notes(village, database_url, pm, key, monkeypatch):
    """A note being written when the rotation starts is re-encrypted too, not left behind under the old key.

    The writer holds the key row (PostgreSQL: FOR UPDATE; SQLite: the write lock) until it commits; the rotation,
    from another connection, waits for it and then sees its note.
    """
    store, _plan = village
    record_session(store, session())
    new = Fernet.generate_key().decode()
    with Store.open(database_url, pm=pm, actor=Actor.parse("TEST:tester")) as other, ThreadPoolExecutor(1) as pool:
        with store.transaction(WRITE):
            record_session(store, session("S-2"))
            rotation = pool.submit(rekey, other, new, "轮换")
            time.sleep(0.5)
            assert not rotation.done()
        assert rotation.result(timeout=60).notes == 2
    monkeypatch.setenv(crypto.KEY_ENV, new)
    assert read_note(store, "S-2", "核对") == NOTE


# -- scope --------------------------------------------------------------------------------------------


OTHER_PLAN = """\
[plan]
name = "ynu-other"
title_zh = "另一方案"
title_en = "Another plan"

[plan.period]
start = 2016-01-01
end = 2020-12-31

[plan.helping_unit]
code = "YNU"
name_zh = "另一大学"

[[plan.villages]]
code = "530326106201"
name_zh = "另一村"

[[commitments]]
id = "C01"
section = "一"
title_zh = "心理疏导"
target = "psychology.counselling_coverage"
params = { groups = ["留守儿童"], min_per_year = 1 }
"""


def test_counsellor_of_another_plan_cannot_read_notes(village, key):
    store, _plan = village
    record_session(store, session())
    with store.transaction("units.write"):
        store.add_unit(Unit.new(code="YNU", name="另一大学", kind="university", vocab=store.vocab))
        store.add_unit(Unit.new(code="YNU-PSY", name="另一心理中心", kind="department", parent_code="YNU", vocab=store.vocab))
    store.save_plan(Plan.from_toml(OTHER_PLAN, source="other.toml"))
    store.add_user(User("YNU-PSY", "li", ("counsellor",)))
    store.add_user(User("QJNU-PSY", "zhao", ("counsellor",)))
    other = store.acting_as(Actor("YNU-PSY", "li"))
    # Holds psychology.read, with the key, yet the session is not of its plans: as if it did not exist.
    with pytest.raises(NotFound, match="S-1"):
        read_note(other, "S-1", "好奇")
    assert sessions_in(other, 2017) == []
    with pytest.raises(AccessDenied):
        record_session(other, session("S-2"))
    assert not [e for e in store.audit_entries() if e.operation == "read_note"]
    # The counsellor of the session's own plan reads it.
    assert read_note(store.acting_as(Actor("QJNU-PSY", "zhao")), "S-1", "回访前核对") == NOTE
