"""Sessions, consent, encrypted notes, audited reads, cases, and the plugin's migrations (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from fupin import Actor, NotFound, ValidationError
from fupin.ext import AccessDenied, User

from fupin_psychology.crypto import NoteKeyError
from fupin_psychology.model import Case, Session, small
from fupin_psychology.records import add_case, read_note, record_session

from psy_world import CHILD1, CHILD2, ELDERLY, NOTE, household_no


def child_session(ref: str = "S-1", **changes) -> Session:
    values = dict(ref=ref, date=dt.date(2017, 4, 10), counsellor="李心怡", mode="individual", persons=(CHILD1,), unit_code="QJNU-PSY",
                  duration_min=40, topics=("亲子沟通",), risk_level="中", follow_up=dt.date(2017, 5, 10),
                  consent_by="王奶奶", consent_date=dt.date(2017, 4, 8), plan_name="qjnu-tuomu", note=NOTE)
    return Session(**(values | changes))


def test_migrations_build_the_declared_tables(store):
    """After init with the plugin, the database matches every declared table, the plugin's included (no autogenerate diff)."""
    assert {"psychology_sessions", "psychology_cases", "psychology_key"} <= set(sa.inspect(store.engine).get_table_names())
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), store.metadata) == []


def test_child_session_needs_consent(village, key):
    store, _plan = village
    with pytest.raises(ValidationError, match="consent"):
        record_session(store, child_session(consent_by=None, consent_date=None))
    with pytest.raises(ValidationError, match="not registered"):
        record_session(store, child_session(ref="S-2", persons=("530326199001011234",)))
    record_session(store, child_session())
    # An adult needs no consent.
    record_session(store, child_session(ref="S-3", persons=(ELDERLY[0],), consent_by=None, consent_date=None, mode="电话"))
    assert store.count("psychology_sessions") == 2


def test_note_encrypted_read_with_reason_and_audited(village, key):
    store, _plan = village
    record_session(store, child_session())
    with store.engine.connect() as conn:
        cipher = conn.execute(sa.text("SELECT note_cipher FROM psychology_sessions")).scalar_one()
    assert cipher.startswith("gAAAA") and NOTE not in cipher and key not in cipher

    for reason in (None, "", "   "):
        with pytest.raises(ValidationError, match="reason"):
            read_note(store, "S-1", reason)
    before = len(store.audit_entries(table="psychology_sessions"))
    assert read_note(store, "S-1", "回访前了解上次情况") == NOTE
    reads = [e for e in store.audit_entries(table="psychology_sessions") if e.operation == "read_note"]
    assert len(store.audit_entries(table="psychology_sessions")) == before + 1
    assert [(e.record_key, e.reason, e.user) for e in reads] == [("S-1", "回访前了解上次情况", "tester")]
    everything = json.dumps([[e.old, e.new, e.reason] for e in store.audit_entries()], ensure_ascii=False, default=str)
    assert NOTE not in everything and key not in everything and "gAAAA" not in everything
    with pytest.raises(NotFound):
        read_note(store, "S-404", "核对")


def test_note_needs_the_key_and_the_permission(village, key, monkeypatch):
    store, _plan = village
    record_session(store, child_session())
    store.add_user(User("QJNU-PSY", "clerk", ("department",)))
    clerk = store.acting_as(Actor("QJNU-PSY", "clerk"))
    with pytest.raises(AccessDenied, match="psychology.read"):
        read_note(clerk, "S-1", "好奇")
    monkeypatch.delenv("FUPIN_PSYCHOLOGY_KEY")
    with pytest.raises(NoteKeyError, match="FUPIN_PSYCHOLOGY_KEY"):
        read_note(store, "S-1", "回访")
    with pytest.raises(NoteKeyError):
        record_session(store, child_session(ref="S-9"))
    # Without a note, a session needs no key.
    record_session(store, child_session(ref="S-10", note=None))
    assert not [e for e in store.audit_entries() if e.operation == "read_note"]


def test_counsellor_role_reads_notes(village, key):
    """The packaged counsellor role (psychology.read over the plans of its unit) may read a note, with a reason."""
    store, _plan = village
    record_session(store, child_session())
    store.add_user(User("QJNU-PSY", "zhao", ("counsellor",)))
    counsellor = store.acting_as(Actor("QJNU-PSY", "zhao"))
    assert read_note(counsellor, "S-1", "转介前核对") == NOTE


def test_cases(village):
    store, _plan = village
    add_case(store, Case(ref="SW-1", household=household_no(1), worker="社工 陈晓", opened=dt.date(2016, 3, 1), status="open",
                         goals=("子女完成义务教育",), unit_code="QJNU-PSY", steps=("2016-03-05 入户评估",), plan_name="qjnu-tuomu"))
    with pytest.raises(ValidationError, match="household"):
        add_case(store, Case(ref="SW-2", household="NOPE", worker="w", opened=dt.date(2016, 3, 1), status="进行中",
                             goals=("g",), unit_code="QJNU-PSY"))
    with pytest.raises(ValidationError, match="closing date"):
        Case(ref="SW-3", household=household_no(1), worker="w", opened=dt.date(2016, 3, 1), status="已结案", goals=("g",), unit_code="QJNU")
    assert store.count("psychology_cases") == 1


def test_small_cells():
    assert [small(n) for n in (0, 1, 4, 5, 17)] == ["0", "<5", "<5", "5", "17"]
    assert NOTE not in repr(child_session())
    assert CHILD2  # used by other tests
