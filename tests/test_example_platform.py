"""The example platform (examples/platform/app.py) driven over HTTP, on SQLite and PostgreSQL.

It embeds fupin as docs/embedding.md says: one store, the actor per request from
the platform's own authentication (bearer tokens here), fupin's errors as HTTP
statuses, uploads imported from their streams.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from starlette.testclient import TestClient

APP = Path(__file__).resolve().parents[1] / "examples" / "platform" / "app.py"
H1 = "530326106200010001"
OFFICE, STU, OTHER_TOWN = "QJNU:office", "QJNU-STU:clerk", "DJ-GOV:clerk"
TOKENS = {"t-office": OFFICE, "t-stu": STU, "t-other": OTHER_TOWN, "t-ghost": "GHOST:nobody"}


def load_app_module():
    spec = importlib.util.spec_from_file_location("fupin_example_platform", APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def client(database_url, cli, pm):
    """The platform over the demo register, with a user of another town."""
    assert cli("--db", database_url, "demo", "--register-only").exit_code == 0
    assert cli("--db", database_url, "users", "add", OTHER_TOWN, "--role", "area_user", "--area", "530326107").exit_code == 0
    app = load_app_module().create_app(database_url, TOKENS, pm=pm)
    with TestClient(app, raise_server_exceptions=False) as http:
        yield http


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_who_is_asking(client):
    """No token or an unknown one is 401; a user outside the household's scope 403; an unregistered one 403."""
    assert client.get(f"/households/{H1}").status_code == 401
    assert client.get(f"/households/{H1}", headers=auth("forged")).status_code == 401
    refused = client.get(f"/households/{H1}", headers=auth("t-other"))
    assert refused.status_code == 403 and "registry.read" in refused.json()["message"]
    assert client.get(f"/households/{H1}", headers=auth("t-ghost")).status_code == 403
    assert client.get("/search/people?q=张", headers=auth("t-stu")).status_code == 403


def test_card_is_masked_and_unknown_is_404(client):
    """The card comes masked (no full ID number anywhere in it); an unknown household is 404."""
    response = client.get(f"/households/{H1}", headers=auth("t-office"))
    assert response.status_code == 200
    card = response.json()
    assert card["household"]["number"] == H1 and card["masked"] is True
    assert card["members"] and all(m["id_number"].endswith("*" * 12) for m in card["members"])
    from fupin import Actor

    full = client.app.state.store.acting_as(Actor.parse(OFFICE)).household_card(H1, unmasked=True)
    assert all(m.id_number not in response.text and m.id_number[6:] not in response.text for m in full.members)
    missing = client.get("/households/530326106299999999", headers=auth("t-office"))
    assert missing.status_code == 404 and "530326106299999999" in missing.json()["message"]


def test_search(client):
    """Search pages come back as JSON; bad paging is 422 naming the field."""
    found = client.get("/search/people", params={"q": "张", "per_page": 3}, headers=auth("t-office")).json()
    assert found["total"] > 3 and len(found["items"]) == 3 and found["items"][0]["id_number"].endswith("*" * 12)
    assert client.get("/search/people", params={"q": "张"}, headers=auth("t-other")).json()["total"] == 0
    bad = client.get("/search/households", params={"q": "张", "per_page": 1000}, headers=auth("t-office"))
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "per_page"


def test_upload_then_worklist(client):
    """A bad upload is 422 naming its row and column; a good one is imported from the stream and the worklist shows it."""
    header = "户编号,村民小组代码,户主姓名,贫困户属性,主要致贫原因\r\n"
    bad = (header + "530326106200049902,53032610620004,新户乙,不是属性,因病\r\n").encode("utf-8-sig")
    response = client.post("/imports/households", files={"file": ("乡镇上报.csv", bad, "text/csv")}, headers=auth("t-office"))
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert (error["file"], error["row"], error["column"]) == ("乡镇上报.csv", 2, "贫困户属性")
    before = client.get("/plans/qjnu-tuomu/worklist", params={"as_of": "2016-03-01"}, headers=auth("t-office")).json()["items"]
    assert H1 not in {i["household"] for i in before}
    pairings = f"cadre,household,kind,start,plan\r\nQJNU-C001,{H1},联系,2015-08-20,qjnu-tuomu\r\n".encode()
    imported = client.post("/imports/pairings", files={"file": ("结对.csv", pairings, "text/csv")}, headers=auth("t-office"))
    assert imported.status_code == 200, imported.text
    assert imported.json()["inserted"] == 1
    after = client.get("/plans/qjnu-tuomu/worklist", params={"as_of": "2016-03-01"}, headers=auth("t-office")).json()["items"]
    assert H1 in {i["household"] for i in after}
    assert client.get("/plans/qjnu-tuomu/worklist", params={"as_of": "2016-03-01"}, headers=auth("t-other")).json()["items"] == []
    assert client.post("/imports/households", headers=auth("t-office")).status_code == 422


def test_check_and_report(client):
    """The checks come as JSON and the report as an HTML page; an unknown plan is 404, a bad date 422."""
    checks = client.get("/plans/qjnu-tuomu/check/2016", params={"as_of": "2016-12-31"}, headers=auth("t-office"))
    assert checks.status_code == 200 and {r["status"] for r in checks.json()["results"]}
    page = client.get("/plans/qjnu-tuomu/report/2016", params={"as_of": "2016-12-31", "lang": "en"}, headers=auth("t-office"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html") and "<html" in page.text.lower()
    assert client.get("/plans/nope/check/2016", headers=auth("t-office")).status_code == 404
    assert client.get("/plans/qjnu-tuomu/check/2016", params={"as_of": "tomorrow"}, headers=auth("t-office")).status_code == 422


def test_internal_errors_say_nothing(client, monkeypatch):
    """An error that is not fupin's is a 500 with a fixed message: no traceback, no path, no SQL."""
    from fupin import Store

    def broken(self, *args, **kwargs):
        raise RuntimeError("SELECT secret FROM /srv/private")

    monkeypatch.setattr(Store, "household_card", broken)
    response = client.get(f"/households/{H1}", headers=auth("t-office"))
    assert response.status_code == 500 and "secret" not in response.text and "internal" in response.text
