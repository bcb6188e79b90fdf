"""An example platform embedding fupin: a small ASGI application (Starlette).

It shows the pattern docs/embedding.md describes:

- one :class:`fupin.Store` per process, opened when the app is made;
- per request, the actor comes from the platform's own authentication (here
  a table of bearer tokens stands in for it) and the store is derived with
  ``store.acting_as(actor)``: fupin then decides what that user may see;
- fupin's errors become HTTP statuses (:data:`STATUS`), with their one-line
  bilingual messages; anything else is a 500 that says nothing of the inside;
- uploads are imported from the stream the request carries, under their file name.

Run it (after ``fupin demo``, whose users include ``QJNU:office``)::

    pip install starlette python-multipart uvicorn
    FUPIN_DATABASE_URL=sqlite:///fupin.db FUPIN_PLATFORM_TOKENS="s3cret=QJNU:office" \\
        uvicorn --factory app:app_from_env --app-dir examples/platform
    curl -H "Authorization: Bearer s3cret" http://127.0.0.1:8000/households/530326106200010001

Endpoints::

    GET  /plans/{plan}/worklist?as_of=2016-03-01[&cadre=CODE]   households due for a visit
    GET  /plans/{plan}/check/{year}[?as_of=DATE]                 the commitments checked
    GET  /plans/{plan}/report/{year}[?as_of=DATE&lang=en]        the yearly report (HTML)
    GET  /households/{number}                                    the household card, masked
    GET  /search/people?q=zhangsan[&page=1&per_page=50]          people by name, pinyin or ID
    GET  /search/households?q=...                                households the same way
    POST /imports/{kind}   (multipart, field "file")             an upload imported from its stream
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

import fupin
from fupin import Actor, Store

log = logging.getLogger("fupin.example.platform")

#: fupin's errors and the HTTP status each becomes, most specific first.
STATUS: tuple[tuple[type[fupin.FupinError], int], ...] = (
    (fupin.IdentityError, 401),
    (fupin.AccessDenied, 403),
    (fupin.NotFound, 404),
    (fupin.StaleRecord, 409),
    (fupin.FileTooLarge, 413),
    (fupin.ValidationError, 422),
    (fupin.StorageError, 503),
)


def status_of(exc: fupin.FupinError) -> int:
    """The HTTP status for one of fupin's errors: by its class, else by its exit code (1 refused data: 422)."""
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return {1: 422, 3: 403, 4: 503}.get(exc.exit_code, 500)


def create_app(database_url: str, tokens: Mapping[str, str], *, pm: Any = None) -> Starlette:
    """The platform: ``tokens`` maps each bearer token the platform issued to the fupin user ``UNIT:USER`` it stands for."""
    store = Store.open(database_url, pm=pm)  # once per process: the pool and the plugins
    users = {token: Actor.parse(user) for token, user in tokens.items()}

    def acting(request: Request) -> Store:
        """The store acting as the user this request authenticated as (never as anyone the client names)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        actor = users.get(token.strip()) if scheme.lower() == "bearer" else None
        if actor is None:
            raise fupin.IdentityError("未登录 / not signed in: send Authorization: Bearer TOKEN")
        return store.acting_as(actor)

    def endpoint(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        """``handler`` with fupin's errors turned into statuses and anything else into a bare 500."""

        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except fupin.FupinError as exc:
                body: dict[str, Any] = {"error": type(exc).__name__, "message": str(exc)}
                if isinstance(exc, fupin.ValidationError):
                    body["problems"] = [{"field": p.field, "reason": p.reason, "location": p.location} for p in exc.problems]
                return JSONResponse(body, status_code=status_of(exc))
            except Exception as exc:
                # The same one line the command line gives (password-free); only the log sees it.
                line, _code = fupin.describe_failure(exc)
                log.exception("request failed: %s %s: %s", request.method, request.url.path, line)
                return JSONResponse({"error": "internal", "message": "内部错误 / internal error"}, status_code=500)

        return wrapped

    def day(request: Request, name: str, default: dt.date | None = None) -> dt.date | None:
        text = request.query_params.get(name)
        if not text:
            return default
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise fupin.ValidationError.of(name, "日期应为 YYYY-MM-DD / a date is YYYY-MM-DD", text) from None

    def number(request: Request, name: str, default: int) -> int:
        text = request.query_params.get(name)
        if text is None:
            return default
        try:
            return int(text)
        except ValueError:
            raise fupin.ValidationError.of(name, "应为整数 / must be a whole number", text) from None

    def path_int(request: Request, name: str) -> int:
        try:
            return int(request.path_params[name])
        except ValueError:
            raise fupin.ValidationError.of(name, "应为整数 / must be a whole number", request.path_params[name]) from None

    @endpoint
    async def worklist(request: Request) -> Response:
        s = acting(request)
        as_of = day(request, "as_of", dt.date.today())
        items = await run_in_threadpool(s.worklist, request.path_params["plan"], as_of=as_of, cadre=request.query_params.get("cadre"))
        return JSONResponse({"as_of": as_of.isoformat() if as_of else None, "items": [i.to_dict() for i in items]})

    @endpoint
    async def check(request: Request) -> Response:
        s = acting(request)
        results = await run_in_threadpool(s.check, request.path_params["plan"], path_int(request, "year"), as_of=day(request, "as_of"))
        return JSONResponse({"results": [r.to_dict() for r in results]})

    @endpoint
    async def report(request: Request) -> Response:
        s = acting(request)
        built = await run_in_threadpool(s.report, request.path_params["plan"], path_int(request, "year"), as_of=day(request, "as_of"))
        return HTMLResponse(fupin.render_report(built, fmt="html", lang=request.query_params.get("lang", "zh")))

    @endpoint
    async def household(request: Request) -> Response:
        s = acting(request)
        card = await run_in_threadpool(s.household_card, request.path_params["number"])  # masked: the default
        return JSONResponse(card.to_dict())

    def search(method: str) -> Callable[[Request], Awaitable[Response]]:
        @endpoint
        async def handler(request: Request) -> Response:
            s = acting(request)
            found = await run_in_threadpool(
                getattr(s, method), request.query_params.get("q", ""), page=number(request, "page", 1), per_page=number(request, "per_page", 50)
            )
            return JSONResponse(found.to_dict())

        return handler

    @endpoint
    async def import_upload(request: Request) -> Response:
        s = acting(request)
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise fupin.ValidationError.of("file", "须上传文件 (字段 file) / upload a file in the field 'file'")
        try:
            result = await run_in_threadpool(s.import_file, request.path_params["kind"], upload.file, name=upload.filename)
        finally:
            await upload.close()
        return JSONResponse(result.to_dict(), status_code=200 if result.committed else 422)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        store.close()

    routes = [
        Route("/plans/{plan}/worklist", worklist),
        Route("/plans/{plan}/check/{year}", check),
        Route("/plans/{plan}/report/{year}", report),
        Route("/households/{number}", household),
        Route("/search/people", search("search_people")),
        Route("/search/households", search("search_households")),
        Route("/imports/{kind}", import_upload, methods=["POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.store = store
    return app


def app_from_env() -> Starlette:
    """The app for ``uvicorn --factory``: ``FUPIN_DATABASE_URL``, and ``FUPIN_PLATFORM_TOKENS="token=UNIT:USER,..."``."""
    pairs = (item.partition("=") for item in os.environ.get("FUPIN_PLATFORM_TOKENS", "").split(",") if item.strip())
    return create_app(os.environ.get("FUPIN_DATABASE_URL", "sqlite:///fupin.db"), {t.strip(): u.strip() for t, _, u in pairs})
