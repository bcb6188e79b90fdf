"""Check benchmark: ``fupin check`` and ``fupin visits due`` against hand-written SQL, same database, same run.

Usage::

    python benchmarks/check_bench.py [--households 250000] [--visits-per-household 6] [--seed 1]
                                     [--repeat 3] [--db URL] [--postgres URL] [--workdir DIR] [--keep]

Set-up (timed only to be printed, never compared):

1. A synthetic province as import files (``fupin synth --output DIR``), loaded with
   ``fupin init`` and ``fupin import areas|households|persons`` (the real command line,
   as in import_bench.py): areas, households, persons, one status row per household.
2. A plan covering every village of the province: the packaged reference plan
   (``qjnu-tuomu.toml``) with its ``[[plan.villages]]`` replaced by the synthetic
   villages (codes and parents read from the ``areas`` table, with a profile) and its
   ``[cadres]`` head counts set to the cadres below; stored with ``Store.save_plan``.
   Its helping unit and 20 departments are stored with ``Store.add_unit``.
3. Written straight into the tables (executemany on SQLite, COPY on PostgreSQL): one
   cadre per 7 households (厅级 and 处级 in the plan's 14:34 proportion, 7 households
   each by the plan's quotas), household pairings (帮户, 重点帮扶/联系, mostly from
   2015-08-20; some later, some transferred, some ended, about 1% of households left
   unpaired), about ``--visits-per-household`` visits per paired household from
   2015-09 to 2019-12 (首轮走访, 回访, 送温暖, 电话; some first rounds late or missing, gaps
   of whole years; questionnaire answers with and without help needs), one village
   visit per village a year, the cadres of each visit, and exits (已脱贫(享受政策) from
   2016 to 2019 for about 90% of households, a few 返贫 the year after), with
   ``households.status`` brought up to date. Then ``ANALYZE``.

Timed, in this process, on one engine, ``--repeat`` rounds alternating fupin and the SQL (ABAB);
the ratio is the median of the rounds' ratios (the seconds printed are the best of each side):

* **fupin check**: ``check_plan(store, plan, 2016, as_of=2020-01-01)``, the library call
  behind ``fupin check --year 2016 --as-of 2020-01-01`` (in-process: no interpreter
  start-up, no printing).
* **SQL check**: hand-written SQL, as raw ``text()`` through the same engine, for the
  figures of the core targets that read the big tables, by the same rules as fupin: C07
  (cadres by rank), C08 (cadres at quota), C09 (households paired by kind), C10
  (campaign households, visited in the year: interviews by a cadre of the plan's units,
  for this plan, with the plan's household questionnaire, answers and record), C11
  (interview visits with the questionnaire of their scope, villages without the
  village questionnaire), C12 (campaign households classified), C13 (needs recorded,
  main causes, status changes), C15 (households with a development plan of the plan) and
  C37 (households and people ever poor, exited by the day); and of the installed
  plugins' targets that read the registry: C29 to C31 (eligible on the due day, paid on
  time, late, missing, amount), C27 (in-school students of poor households, paired,
  pairs with others, over-paired) and C21 (households registered poor, mastering one and
  two techniques); plus the number of evidence records of each. The other targets read
  only tables that are empty here (actions, diary, cases, the plugins' own records) and
  are left out of the baseline.
* **fupin due**: ``due_list(store, plan, as_of=2017-03-01)``, behind ``fupin visits due``.
* **SQL due**: one hand-written query for the same worklist, rows in the same order,
  with each household's current cadres.

The figures of both sides are compared after the first round; any difference is printed
as a MISMATCH line and the script exits with status 2 (the times would compare
different work). Peak memory: each part once more under ``tracemalloc`` (peak of the
Python heap during the call; not timed). The last line is ``key=value`` figures; see
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib.resources
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
import tomllib
import traceback
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_bench import PostgresDatabases, database_options, in_workdir, own_peak_mb  # noqa: E402  (a sibling script)

#: The ``fupin`` command line, run in a child process.
FUPIN = [sys.executable, "-c", "import sys; from fupin.cli import main; main(sys.argv[1:])"]
PLAN_NAME = "bench-province"
HELPING_UNIT = "QJNU"
DEPARTMENTS = 20
CHECK_YEAR = 2016
CHECK_AS_OF = dt.date(2020, 1, 1)
DUE_AS_OF = dt.date(2017, 3, 1)
PAIRED_ON = dt.date(2015, 8, 20)
HOUSEHOLD_LEVEL = "帮户"
KEY_HELP, CONTACT = "重点帮扶", "联系"
POOR = ("未脱贫", "返贫")
EXITED = ("已脱贫(享受政策)", "已脱贫(不再享受政策)")
#: Visit kinds as stored (index = the kind bits of a packed visit); 电话 does not count.
VISIT_KINDS = ("首轮走访", "回访", "送温暖", "电话")
HELP_NEEDS = ("产业", "就业", "技术", "资金", "住房", "教育", "医疗", "饮水", "道路", "其他")
FIRST_DAY = dt.date(2015, 1, 1).toordinal()


def packaged_forms(entries: Any, scope: str) -> list[str]:
    """``name@version`` of the packaged questionnaires of ``scope`` whose title or other title the plan names (all of the
    scope when it names none): read from the questionnaire files themselves, not from fupin's code."""
    folder = importlib.resources.files("fupin") / "data" / "questionnaires"
    wanted = None if entries is None else {t for e in entries if e.get("scope") == scope for t in (e.get("title_zh"), e.get("also_zh")) if t}
    out = []
    for item in folder.iterdir():
        if item.name.endswith(".toml"):
            q = tomllib.loads(item.read_text(encoding="utf-8"))["questionnaire"]
            if q["scope"] == scope and (wanted is None or wanted & {q["title_zh"], *q.get("also_zh", [])}):
                out.append(f"{q['name']}@{q['version']}")
    return sorted(out)


def iso(day: dt.date) -> str:
    return day.isoformat()


# -- set-up: registry through the command line --------------------------------------------


def fupin(*args: str) -> None:
    """Run the ``fupin`` command line in a child process; stop on failure."""
    proc = subprocess.run([*FUPIN, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise SystemExit(f"check_bench: `fupin {' '.join(args)}` failed (exit {proc.returncode}):\n{tail}")


def synthesize(directory: Path, households: int, seed: int) -> float:
    start = time.perf_counter()
    fupin("synth", "--households", str(households), "--seed", str(seed), "--output", str(directory))
    return time.perf_counter() - start


def load_registry(url: str, files: Path) -> float:
    start = time.perf_counter()
    fupin("--db", url, "init")
    for kind in ("areas", "households", "persons"):
        fupin("--db", url, "import", kind, str(files / f"{kind}.csv"))
    return time.perf_counter() - start


# -- set-up: the plan ------------------------------------------------------------------------


def toml_str(text: str) -> str:
    """A TOML basic string (a JSON string literal is one)."""
    return json.dumps(text, ensure_ascii=False)


def reference_plan() -> str:
    """The TOML text of the packaged reference plan."""
    return (importlib.resources.files("fupin") / "data" / "plans" / "qjnu-tuomu.toml").read_text(encoding="utf-8")


def plan_text(conn: sa.Connection, ranks: dict[str, int], households: int) -> str:
    """The reference plan with the synthetic villages and cadre head counts in place of its own."""
    source = reference_plan()
    reference = tomllib.loads(source)
    areas = {r.code: r for r in conn.execute(sa.text("SELECT code, name, level, parent_code FROM areas"))}
    per_village: dict[str, int] = {}
    for code, n in conn.execute(sa.text("SELECT substr(group_code, 1, 12), count(*) FROM households GROUP BY 1")):
        per_village[code] = n
    groups: dict[str, list[str]] = {}
    for a in sorted(areas.values(), key=lambda a: a.code):
        if a.level == "group":
            groups.setdefault(a.parent_code, []).append(a.name)
    out = []
    for code in sorted(c for c, a in areas.items() if a.level == "village"):
        parents, up = [], areas[code].parent_code
        while up is not None:
            parents.append(areas[up])
            up = areas[up].parent_code
        out += [
            "[[plan.villages]]",
            f"code = {toml_str(code)}",
            f"name_zh = {toml_str(areas[code].name)}",
            "parents = [",
            *(f"    {{ level = {toml_str(p.level)}, code = {toml_str(p.code)}, name_zh = {toml_str(p.name)} }}," for p in reversed(parents)),
            "]",
            "",
            "[plan.villages.profile]",
            "year = 2015",
            f"households = {per_village.get(code, 0)}",
            f"poor_households = {per_village.get(code, 0)}",
            f"villager_groups = [{', '.join(toml_str(g) for g in groups.get(code, []))}]",
            "",
        ]
    out += ["[cadres]", ""]
    key_help = contact = 0
    for r in reference["cadres"]["ranks"]:
        n = ranks.get(r["rank"], 0)
        key_help, contact = key_help + n * r["key_help"], contact + n * r["contact"]
        out += [
            "[[cadres.ranks]]",
            *(f"{k} = {toml_str(v) if isinstance(v, str) else v}" for k, v in {**r, "count": n}.items()),
            "",
        ]
    out += [
        "[cadres.stated]",
        f"total = {sum(ranks.values())}",
        f"visited = {households}",
        f"key_help = {key_help}",
        f"contact = {contact}",
        "",
    ]
    head = source[: source.index("\n[[plan.villages]]") + 1]
    head = head.replace('name = "qjnu-tuomu"', f"name = {toml_str(PLAN_NAME)}", 1)
    return head + "\n".join(out) + source[source.index("\n[[commitments]]") :]


# -- set-up: campaign records written straight into the tables ------------------------------------


class Campaign:
    """Cadres, pairings, visits and exits of a province, from a seed (same seed, same rows).

    Visits are kept packed in one int each (day, household or village, kind, answers
    variant, findings, second cadre) and sorted, so they are written in date order, as
    a database filled over the years holds them, without 1.5 million tuples in memory.
    """

    def __init__(self, households: Sequence[tuple[int, str]], villages: Sequence[str], per_household: int, seed: int,
                 quotas: dict[str, tuple[int, int]]):
        if len(households) >= 1 << 24:
            raise SystemExit("check_bench: at most 16,777,215 households (the packed visits hold a 24-bit index)")
        self.rng = random.Random(seed)
        self.households = households
        self.villages = villages
        n = -(-len(households) // 7)
        # 14 of every 48 cadres 厅级, the others 处级: the plan's proportion.
        self.ranks = ["厅级" if i % 48 < 14 else "处级" for i in range(n)]
        self.codes = [f"{HELPING_UNIT}-C{i + 1:06d}" for i in range(n)]
        self.quotas = quotas
        self.pairings: list[tuple] = []
        #: household index -> [(start ordinal, end ordinal, cadre index)] of its pairings.
        self.paired: dict[int, list[tuple[int, int, int]]] = {}
        self.status_rows: list[tuple] = []
        self.final_status: list[tuple[str, int]] = []
        self._pair()
        self._exits()
        self.visits = self._visits(per_household)

    def cadre_rows(self) -> Iterator[tuple]:
        for i, (code, rank) in enumerate(zip(self.codes, self.ranks, strict=True)):
            unit = f"{HELPING_UNIT}-D{i % DEPARTMENTS + 1:02d}"
            yield code, f"干部{i + 1}", unit, rank, "", "男" if i % 3 else "女", None

    def _pair(self) -> None:
        rng, big = self.rng, dt.date.max.toordinal()
        slots = []  # (cadre index, kind) in cadre order: each cadre's key-help places, then contact
        for c, rank in enumerate(self.ranks):
            k, n = self.quotas[rank]
            slots += [(c, KEY_HELP)] * k + [(c, CONTACT)] * n
        slot = 0
        pid = 0
        for idx, (hid, _group) in enumerate(self.households):
            if rng.random() < 0.01 or slot >= len(slots):
                continue  # unpaired (too few places or left out): C09 and C12 fall short
            cadre, kind = slots[slot]
            slot += 1
            start = PAIRED_ON if rng.random() < 0.97 else dt.date(2015, 9, 1) + dt.timedelta(days=rng.randrange(300))
            spans = []
            r = rng.random()
            if r < 0.04:  # transferred: ended the day before a new pairing with another cadre starts
                on = dt.date(2016, 1, 1) + dt.timedelta(days=rng.randrange(3 * 365))
                other = rng.randrange(len(self.codes))
                other = other if other != cadre else (other + 1) % len(self.codes)
                spans += [(start, on - dt.timedelta(days=1), cadre, "干部调整 / cadre changed"), (on, None, other, "")]
            elif r < 0.05:  # ended: the household moved away
                spans.append((start, dt.date(2016, 1, 1) + dt.timedelta(days=rng.randrange(3 * 365)), cadre, "户迁出 / moved away"))
            else:
                spans.append((start, None, cadre, ""))
            for s, e, c, reason in spans:
                pid += 1
                self.pairings.append((pid, HOUSEHOLD_LEVEL, self.codes[c], hid, kind, PLAN_NAME, iso(s), e and iso(e), reason))
            self.paired[idx] = [(s.toordinal(), e.toordinal() if e else big, c) for s, e, c, _ in spans]

    def _exits(self) -> None:
        rng = self.rng
        for hid, _group in self.households:
            r, status = rng.random(), "未脱贫"
            year = 2016 if r < 0.15 else 2017 if r < 0.35 else 2018 if r < 0.6 else 2019 if r < 0.9 else None
            if year is not None:
                day = dt.date(year, 10, 1) + dt.timedelta(days=rng.randrange(92))
                status = "已脱贫(享受政策)"
                self.status_rows.append((hid, status, iso(day), "脱贫 / exited"))
                if year < 2019 and rng.random() < 0.03:
                    status = "返贫"
                    self.status_rows.append((hid, status, iso(dt.date(year + 1, 3, 1) + dt.timedelta(days=rng.randrange(200))), "返贫 / back in poverty"))
            if status != "未脱贫":
                self.final_status.append((status, hid))

    def _visits(self, per_household: int) -> list[int]:
        """Packed visits: day << 32 | index << 8 | village << 7 | kind << 5 | variant << 2 | findings << 1 | second."""
        rng = self.rng
        out: list[int] = []
        first_end = dt.date(2015, 10, 31).toordinal()
        span_start, span_end = dt.date(2016, 1, 1).toordinal(), dt.date(2019, 12, 31).toordinal()

        def pack(day: int, index: int, village: int, kind: int) -> int:
            if kind == 3:  # a phone call: no questionnaire
                variant = 0
            else:
                r = rng.random()
                variant = 1 if r < 0.4 else 2 if r < 0.5 else 3 if r < 0.7 else 4 if r < 0.75 else 0
            findings = 1 if rng.random() < 0.85 else 0
            second = 1 if rng.random() < 0.1 else 0
            return (day - FIRST_DAY) << 32 | index << 8 | village << 7 | kind << 5 | variant << 2 | findings << 1 | second

        # Visits per paired household drawn around a mean that gives per_household x households in all.
        mean = per_household * len(self.households) / max(len(self.paired), 1)
        for idx, spans in self.paired.items():
            start = spans[0][0]
            count = max(1, int(mean - 2 + 5 * rng.random()))
            r = rng.random()
            if r < 0.9:  # first round in time (within 30 days if paired after the round began)
                lo = max(start, dt.date(2015, 9, 1).toordinal())
                out.append(pack(rng.randint(lo, max(first_end, lo + 30)), idx, 0, 0))
                count -= 1
            elif r < 0.95:  # first round late
                lo = max(start, first_end + 1)
                out.append(pack(rng.randint(lo, lo + 60), idx, 0, 0))
                count -= 1
            skip_year = rng.choice((2016, 2017)) if rng.random() < 0.05 else None  # a neglected year
            for _ in range(count):
                day = rng.randint(max(start, span_start), span_end)
                if skip_year is not None and dt.date.fromordinal(day).year == skip_year:
                    day += 365  # moved to the next year: that one is left without a visit
                k = rng.random()
                out.append(pack(day, idx, 0, 1 if k < 0.55 else 2 if k < 0.75 else 3))
        for v in range(len(self.villages)):
            for year in range(2016, 2020):
                out.append(pack(dt.date(year, 6, 1).toordinal() + rng.randrange(150), v, 1, 1))
        out.sort()
        return out

    def cadre_on(self, index: int, day: int) -> int:
        spans = self.paired[index]
        for s, e, c in spans:
            if s <= day <= e:
                return c
        return spans[-1][2] if day > spans[-1][0] else spans[0][2]

    def visit_rows(self) -> Iterator[tuple[tuple, list[tuple[int, str]]]]:
        """(visit row, its visit_cadres rows), in date order, ids 1, 2, ..."""
        rng = random.Random(len(self.visits))
        for vid, packed in enumerate(self.visits, start=1):
            day = (packed >> 32) + FIRST_DAY
            index = packed >> 8 & 0xFFFFFF
            village, kind = packed >> 7 & 1, packed >> 5 & 3
            variant, findings, second = packed >> 2 & 7, packed >> 1 & 1, packed & 1
            if village:
                household_id, village_code, questionnaire = None, self.villages[index], "yunnan-village@1"
                cadre = rng.randrange(len(self.codes))
                answers = {"road_hardened": True} if variant in (1, 2, 3) else None
            else:
                household_id, village_code, questionnaire = self.households[index][0], None, "yunnan-household@1"
                cadre = self.cadre_on(index, day)
                answers = None
                if variant == 1:
                    answers = {"help_needs": rng.sample(HELP_NEEDS, rng.randint(1, 2)), "housing_safe": True}
                elif variant == 2:
                    answers = {"help_needs": [], "housing_safe": True}
                elif variant == 3:
                    answers = {"food_clothing_ok": True, "safe_water_ok": rng.random() < 0.8}
            row = (
                vid, f"V-{vid:08d}", iso(dt.date.fromordinal(day)), VISIT_KINDS[kind], household_id, village_code, PLAN_NAME,
                questionnaire if variant else None, json.dumps(answers) if answers is not None else None,
                "已走访, 了解生产生活情况 / visited" if findings else "",
            )
            cadres = [(vid, self.codes[cadre])]
            if second:
                other = rng.randrange(len(self.codes))
                if other != cadre:
                    cadres.append((vid, self.codes[other]))
            yield row, cadres


CADRE_COLUMNS = "code, name, unit_code, rank, title, sex, phone"
PAIRING_COLUMNS = "id, level, cadre_code, household_id, kind, plan_name, start_date, end_date, end_reason"
VISIT_COLUMNS = "id, ref, visit_date, kind, household_id, village_code, plan_name, questionnaire, answers, findings"
STATUS_COLUMNS = "household_id, status, effective, reason"


def visit_batches(campaign: Campaign, size: int = 50_000) -> Iterator[tuple[list[tuple], list[tuple]]]:
    """The visits and their visit_cadres rows, ``size`` visits at a time."""
    visits: list[tuple] = []
    cadres: list[tuple] = []
    for row, helpers in campaign.visit_rows():
        visits.append(row)
        cadres += helpers
        if len(visits) == size:
            yield visits, cadres
            visits, cadres = [], []
    if visits:
        yield visits, cadres


def write_campaign(engine: sa.Engine, campaign: Campaign) -> dict[str, int]:
    """Write cadres, pairings, visits, visit cadres and exits in one transaction, then ANALYZE (no fupin code involved)."""
    counts = {"cadres": len(campaign.codes), "pairings": len(campaign.pairings), "visits": 0, "visit_cadres": 0,
              "status_rows": len(campaign.status_rows)}
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        if engine.dialect.name == "sqlite":
            def insert(table: str, columns: str, rows: Any) -> None:
                conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' for _ in columns.split(','))})", rows)

            conn.execute("BEGIN")  # the engine's connections leave transactions to the caller
            insert("cadres", CADRE_COLUMNS, campaign.cadre_rows())
            insert("pairings", PAIRING_COLUMNS, campaign.pairings)
            for visits, cadres in visit_batches(campaign):
                insert("visits", VISIT_COLUMNS, visits)
                insert("visit_cadres", "visit_id, cadre_code", cadres)
                counts["visits"] += len(visits)
                counts["visit_cadres"] += len(cadres)
            insert("household_status", STATUS_COLUMNS, campaign.status_rows)
            conn.executemany("UPDATE households SET status = ? WHERE id = ?", campaign.final_status)
            conn.execute("COMMIT")
            conn.execute("ANALYZE")
        else:
            with conn.cursor() as cur:
                copy(cur, "cadres", CADRE_COLUMNS, campaign.cadre_rows())
                copy(cur, "pairings", PAIRING_COLUMNS, campaign.pairings)
                for visits, cadres in visit_batches(campaign):
                    copy(cur, "visits", VISIT_COLUMNS, visits)
                    copy(cur, "visit_cadres", "visit_id, cadre_code", cadres)
                    counts["visits"] += len(visits)
                    counts["visit_cadres"] += len(cadres)
                copy(cur, "household_status", STATUS_COLUMNS, campaign.status_rows)
                cur.executemany("UPDATE households SET status = %s WHERE id = %s", campaign.final_status)
                # Ids were given explicitly: move the sequences past them.
                for table, n in (("pairings", len(campaign.pairings)), ("visits", counts["visits"])):
                    cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", (max(n, 1),))
            conn.commit()
            conn.autocommit = True  # ANALYZE of the whole database, outside a transaction block
            conn.execute("ANALYZE")
            conn.autocommit = False
    finally:
        raw.close()
    return counts


def copy(cur: Any, table: str, columns: str, rows: Any) -> None:
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)


def build(url: str, files: Path, args: argparse.Namespace) -> tuple[Any, Any, dict[str, int]]:
    """A database with the province, plan and campaign; returns the store, the plan and row counts."""
    from fupin import Actor
    from fupin.model import Unit
    from fupin.plans import Plan
    from fupin.store import Actor, Store

    with Store.open(url, actor=Actor.from_env()) as existing:
        if not existing.is_empty():
            raise SystemExit(f"check_bench: {existing.url} is not empty; give an empty database (or none: a temp SQLite file)")
    seconds = load_registry(url, files)
    print(f"registry: fupin init + fupin import areas, households, persons in {seconds:.1f} s", flush=True)
    start = time.perf_counter()
    store = Store.open(url, actor=Actor.from_env())
    store.add_unit(Unit(HELPING_UNIT, "曲靖师范学院", "高校"))
    for d in range(DEPARTMENTS):
        store.add_unit(Unit(f"{HELPING_UNIT}-D{d + 1:02d}", f"部门{d + 1}", "院系部门", HELPING_UNIT))
    with store.engine.connect() as conn:
        households = [tuple(r) for r in conn.execute(sa.text("SELECT id, group_code FROM households ORDER BY id"))]
        villages = list(conn.execute(sa.text("SELECT code FROM areas WHERE level = 'village' ORDER BY code")).scalars())
    reference = tomllib.loads(reference_plan())
    quotas = {r["rank"]: (r["key_help"], r["contact"]) for r in reference["cadres"]["ranks"]}
    campaign = Campaign(households, villages, args.visits_per_household, args.seed, quotas)
    ranks = {r: campaign.ranks.count(r) for r in quotas}
    with store.engine.connect() as conn:
        text = plan_text(conn, ranks, len(households))
    plan = Plan.from_toml(text, source="check_bench")
    store.save_plan(plan)
    generated = time.perf_counter() - start
    counts = write_campaign(store.engine, campaign)
    counts["households"] = len(households)
    print(
        f"campaign: {counts['cadres']:,} cadres, {counts['pairings']:,} pairings, {counts['visits']:,} visits "
        f"({counts['visit_cadres']:,} visit cadres), {counts['status_rows']:,} status changes, plan of {len(plan.villages)} villages "
        f"in {time.perf_counter() - start:.1f} s (generating {generated:.1f} s; ANALYZE included)",
        flush=True,
    )
    store._refresh_access()  # units and plans changed under the access cache
    return store, plan, counts


# -- the hand-written SQL -----------------------------------------------------------------------------

#: Fragments that differ between SQLite and PostgreSQL.
DIALECT = {
    "sqlite": {
        "answers": "v.answers IS NOT NULL AND v.answers NOT IN ('null', '{}')",
        "needs": "json_array_length(v.answers, '$.help_needs') > 0",
        "plus_days": "date(d.paired_from, '+' || :first_visit_days || ' days')",
        "days_between": "CAST(julianday({a}) - julianday({b}) AS INTEGER)",
        "year_end_after": "(CAST(substr({d}, 1, 4) AS INTEGER) + 1) || '-12-31'",
        "greatest": "max",
        "concat": "group_concat({x}, ',')",
        "cadres": "(SELECT group_concat(cadre_code, ',') FROM (SELECT p.cadre_code FROM pairings p WHERE {where} ORDER BY p.cadre_code))",
        "detail": "json_extract(a.details, '$.{name}')",
        "hours": "coalesce(CAST(json_extract(a.quantities, '$.hours') AS REAL), 0.0)",
    },
    "postgresql": {
        "answers": "v.answers IS NOT NULL AND v.answers::text NOT IN ('null', '{}')",
        "needs": "CASE WHEN json_typeof(v.answers -> 'help_needs') = 'array' THEN json_array_length(v.answers -> 'help_needs') ELSE 0 END > 0",
        "plus_days": "d.paired_from + CAST(:first_visit_days AS INTEGER)",
        "days_between": "({a} - {b})",
        "year_end_after": "make_date(CAST(extract(year FROM {d}) AS INTEGER) + 1, 12, 31)",
        "greatest": "greatest",
        "concat": "string_agg({x}, ',')",
        "cadres": "(SELECT string_agg(p.cadre_code, ',' ORDER BY p.cadre_code) FROM pairings p WHERE {where})",
        "detail": "(a.details ->> '{name}')",
        "hours": "coalesce(CAST(a.quantities ->> 'hours' AS FLOAT), 0.0)",
    },
}

IN_PLAN = "JOIN plan_villages pv ON pv.plan_name = :plan AND pv.village_code = substr(h.group_code, 1, 12)"
TREE = """tree(code) AS (
    SELECT code FROM units WHERE code = :unit
    UNION
    SELECT u.code FROM units u JOIN tree t ON u.parent_code = t.code)"""
#: A pairing of the plan: naming it or no plan, with a cadre of its units (another plan's pairings never count).
OURS = ("(p.plan_name IS NULL OR p.plan_name = :plan) "
        "AND EXISTS (SELECT 1 FROM cadres c WHERE c.code = p.cadre_code AND c.unit_code IN (SELECT code FROM tree))")
#: A visit of the plan: naming it or no plan, made by at least one cadre of its units.
VISIT_OURS = """(v.plan_name IS NULL OR v.plan_name = :plan) AND EXISTS (
        SELECT 1 FROM visit_cadres vc JOIN cadres c ON c.code = vc.cadre_code
        WHERE vc.visit_id = v.id AND c.unit_code IN (SELECT code FROM tree))"""
HELD = f"""held AS (
    SELECT p.id, p.cadre_code, p.household_id, p.kind
    FROM pairings p JOIN households h ON h.id = p.household_id {IN_PLAN}
    WHERE p.level = '帮户' AND {OURS} AND p.start_date <= :day AND (p.end_date IS NULL OR p.end_date >= :day))"""
#: Each household's status on :day: its row with no later one up to the day (on PostgreSQL half the time of
#: ``row_number() OVER (PARTITION BY household_id ORDER BY effective DESC, id DESC) = 1``, on SQLite a little less).
STATUS_ON = """st AS (
    SELECT s.household_id, s.status FROM household_status s
    WHERE s.effective <= :day AND NOT EXISTS (
        SELECT 1 FROM household_status l WHERE l.household_id = s.household_id AND l.effective <= :day
          AND (l.effective > s.effective OR (l.effective = s.effective AND l.id > s.id))))"""
CAMP = f"""camp AS (
    SELECT DISTINCT p.household_id FROM pairings p JOIN households h ON h.id = p.household_id {IN_PLAN}
    WHERE p.level = '帮户' AND {OURS} AND p.start_date <= :ye AND (p.end_date IS NULL OR p.end_date >= :ys))"""

C07 = f"""WITH RECURSIVE {TREE}
SELECT c.rank, count(*) FROM cadres c
WHERE c.unit_code IN (SELECT code FROM tree)
  AND EXISTS (SELECT 1 FROM pairings p WHERE p.cadre_code = c.code AND p.level = '帮户'
              AND p.start_date <= :ye AND (p.end_date IS NULL OR p.end_date >= :ys))
GROUP BY c.rank"""

C08 = f"""WITH RECURSIVE {TREE},
quota(rank, key_help, contact) AS (VALUES {{quotas}}),
{HELD},
per AS (
    SELECT cadre_code, sum(CASE WHEN kind = '重点帮扶' THEN 1 ELSE 0 END) AS k,
           sum(CASE WHEN kind = '联系' THEN 1 ELSE 0 END) AS c, count(*) AS n
    FROM held GROUP BY cadre_code)
SELECT count(*), coalesce(sum(CASE WHEN per.k = q.key_help AND per.c = q.contact THEN 1 ELSE 0 END), 0), coalesce(sum(per.n), 0)
FROM cadres c JOIN quota q ON q.rank = c.rank JOIN per ON per.cadre_code = c.code
WHERE c.unit_code IN (SELECT code FROM tree)"""

C09 = f"""WITH RECURSIVE {TREE},
{HELD}
SELECT count(DISTINCT household_id),
       count(DISTINCT CASE WHEN kind = '重点帮扶' THEN household_id END),
       count(DISTINCT CASE WHEN kind = '联系' THEN household_id END),
       count(*)
FROM held"""

#: A household visit with C11's form: a household questionnaire the plan names, answers, a record (if asked).
FORM = "v.questionnaire IN :household_forms AND {answers}{record}"
C10_C13_C15 = f"""WITH RECURSIVE {TREE},
{CAMP},
yv AS (
    SELECT v.household_id, sum(CASE WHEN v.kind IN :kinds AND {{form}} THEN 1 ELSE 0 END) AS n,
           max(CASE WHEN {{form}} AND {{needs}} THEN 1 ELSE 0 END) AS needs
    FROM visits v JOIN camp ON camp.household_id = v.household_id
    WHERE v.visit_date >= :ys AND v.visit_date <= :ye AND {VISIT_OURS}
    GROUP BY v.household_id),
dev AS (
    SELECT a.id FROM support_actions a
    WHERE a.kind = 'core.development_plan' AND a.start_date >= :period_start AND a.start_date <= :ye AND a.end_date >= :ys
      AND (a.plan_name = :plan OR (a.plan_name IS NULL AND a.unit_code IN (SELECT code FROM tree))))
SELECT (SELECT count(*) FROM camp),
       (SELECT count(*) FROM yv WHERE n >= :per_year),
       (SELECT coalesce(sum(n), 0) FROM yv WHERE n >= :per_year),
       (SELECT count(*) FROM yv WHERE needs = 1),
       (SELECT count(*) FROM camp JOIN households h ON h.id = camp.household_id WHERE h.main_cause <> ''),
       (SELECT count(*) FROM household_status s JOIN camp ON camp.household_id = s.household_id
        WHERE s.effective >= :ys AND s.effective <= :ye),
       (SELECT count(*) FROM camp JOIN households h ON h.id = camp.household_id
        WHERE h.number IN (SELECT b.ref FROM action_beneficiaries b JOIN dev ON dev.id = b.action_id WHERE b.type = 'household')),
       (SELECT count(DISTINCT b.action_id) FROM action_beneficiaries b JOIN dev ON dev.id = b.action_id
        JOIN plan_villages pv ON pv.plan_name = :plan AND pv.village_code = b.ref WHERE b.type = 'village')"""

C11 = f"""WITH RECURSIVE {TREE},
iv AS (
    SELECT v.village_code,
           CASE WHEN v.household_id IS NOT NULL THEN v.questionnaire IN :household_forms
                ELSE v.questionnaire IN :village_forms END AND {{answers}}{{record}} AS good
    FROM visits v LEFT JOIN households h ON h.id = v.household_id
    WHERE v.visit_date >= :ys AND v.visit_date <= :ye AND v.kind IN :interview_kinds AND {VISIT_OURS}
      AND ((v.household_id IS NOT NULL AND substr(h.group_code, 1, 12) IN (SELECT village_code FROM plan_villages WHERE plan_name = :plan))
           OR (v.household_id IS NULL AND v.village_code IN (SELECT village_code FROM plan_villages WHERE plan_name = :plan))))
SELECT count(*), coalesce(sum(CASE WHEN good THEN 1 ELSE 0 END), 0),
       (SELECT {{concat}} FROM plan_villages pv WHERE pv.plan_name = :plan
        AND pv.village_code NOT IN (SELECT village_code FROM iv WHERE good AND village_code IS NOT NULL))
FROM iv"""

C12 = f"""WITH RECURSIVE {TREE},
{CAMP}
SELECT count(DISTINCT camp.household_id), count(DISTINCT p.household_id), count(p.household_id)
FROM camp LEFT JOIN pairings p ON p.household_id = camp.household_id AND p.level = '帮户' AND {OURS}
    AND p.start_date <= :ye AND (p.end_date IS NULL OR p.end_date >= :ys) AND p.kind IN :classes"""

C37 = f"""WITH {STATUS_ON},
r AS (
    SELECT h.id, CASE WHEN st.status IN :exited THEN 1 ELSE 0 END AS ex
    FROM households h {IN_PLAN} JOIN st ON st.household_id = h.id
    WHERE h.id IN (SELECT household_id FROM household_status WHERE status IN :poor AND effective <= :by))
SELECT count(*), coalesce(sum(ex), 0), coalesce(sum(n), 0), coalesce(sum(ex * n), 0)
FROM (SELECT r.ex, (SELECT count(*) FROM persons p WHERE p.household_id = r.id) AS n FROM r) x"""

# -- the plugins' targets that read the registry (persons, households, their status) --------------

TAGGED = """SELECT t.person_id FROM person_tags t WHERE t.tag = {tag} AND t.start <= :day AND (t."end" IS NULL OR t."end" >= :day)"""

#: C29 to C31: the eligible ({owed}: one row per key) against the programme's payments of the year out of the
#: plan's funds (its own: of its units and naming it; or shared with it), naming no other plan, dated from
#: :earliest to :day; on time when those add up to :least.
AID = """WITH RECURSIVE {TREE},
{status}owed AS ({owed}),
funds AS (
    SELECT f.code FROM funding_funds f WHERE f.plan_name = :plan AND f.owner_unit IN (SELECT code FROM tree)
    UNION SELECT s.fund_code FROM funding_shares s WHERE s.plan_name = :plan AND s.fund_code IS NOT NULL),
per AS (
    SELECT {key} AS k, sum(CASE WHEN e.entry_date BETWEEN :earliest AND :day THEN 1 ELSE 0 END) AS inside,
           sum(CASE WHEN e.entry_date BETWEEN :earliest AND :day THEN e.amount_fen ELSE 0 END) AS amount,
           sum(CASE WHEN e.entry_date > :day THEN 1 ELSE 0 END) AS late, sum(CASE WHEN e.entry_date < :earliest THEN 1 ELSE 0 END) AS early
    FROM funding_entries e WHERE e.flow = 'aid' AND e.programme = :programme AND e.aid_year = :year
      AND e.fund_code IN (SELECT code FROM funds) AND (e.plan_name IS NULL OR e.plan_name = :plan)
    GROUP BY {key})
SELECT count(*), coalesce(sum(CASE WHEN per.amount >= :least THEN 1 ELSE 0 END), 0), count(per.k),
       coalesce(sum(CASE WHEN per.amount >= :least THEN per.amount ELSE 0 END), 0),
       coalesce(sum(CASE WHEN per.amount >= :least THEN per.inside ELSE 0 END), 0),
       coalesce(sum(CASE WHEN per.amount > 0 AND per.amount < :least THEN 1 ELSE 0 END), 0),
       coalesce(sum(CASE WHEN per.amount = 0 AND per.late > 0 THEN 1 ELSE 0 END), 0),
       coalesce(sum(CASE WHEN per.amount = 0 AND per.late = 0 AND per.early > 0 THEN 1 ELSE 0 END), 0)
FROM owed LEFT JOIN per ON per.k = owed.k"""

STUDENTS_OWED = f"""SELECT p.id_number AS k FROM persons p JOIN households h ON h.id = p.household_id {IN_PLAN}
    JOIN st ON st.household_id = h.id
    WHERE st.status IN :aid_poor
      AND ((p.student_status IS NOT NULL AND p.student_status NOT IN :aid_not_in_school)
           OR p.id IN ({TAGGED.format(tag=":student_tag")}))"""

ELDERS_OWED = f"""SELECT p.id_number AS k FROM persons p JOIN households h ON h.id = p.household_id {IN_PLAN}
    WHERE p.id IN ({TAGGED.format(tag=":elder_tag")})"""

FOSTER_OWED = f"""SELECT DISTINCT h.number AS k FROM households h {IN_PLAN}
    JOIN funding_foster_homes fh ON fh.household = h.number
    WHERE fh.start <= :day AND (fh."end" IS NULL OR fh."end" >= :day)
      AND fh.elder IN (SELECT p.id_number FROM persons p WHERE p.id IN ({TAGGED.format(tag=":elder_tag")}))"""

#: C27: in-school students of households poor on :day against the study pairs in force during the year.
C27 = f"""WITH RECURSIVE {TREE},
{STATUS_ON},
students AS (
    SELECT p.id_number FROM persons p JOIN households h ON h.id = p.household_id {IN_PLAN}
    JOIN st ON st.household_id = h.id
    WHERE st.status IN :edu_poor AND p.student_status IS NOT NULL AND p.student_status NOT IN :edu_not_in_school),
pairs AS (
    SELECT b.ref AS id_number FROM support_actions a JOIN action_beneficiaries b ON b.action_id = a.id AND b.type = 'person'
    WHERE a.kind = 'education.study_pair' AND a.plan_name = :plan AND a.unit_code IN (SELECT code FROM tree)
      AND a.start_date <= :pair_starts_by AND a.end_date >= :pair_ends_from AND {{pair_days}} + 1 >= :pair_min_days),
per AS (SELECT id_number, count(*) AS n FROM pairs GROUP BY id_number)
SELECT count(*), count(per.id_number), coalesce(sum(per.n), 0), (SELECT count(*) FROM pairs),
       (SELECT count(*) FROM per WHERE n > :per_student)
FROM students LEFT JOIN per ON per.id_number = students.id_number"""

#: C21: techniques a person masters by :day (a passed assessment, or enough hours of its sessions).
SKILLS = """skills AS (
    SELECT b.ref AS person, {technique} AS technique, 'hours' AS how
    FROM support_actions a JOIN action_beneficiaries b ON b.action_id = a.id
    WHERE a.kind = 'training.agri_session' AND a.start_date <= :day AND b.type = 'person' AND {mine}
    GROUP BY b.ref, {technique} HAVING sum({hours}) >= :skill_hours
    UNION ALL
    SELECT b.ref, {technique}, 'assessment'
    FROM support_actions a JOIN action_beneficiaries b ON b.action_id = a.id
    WHERE a.kind = 'training.skill_assessment' AND a.start_date <= :day AND b.type = 'person' AND {result} = 'pass' AND {mine}),
counted AS (
    SELECT h.id FROM households h {in_plan}
    WHERE h.id IN (SELECT household_id FROM household_status WHERE effective <= :day AND status IN :poor))"""

C21 = """WITH {skills},
hsk AS (
    SELECT p.household_id, count(DISTINCT s.technique) AS n FROM skills s JOIN persons p ON p.id_number = s.person
    GROUP BY p.household_id)
SELECT count(*), coalesce(sum(CASE WHEN hsk.n >= 1 THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN hsk.n >= 2 THEN 1 ELSE 0 END), 0)
FROM counted LEFT JOIN hsk ON hsk.household_id = counted.id"""

#: C21's evidence (asked only when a household masters something): the assessments and sessions behind the skills.
C21_EVIDENCE = """WITH {skills},
members AS (SELECT p.id_number FROM persons p WHERE p.household_id IN (SELECT id FROM counted))
SELECT count(*) FROM (
    SELECT a.ref FROM support_actions a JOIN action_beneficiaries b ON b.action_id = a.id
    JOIN skills s ON s.person = b.ref AND s.technique = {technique} AND s.how = 'assessment'
    WHERE a.kind = 'training.skill_assessment' AND a.start_date <= :day AND b.type = 'person' AND {result} = 'pass'
      AND b.ref IN (SELECT id_number FROM members) AND {mine}
    UNION
    SELECT a.ref FROM support_actions a JOIN action_beneficiaries b ON b.action_id = a.id
    JOIN skills s ON s.person = b.ref AND s.technique = {technique} AND s.how = 'hours'
    WHERE a.kind = 'training.agri_session' AND a.start_date <= :day AND b.type = 'person'
      AND b.ref IN (SELECT id_number FROM members) AND {mine}) refs"""

DUE = """WITH RECURSIVE {tree},
camp AS (
    -- paired by the plan in the year so far; paired_from is the household's first such pairing (a transfer keeps it)
    SELECT p.household_id, min(p.start_date) AS paired_from
    FROM pairings p JOIN households h ON h.id = p.household_id {in_plan}
    WHERE p.level = '帮户' AND {ours} AND p.start_date <= :as_of
      AND EXISTS (SELECT 1 FROM pairings q WHERE q.household_id = p.household_id AND q.level = '帮户' AND {ours_q}
                  AND q.start_date <= :as_of AND (q.end_date IS NULL OR q.end_date >= :ys))
    GROUP BY p.household_id),
seen AS MATERIALIZED (
    SELECT camp.household_id, camp.paired_from,
           (SELECT max(v.visit_date) FROM visits v
            WHERE v.household_id = camp.household_id AND {counted} AND v.visit_date >= :round_start AND v.visit_date <= :as_of) AS last_visit,
           (SELECT count(*) FROM visits v
            WHERE v.household_id = camp.household_id AND {counted} AND v.visit_date >= :this_from AND v.visit_date <= :as_of) AS this_year,
           (SELECT count(*) FROM visits v
            WHERE v.household_id = camp.household_id AND {counted} AND v.visit_date >= :prev_from AND v.visit_date <= :prev_end) AS last_year
    FROM camp),
d AS (SELECT * FROM seen WHERE last_visit IS NULL OR this_year < :need_year),
due AS (
    SELECT d.household_id, d.last_visit, d.last_year,
           CASE WHEN d.last_visit IS NOT NULL THEN :year_end
                WHEN d.paired_from <= :first_round_by THEN :first_round_by
                ELSE {plus_days} END AS due_by
    FROM d),
graded AS (
    SELECT due.*,
           CASE WHEN due.last_visit IS NULL AND :as_of > due.due_by THEN 'overdue'
                WHEN due.last_visit IS NOT NULL AND due.last_year < :need_prev THEN 'overdue'
                ELSE 'due' END AS status
    FROM due),
listed AS (
    SELECT g.*,
           CASE WHEN g.status <> 'overdue' THEN 0
                WHEN g.last_visit IS NULL THEN {greatest}({days_due}, 0)
                WHEN {missed} < :prev_end THEN {greatest}({days_year}, 0)
                ELSE {greatest}({days_prev}, 0) END AS days_overdue
    FROM graded g)
SELECT h.number, h.head_name, h.group_code, l.status, l.due_by, l.last_visit, l.days_overdue, {cadres} AS cadres
FROM listed l JOIN households h ON h.id = l.household_id
ORDER BY CASE WHEN l.status = 'overdue' THEN 0 ELSE 1 END, l.days_overdue DESC, l.due_by, h.number"""


class HandWritten:
    """The baseline: the same figures and worklist by hand-written SQL text, run through the same engine."""

    def __init__(self, engine: sa.Engine, plan: Any, targets: set[str]):
        self.engine = engine
        self.plan = plan
        self.d = DIALECT[engine.dialect.name]
        self.sqlite = engine.dialect.name == "sqlite"
        campaign = next(c.params for c in plan.commitments if c.target == "core.visit_campaign")
        #: Interviews count (fupin's default: not 送温暖 gift visits, not calls).
        self.kinds = list(campaign.get("counts_as_visit", ("首轮走访", "回访")))
        self.per_year = int(campaign.get("revisit_per_year", 1))
        self.first_round_by = campaign["first_round_by"]
        self.first_visit_days = int(campaign.get("first_visit_days", 60))
        questionnaire = next((c.params for c in plan.commitments if c.target == "core.visit_questionnaire"), {})
        self.visit_record = bool(questionnaire.get("visit_record"))
        #: The visits C11 expects answers from (fupin's default: interviews, not 送温暖 gift visits), and C10's.
        self.interview_kinds = sorted(set(questionnaire.get("visit_kinds", ("首轮走访", "回访"))) | set(self.kinds))
        #: The questionnaires the plan names, by title: the packaged ones of each scope whose titles it gives.
        self.forms = {scope: packaged_forms(questionnaire.get("questionnaires"), scope) for scope in ("household", "village")}
        classification = next((c.params for c in plan.commitments if c.target == "core.household_classification"), {})
        classes = {"key_help": KEY_HELP, "contact": CONTACT}
        self.classes = [classes.get(k, k) for k in classification.get("kinds", ("key_help", "contact"))]
        exit_by = next((c.params for c in plan.commitments if c.target == "core.exit_by"), {})
        self.exit_by = exit_by.get("by", plan.period_end)
        quotas = [(r.rank, r.key_help, r.contact) for r in plan.cadres.ranks]
        values = ", ".join(f"(:qr{i}, {k}, {c})" for i, (_r, k, c) in enumerate(quotas))
        self.quota_params = {f"qr{i}": r for i, (r, _k, _c) in enumerate(quotas)}
        self.plugins = self.plugin_params(targets)
        expanding = ("kinds", "interview_kinds", "poor", "exited", "aid_poor", "aid_not_in_school", "edu_poor", "edu_not_in_school",
                     "household_forms", "village_forms", "classes")
        record = " AND v.findings <> ''" if self.visit_record else ""
        form = FORM.format(answers=self.d["answers"], record=record)
        self.sql = {
            name: sa.text(text).bindparams(*(sa.bindparam(p, expanding=True) for p in expanding if f":{p}" in text))
            for name, text in {
                "C07": C07,
                "C08": C08.replace("{quotas}", values),
                "C09": C09,
                "C10": C10_C13_C15.replace("{needs}", self.d["needs"]).replace("{form}", form),
                "C11": C11.format(answers=self.d["answers"], record=record, concat=self.d["concat"].format(x="pv.village_code")),
                "C12": C12,
                "C37": C37,
                "due": self.due_sql(),
                **self.plugin_sql(),
            }.items()
        }

    def plugin_params(self, targets: set[str]) -> dict[str, dict[str, Any]]:
        """Target -> its parameters, for the plugins' targets the plan names and an installed plugin provides.

        Read from the plan as the plugins read them (``[plugins.NAME]`` over their documented defaults).
        """
        plan, out = self.plan, {}
        named = {c.target: dict(c.params) for c in plan.commitments if c.target in targets}
        funding = {"poor_statuses": ["未脱贫", "返贫", "已脱贫(享受政策)"], "not_in_school": ["非在校生", "学前教育"], **plan.plugins.get("funding", {})}
        aid = {"aid_poor": list(funding["poor_statuses"]), "aid_not_in_school": list(funding["not_in_school"])}
        # The commitments' own parameters over the plugin's documented defaults (fupin_funding.aid.PARAMS, repeated here).
        defaults = {"study_aid": {"due": "08-31", "beneficiary_tag": "在校生", "min_amount_fen": 10_000, "window_days": 123},
                    "festival_support": {"before": "spring_festival", "beneficiary_tag": "孤寡老人", "min_amount_fen": 10_000, "window_days": 45},
                    "foster_reward": {"before": "spring_festival", "beneficiary_tag": "孤寡老人", "min_amount_fen": 10_000, "window_days": 45}}
        for target, programme in (("funding.study_aid", "study_aid"), ("funding.festival_visits", "festival_support"),
                                  ("funding.foster_family_reward", "foster_reward")):
            if target not in named:
                continue
            given = {**defaults[programme], **named[target]}
            if programme == "study_aid":
                month, day = (int(x) for x in str(given["due"]).split("-"))
                due = (lambda m, d: lambda year: dt.date(year, m, d))(month, day)
            else:
                due = (lambda event: lambda year: plan.calendar_date(event, year) - dt.timedelta(days=1))(str(given["before"]))
            tag = {"student_tag" if programme == "study_aid" else "elder_tag": given["beneficiary_tag"]}
            out[target] = {**aid, **tag, "programme": programme, "due": due, "least": max(int(given["min_amount_fen"]), 1),
                           "window": int(given["window_days"])}
        if "education.one_to_one_support" in named:
            # The commitment's parameters over the target's declared defaults (fupin_education.targets).
            education = {"poor_statuses": ["未脱贫", "返贫", "已脱贫(享受政策)"], "not_in_school": ["非在校生", "学前教育"],
                         "min_share": 1.0, "helpers_per_student": 1, "min_days": 1, **named["education.one_to_one_support"]}
            out["education.one_to_one_support"] = {
                "edu_poor": list(education["poor_statuses"]), "edu_not_in_school": list(education["not_in_school"]),
                "share": float(education["min_share"]), "per_student": int(education["helpers_per_student"]),
                "pair_min_days": int(education["min_days"]),
            }
        if "training.household_skills" in named:
            training = {"skill_hours": 8, "households": "registered", **named["training.household_skills"]}
            if training["households"] != "registered":
                raise SystemExit("check_bench: the SQL of C21 counts the households registered poor (households = \"registered\")")
            out["training.household_skills"] = {"skill_hours": float(training["skill_hours"]), "plan_start": self.day(plan.period_start)}
        return out

    def plugin_sql(self) -> dict[str, str]:
        """The statements of the plugins' targets in :attr:`plugins`."""
        d = self.d
        owed = {"funding.study_aid": (STATUS_ON + ",\n", STUDENTS_OWED, "e.person"),
                "funding.festival_visits": ("", ELDERS_OWED, "e.person"),
                "funding.foster_family_reward": ("", FOSTER_OWED, "e.household")}
        out = {target: AID.format(TREE=TREE, status=status, owed=query, key=key) for target, (status, query, key) in owed.items() if target in self.plugins}
        if "education.one_to_one_support" in self.plugins:
            out["C27"] = C27.format(pair_days=d["days_between"].format(a="a.end_date", b="a.start_date"))
        if "training.household_skills" in self.plugins:
            technique, result = d["detail"].format(name="technique"), d["detail"].format(name="result")
            # Only the plan's own sessions and assessments, from the plan's start (fupin_training.queries.plan_work).
            mine = "a.plan_name = :plan AND a.unit_code IN (SELECT code FROM tree) AND a.start_date >= :plan_start"
            skills = SKILLS.format(technique=technique, hours=d["hours"], result=result, in_plan=IN_PLAN, mine=mine)
            out["C21"] = "WITH RECURSIVE " + C21.format(skills=f"{TREE},\n{skills}").removeprefix("WITH ")
            out["C21 evidence"] = "WITH RECURSIVE " + C21_EVIDENCE.format(skills=f"{TREE},\n{skills}", technique=technique, result=result, mine=mine).removeprefix("WITH ")
        return out

    def day(self, value: dt.date) -> Any:
        """A date parameter: ISO text on SQLite (how SQLAlchemy stores dates there), a date on PostgreSQL."""
        return value.isoformat() if self.sqlite else value

    def due_sql(self) -> str:
        d = self.d
        where = ("p.household_id = l.household_id AND p.level = '帮户' AND p.start_date <= :as_of "
                 f"AND (p.end_date IS NULL OR p.end_date >= :as_of) AND {OURS}")
        form = FORM.format(answers=d["answers"], record=" AND v.findings <> ''" if self.visit_record else "")
        counted = f"v.kind IN :kinds AND {form} AND {VISIT_OURS}"
        missed = d["year_end_after"].format(d="g.last_visit")
        return DUE.format(
            tree=TREE, in_plan=IN_PLAN, ours=OURS, ours_q=OURS.replace("p.", "q."), counted=counted, plus_days=d["plus_days"],
            greatest=d["greatest"], missed=missed,
            days_due=d["days_between"].format(a=":as_of", b="g.due_by"),
            days_year=d["days_between"].format(a=":as_of", b=missed),
            days_prev=d["days_between"].format(a=":as_of", b=":prev_end"),
            cadres=d["cadres"].format(where=where),
        )

    def check(self, year: int, as_of: dt.date) -> dict[str, dict[str, Any]]:
        """Target name -> the figures check_plan reports for it (``evidence``: how many records prove it)."""
        ys = max(dt.date(year, 1, 1), self.plan.period_start)
        ye = min(dt.date(year, 12, 31), self.plan.period_end)
        day = min(ye, as_of)
        by = self.exit_by
        exit_day = min(by, day) if year <= by.year else by
        first_year = self.first_round_by.year
        p = {"plan": self.plan.name, "unit": self.plan.helping_unit.code, "ys": self.day(ys), "ye": self.day(ye),
             "day": self.day(day), "kinds": self.kinds, "interview_kinds": self.interview_kinds, "poor": list(POOR), "exited": list(EXITED),
             "per_year": 1 if year <= first_year else self.per_year, "by": self.day(by), "period_start": self.day(self.plan.period_start),
             "household_forms": self.forms["household"], "village_forms": self.forms["village"], "classes": self.classes,
             **self.quota_params}
        out: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            out["core.cadres_by_rank"] = {"actual_by_rank": {rank: n for rank, n in conn.execute(self.sql["C07"], p)}}
            cadres, at_quota, evidence = conn.execute(self.sql["C08"], p).one()
            out["core.pairing_quota"] = {"cadres": cadres, "cadres_at_quota": at_quota, "evidence": evidence}
            households, key_help, contact, evidence = conn.execute(self.sql["C09"], p).one()
            out["core.pairing_totals"] = {"households": households, "key_help": key_help, "contact": contact, "evidence": evidence}
            camp, visited, visits, needs, causes, changes, planned, village_plans = conn.execute(self.sql["C10"], p).one()
            out["core.visit_campaign"] = {"households": camp, "visited": visited, "paired_late": 0, "visited_late": 0, "evidence": visits}
            out["core.registration_data"] = {"households": camp, "with_needs": needs, "with_cause": causes, "status_changes": changes,
                                             "evidence": needs}
            out["core.exit_plans"] = {"households": camp, "household_plans": planned, "village_plans": village_plans}
            visits, good, without = conn.execute(self.sql["C11"], p).one()
            out["core.visit_questionnaire"] = {"visits": visits, "with_answers": good, "evidence": good,
                                               "villages_without": sorted(without.split(",")) if without else []}
            households, classified, evidence = conn.execute(self.sql["C12"], p).one()
            out["core.household_classification"] = {"households": households, "classified": classified, "evidence": evidence}
            households, exited, people, people_exited = conn.execute(self.sql["C37"], {**p, "day": self.day(exit_day)}).one()
            out["core.exit_by"] = {"households": households, "exited": exited, "people": people, "people_exited": people_exited, "evidence": exited}
            out.update(self.plugin_figures(conn, year, p))
        return out

    def plugin_figures(self, conn: sa.Connection, year: int, p: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The figures of the plugins' targets (``p``: the check's parameters)."""
        out: dict[str, dict[str, Any]] = {}
        for target, params in self.plugins.items():
            if not target.startswith("funding."):
                continue
            due = params["due"](year)
            if not self.plan.period_start <= due <= self.plan.period_end:
                out[target] = {}  # not yet due: no figures
                continue
            earliest = due - dt.timedelta(days=params["window"] - 1)
            values = {**p, **{k: v for k, v in params.items() if k not in ("due", "window")}, "year": year, "day": self.day(due),
                      "earliest": self.day(earliest)}
            owed, on_time, paid, amount, evidence, short, late, early = conn.execute(self.sql[target], values).one()
            out[target] = {"eligible": owed, "paid_on_time": on_time, "paid_late": late, "paid_short": short, "paid_early": early,
                           "missing": owed - on_time - short - late - early, "amount_fen": int(amount), "evidence": evidence}
        if "education.one_to_one_support" in self.plugins:
            params = self.plugins["education.one_to_one_support"]
            ys, ye = max(dt.date(year, 1, 1), self.plan.period_start), min(dt.date(year, 12, 31), self.plan.period_end)
            days = dt.timedelta(days=params["pair_min_days"] - 1)  # in force >= min_days of the year
            window = {"pair_starts_by": self.day(ye - days), "pair_ends_from": self.day(ys + days)}
            students, paired, counted, pairs, crowded = conn.execute(self.sql["C27"], {**p, **params, **window}).one()
            out["education.one_to_one_support"] = {
                "students": students, "paired": paired, "required_students": math.ceil(params["share"] * students),
                "not_counted": pairs - counted, "over_paired": crowded, "evidence": counted,
            }
        if "training.household_skills" in self.plugins:
            values = {**p, **self.plugins["training.household_skills"]}
            households, one, two = conn.execute(self.sql["C21"], values).one()
            evidence = conn.execute(self.sql["C21 evidence"], values).scalar_one() if one else 0
            out["training.household_skills"] = {"households": households, "with_min": one, "with_max": two,
                                                "without": households - one, "evidence": evidence}
        return out

    def due(self, as_of: dt.date) -> list[tuple]:
        """The worklist rows: number, head, group, status, due by, last visit, days overdue, cadres (text)."""
        year, first_year, start = as_of.year, self.first_round_by.year, self.plan.period_start
        need = lambda y: 1 if y <= first_year else self.per_year  # noqa: E731  (the first round needs one visit)
        p = {"plan": self.plan.name, "unit": self.plan.helping_unit.code, "as_of": self.day(as_of), "ys": self.day(dt.date(year, 1, 1)),
             "round_start": self.day(start), "this_from": self.day(max(start, dt.date(year, 1, 1))),
             "prev_from": self.day(max(start, dt.date(year - 1, 1, 1))), "prev_end": self.day(dt.date(year - 1, 12, 31)),
             "year_end": self.day(dt.date(year, 12, 31)), "need_year": need(year), "need_prev": need(year - 1),
             "household_forms": self.forms["household"], "first_round_by": self.day(self.first_round_by),
             "first_visit_days": self.first_visit_days, "kinds": self.kinds}
        with self.engine.connect() as conn:
            return conn.execute(self.sql["due"], p).all()


# -- comparing the two sides ---------------------------------------------------------------------


def check_mismatches(results: Sequence[Any], expected: dict[str, dict[str, Any]]) -> list[str]:
    by_target = {r.target: r for r in results}
    problems = []
    for target, figures in expected.items():
        result = by_target.get(target)
        if result is None:
            problems.append(f"{target}: not in fupin's results")
            continue
        for key, want in figures.items():
            got = len(result.evidence) if key == "evidence" else result.figures.get(key)
            if got != want:
                problems.append(f"{result.commitment} {target} {key}: fupin {got!r}, SQL {want!r}")
    return problems


def as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def due_mismatches(items: Sequence[Any], rows: Sequence[Any]) -> list[str]:
    ours = [(i.household, i.head_name, i.group_code, i.status, i.due_by, i.last_visit, i.days_overdue, i.cadres) for i in items]
    theirs = [(r[0], r[1], r[2], r[3], as_date(r[4]), as_date(r[5]), int(r[6]), tuple(r[7].split(",")) if r[7] else ())
              for r in rows]
    problems = []
    if len(ours) != len(theirs):
        problems.append(f"due list length: fupin {len(ours)}, SQL {len(theirs)}")
    overdue = (sum(1 for x in ours if x[3] == "overdue"), sum(1 for x in theirs if x[3] == "overdue"))
    if overdue[0] != overdue[1]:
        problems.append(f"due list overdue: fupin {overdue[0]}, SQL {overdue[1]}")
    for n, (a, b) in enumerate(zip(ours, theirs)):
        if a != b:
            problems.append(f"due list row {n}: fupin {a}, SQL {b}")
            break
    return problems


# -- timing --------------------------------------------------------------------------------------


@dataclasses.dataclass
class Comparison:
    """fupin's call against the hand-written SQL for the same output, with how to compare the outputs."""

    name: str
    fupin: Callable[[], Any]
    sql: Callable[[], Any]
    compare: Callable[[Any, Any], list[str]]
    describe: Callable[[Any, list[str]], None]
    best: dict[str, float] = dataclasses.field(default_factory=lambda: {"fupin": float("inf"), "sql": float("inf")})
    failed: str = ""  # why fupin's call raised
    mismatches: list[str] = dataclasses.field(default_factory=list)
    pair_ratios: list[float] = dataclasses.field(default_factory=list)  # fupin over SQL, round by round (ABAB)

    @property
    def ratio(self) -> float | None:
        """The median of the rounds' ratios, fupin's time over the SQL's just after it; None when they cannot be compared."""
        if self.failed or self.mismatches or not self.pair_ratios:
            return None
        return statistics.median(self.pair_ratios)


def failure(exc: BaseException) -> str:
    """An exception in one line, with the innermost line of fupin it came from."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f"{os.sep}fupin{os.sep}" in f.filename]
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:300]}{where}"


def timed(part: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = part()
    return time.perf_counter() - start, out


def run_rounds(label: str, repeat: int, comparisons: list[Comparison]) -> None:
    """``repeat`` rounds; each round runs fupin then the SQL of every comparison still standing.

    The outputs of the first round are compared; a comparison whose outputs differ, or
    whose fupin call raises, is dropped (its ratio is NA).
    """
    for round_no in range(repeat):
        times = []
        for c in comparisons:
            if c.mismatches:
                continue
            if c.failed:  # the SQL is still timed, to show what the work costs
                sql_s, _ = timed(c.sql)
                c.best["sql"] = min(c.best["sql"], sql_s)
                times.append(f"fupin {c.name} FAILED, SQL {c.name} {sql_s:.2f} s")
                continue
            try:
                fupin_s, fupin_out = timed(c.fupin)
            except Exception as exc:  # fupin's failure is a result, reported, not a crash of the benchmark
                c.failed = failure(exc)
                print(f"FAILED ({label}): fupin {c.name}: {c.failed}", flush=True)
                sql_s, _ = timed(c.sql)
                c.best["sql"] = min(c.best["sql"], sql_s)
                times.append(f"fupin {c.name} FAILED, SQL {c.name} {sql_s:.2f} s")
                continue
            sql_s, sql_out = timed(c.sql)
            if round_no == 0:
                c.mismatches = c.compare(fupin_out, sql_out)
                c.describe(sql_out, c.mismatches)
                for m in c.mismatches:
                    print(f"MISMATCH ({label}): {m}", flush=True)
                if c.mismatches:
                    continue
            c.best["fupin"] = min(c.best["fupin"], fupin_s)
            c.best["sql"] = min(c.best["sql"], sql_s)
            c.pair_ratios.append(fupin_s / sql_s)
            times.append(f"fupin {c.name} {fupin_s:.2f} s, SQL {c.name} {sql_s:.2f} s")
        if times:
            print(f"  round {round_no + 1}: " + "; ".join(times), flush=True)


def peak_python_mb(part: Callable[[], Any]) -> float:
    """Peak of the Python heap while ``part`` runs (tracemalloc; slower, so never timed)."""
    tracemalloc.start()
    try:
        part()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def describe_check(figures: dict[str, dict[str, Any]], mismatches: list[str]) -> None:
    print(f"  figures of the check {CHECK_YEAR} (as of {CHECK_AS_OF}), fupin = SQL: {'no' if mismatches else 'yes'}", flush=True)
    for target, found in figures.items():
        print(f"    {target:32}" + ", ".join(f"{k}={v}" for k, v in found.items()), flush=True)


def describe_due(rows: Sequence[Any], mismatches: list[str]) -> None:
    overdue = sum(1 for r in rows if r[3] == "overdue")
    print(f"  due list on {DUE_AS_OF}, fupin = SQL (every row, in order): {'no' if mismatches else 'yes'}: "
          f"{len(rows):,} households, {overdue:,} overdue", flush=True)


def measure(label: str, store: Any, plan: Any, repeat: int) -> list[Comparison]:
    """Time fupin against the hand-written SQL on one database."""
    from fupin.checks import check_plan
    from fupin.visits import due_list

    sql = HandWritten(store.engine, plan, set(store.hooks.targets()))
    comparisons = [
        Comparison("check", lambda: check_plan(store, plan, CHECK_YEAR, as_of=CHECK_AS_OF), lambda: sql.check(CHECK_YEAR, CHECK_AS_OF),
                   check_mismatches, describe_check),
        Comparison("due", lambda: due_list(store, plan, as_of=DUE_AS_OF), lambda: sql.due(DUE_AS_OF), due_mismatches, describe_due),
    ]
    print(f"\n== {label} ==", flush=True)
    run_rounds(label, repeat, comparisons)
    print(f"{'':14}{'seconds':>10}{'peak MB':>10}   (best of {repeat}; peak of the Python heap, tracemalloc)")
    for c in comparisons:
        for side, part in (("fupin", c.fupin), ("SQL", c.sql)):
            if c.failed and side == "fupin":
                print(f"{side + ' ' + c.name:14}{'FAILED':>10}")
            elif c.mismatches:
                print(f"{side + ' ' + c.name:14}{'MISMATCH':>10}")
            else:
                print(f"{side + ' ' + c.name:14}{c.best[side.lower()]:>10.2f}{peak_python_mb(part):>10.1f}", flush=True)
    ratios = ", ".join(f"{c.name} x{c.ratio:.2f}" if c.ratio is not None else f"{c.name} NA" for c in comparisons)
    print(f"fupin/SQL: {ratios} (median of the rounds' ratios; target <= 1.2)", flush=True)
    return comparisons


# -- main -------------------------------------------------------------------------------------------


def run_backend(label: str, url: str, files: Path, args: argparse.Namespace) -> tuple[list[Comparison], dict[str, int]]:
    print(f"\n== set-up: {label} ==", flush=True)
    store, plan, counts = build(url, files, args)
    try:
        return measure(label, store, plan, args.repeat), counts
    finally:
        store.close()


def outcome(comparisons: list[Comparison], prefix: str, figures: dict[str, str]) -> int:
    """Put the ratios in ``figures``; returns the exit status they call for (2 mismatch, 1 failure, 0)."""
    for c in comparisons:
        figures[f"{prefix}{c.name}_ratio"] = "NA" if c.ratio is None else f"{c.ratio:.2f}"
    if any(c.mismatches for c in comparisons):
        return 2
    return 1 if any(c.failed for c in comparisons) else 0


def benchmark(args: argparse.Namespace, workdir: Path) -> int:
    files = workdir / "files"
    seconds = synthesize(files, args.households, args.seed)
    print(f"synthetic province: {args.households:,} households written as import files in {seconds:.1f} s", flush=True)
    url = args.db or f"sqlite:///{workdir / 'check.db'}"
    figures: dict[str, str] = {}
    comparisons, counts = run_backend(make_url(url).get_backend_name(), url, files, args)
    status = outcome(comparisons, "", figures)
    figures["households"] = str(counts["households"])
    figures["visits"] = str(counts["visits"])
    if args.postgres:
        with PostgresDatabases(args.postgres, args.keep) as pg:
            target = pg.create("check")
            pg_comparisons, _ = run_backend("postgres", target["url"], files, args)
        status = max(status, outcome(pg_comparisons, "postgres_", figures))
    print(f"\npeak resident memory of this process (set-up included): {own_peak_mb():.0f} MB")
    print(" ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
    return status


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time `fupin check` and `fupin visits due` against hand-written SQL on the same database.")
    parser.add_argument("--households", type=int, default=250_000, help="households in the synthetic province")
    parser.add_argument("--visits-per-household", type=int, default=6, help="visits per paired household, on average")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic data")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of fupin then SQL (ABAB); the median of their ratios is reported")
    parser.add_argument("--db", metavar="URL", help="an empty database to build in (default: a SQLite file in the workdir)")
    database_options(parser)
    args = parser.parse_args(argv)
    if args.households < 7:
        parser.error("--households must be at least 7")
    if args.visits_per_household < 1 or args.repeat < 1:
        parser.error("--visits-per-household and --repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    # fupin never guesses who acts: the benchmark's databases are initialised and loaded by this user.
    os.environ.setdefault("FUPIN_ACTOR", "BENCH:admin")
    return in_workdir(parse_args(sys.argv[1:] if argv is None else argv), "fupin-check-bench-", benchmark)


if __name__ == "__main__":
    sys.exit(main())
