"""The web viewer: server-rendered pages over a store, with the JSON API they are built on.

``create_app(db)`` opens the store read-only and returns a FastAPI app. Every page has a JSON
twin under ``/api/`` answering with the same data (documented at ``/docs``, ``/openapi.json``
and, without scripts from the internet, at ``/api``). All article text is rendered by Jinja
with autoescaping on, so text is always text; a Content-Security-Policy forbids inline scripts
as a second fence.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlencode

import jinja2
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BeforeValidator, PositiveInt
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import api
from . import layout, reads
from .limits import BodySizeLimit
from .schemas import (
    ArticleDetail,
    FamilyDetail,
    OutletDetail,
    OutletSummary,
    PairDetail,
    QueryMatchOut,
    QueryPassage,
    QueryRequest,
    QueryResult,
    SearchFilters,
    SearchPage,
    StoredPassage,
    StoreSummary,
)

HERE = Path(__file__).parent
MAX_QUERY_BYTES = 200_000  # the pasted text, as UTF-8
MAX_QUERY_BODY = 4 * MAX_QUERY_BYTES  # the request body: form encoding can triple the text
MAX_QUERY_MATCHES = 20
MAX_FAMILY_SHOWN = 300  # members a family page draws and lists
SOURCE_COLOURS = 6

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(db: str | Path) -> FastAPI:
    """The viewer for the store at ``db`` (opened read-only; it must exist)."""
    store = reads.StoreReader(db)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        threading.Thread(target=_warm_query_index, args=(app,), daemon=True).start()
        yield
        store.close()
        if app.state.query_index is not None and hasattr(app.state.query_index, "close"):
            app.state.query_index.close()

    app = FastAPI(
        title="wiretrace viewer",
        summary="Reused passages, story families and who copied whom, from a wiretrace store.",
        version="1",
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.query_index = None
    app.state.query_lock = threading.Lock()
    app.add_middleware(
        BodySizeLimit,
        limit=MAX_QUERY_BODY,
        paths=("/query", "/api/query"),
        too_large=_query_too_large,
    )
    app.middleware("http")(_security_headers)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.include_router(_routes())
    return app


# --- plumbing -----------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        article_url=article_url,
        pair_url=pair_url,
        family_url=family_url,
        outlet_url=outlet_url,
        search_url=search_url,
        percent=lambda value: "–" if value is None else f"{value:.0%}",
        query_limit=MAX_QUERY_BYTES,
        when=lambda value: "–" if value is None else value.strftime("%Y-%m-%d %H:%M"),
    )
    return env


def article_url(article_id: str) -> str:
    return "/article/" + quote(article_id, safe="")


def pair_url(source: str, derivative: str) -> str:
    return "/pair?" + urlencode({"src": source, "dst": derivative})


def family_url(family: str) -> str:
    return "/family/" + quote(family, safe="")


def outlet_url(outlet: str) -> str:
    return "/outlet/" + quote(outlet, safe="")


def search_url(**params: Any) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return "/?" + urlencode(kept) if kept else "/"


templates = Jinja2Templates(env=_environment())


def store_cursor(request: Request) -> Iterator[reads.Cursor]:
    with request.app.state.store.cursor() as cur:
        yield cur


CursorDep = Annotated[reads.Cursor, Depends(store_cursor)]


def _page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("store", request.app.state.store.summary)
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _security_headers(request: Request, call_next) -> Response:
    response = await call_next(request)
    if not request.url.path.startswith(("/docs", "/redoc")):  # Swagger UI needs its CDN
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": error.detail}, status_code=error.status_code)
    return _page(
        request, "error.html", status_code=error.status_code, status=error.status_code,
        message=error.detail,
    )  # fmt: skip


async def _validation_error(request: Request, error: RequestValidationError) -> Response:
    problems = [
        f"{'.'.join(str(p) for p in e['loc'] if p not in ('query', 'body', 'path'))}: {e['msg']}"
        for e in error.errors()
    ]
    if _wants_json(request):
        return JSONResponse({"detail": problems}, status_code=422)
    return _page(request, "error.html", status_code=422, status=422, message="; ".join(problems))


def _query_too_large(request: Request) -> Response:
    message = (
        f"The text is too large: the query page takes at most {MAX_QUERY_BYTES:,} bytes "
        f"({MAX_QUERY_BYTES // 1000} KB) of text. Paste a single article."
    )
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=413)
    return _page(request, "query.html", status_code=413, error=message, text="", result=None)


def _blank_is_none(value: Any) -> Any:
    """HTML forms send empty fields as empty strings: an empty filter is no filter."""
    return None if isinstance(value, str) and not value.strip() else value


def _filters(
    q: Annotated[str | None, Query(description="phrase in title or text, any case")] = None,
    outlet: Annotated[str | None, Query(description="exact outlet name")] = None,
    date_from: Annotated[
        date | None, BeforeValidator(_blank_is_none), Query(description="YYYY-MM-DD, UTC")
    ] = None,
    date_to: Annotated[
        date | None, BeforeValidator(_blank_is_none), Query(description="YYYY-MM-DD, UTC")
    ] = None,
    min_family: Annotated[
        PositiveInt | None, BeforeValidator(_blank_is_none), Query(description="at least")
    ] = None,
    max_family: Annotated[
        PositiveInt | None, BeforeValidator(_blank_is_none), Query(description="at most")
    ] = None,
) -> SearchFilters:
    return SearchFilters(
        q=q.strip() if q and q.strip() else None,
        outlet=outlet or None,
        date_from=date_from,
        date_to=date_to,
        min_family=min_family,
        max_family=max_family,
    )


FiltersDep = Annotated[SearchFilters, Depends(_filters)]
PageDep = Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")]
PerPageDep = Annotated[int, Query(ge=1, le=200)]


def _not_found(what: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"no {what} in this store")


# --- routes -------------------------------------------------------------------------------


def _routes() -> APIRouter:
    router = APIRouter()

    # JSON ----------------------------------------------------------------------------------

    @router.get("/api/store", response_model=StoreSummary, tags=["api"])
    def api_store(request: Request) -> StoreSummary:
        """What the open store holds."""
        return request.app.state.store.summary

    @router.get("/api/articles", response_model=SearchPage, tags=["api"])
    def api_search(
        request: Request,
        cur: CursorDep,
        filters: FiltersDep,
        page: PageDep = 1,
        per_page: PerPageDep = 50,
    ) -> SearchPage:
        """Search and filter articles, newest first."""
        return reads.search_articles(cur, filters, page, per_page, request.app.state.store.texts)

    @router.get("/api/articles/{article_id:path}", response_model=ArticleDetail, tags=["api"])
    def api_article(request: Request, cur: CursorDep, article_id: str) -> ArticleDetail:
        """One article with its text, reused spans, sources, copiers and changes."""
        return _article_or_404(request, cur, article_id)

    @router.get("/api/pairs", response_model=PairDetail, tags=["api"])
    def api_pair(cur: CursorDep, src: str, dst: str) -> PairDetail:
        """Two articles side by side with their aligned passages (source -> derivative)."""
        return _pair_or_404(cur, src, dst)

    @router.get("/api/families/{family:path}", response_model=FamilyDetail, tags=["api"])
    def api_family(cur: CursorDep, family: str) -> FamilyDetail:
        """A story family: its members in time order, their parents and links."""
        return _family_or_404(cur, family)

    @router.get("/api/outlets", response_model=list[OutletSummary], tags=["api"])
    def api_outlets(cur: CursorDep) -> list[OutletSummary]:
        """Every outlet with counts of originals and copies."""
        return reads.list_outlets(cur)

    @router.get("/api/outlets/{outlet:path}", response_model=OutletDetail, tags=["api"])
    def api_outlet(cur: CursorDep, outlet: str) -> OutletDetail:
        """An outlet: originals vs copies, top sources and copiers, reuse over time."""
        return _outlet_or_404(cur, outlet)

    @router.post(
        "/api/query",
        response_model=QueryResult,
        tags=["api"],
        responses={413: {"description": "the text is over 200 KB"}},
    )
    def api_query(request: Request, cur: CursorDep, payload: QueryRequest) -> Any:
        """Likely sources in the store of a pasted article (at most 200 KB of text)."""
        if len(payload.text.encode("utf-8")) > MAX_QUERY_BYTES:
            return _query_too_large(request)
        return _run_query(request, cur, payload.text)

    # HTML ----------------------------------------------------------------------------------

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    def search_page(
        request: Request,
        cur: CursorDep,
        filters: FiltersDep,
        page: PageDep = 1,
        per_page: PerPageDep = 50,
    ) -> HTMLResponse:
        result = reads.search_articles(cur, filters, page, per_page, request.app.state.store.texts)
        return _page(
            request, "search.html", result=result, outlets=reads.outlet_names(cur),
            filters=filters.model_dump(),
        )  # fmt: skip

    @router.get("/article/{article_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def article_page(request: Request, cur: CursorDep, article_id: str) -> HTMLResponse:
        detail = _article_or_404(request, cur, article_id)
        colours = _source_colours(detail)
        return _page(
            request, "article.html", article=detail, colours=colours,
            pieces=article_highlights(detail, colours), changes=_group_changes(detail),
            has_changes=request.app.state.store.has_changes,
        )  # fmt: skip

    @router.get("/pair", response_class=HTMLResponse, include_in_schema=False)
    def pair_page(request: Request, cur: CursorDep, src: str, dst: str) -> Response:
        if not reads.pair_exists(cur, src, dst) and reads.pair_exists(cur, dst, src):
            return RedirectResponse(pair_url(dst, src), status_code=307)
        detail = _pair_or_404(cur, src, dst)
        source_pieces, derivative_pieces = pair_highlights(detail)
        return _page(
            request, "pair.html", pair=detail, source_pieces=source_pieces,
            derivative_pieces=derivative_pieces,
        )  # fmt: skip

    @router.get("/family/{family:path}", response_class=HTMLResponse, include_in_schema=False)
    def family_page(request: Request, cur: CursorDep, family: str) -> HTMLResponse:
        detail = _family_or_404(cur, family, with_links=False, limit=MAX_FAMILY_SHOWN)
        drawn = detail.members
        tree = layout.tree_layout([(m.id, m.parent) for m in drawn])
        timeline = layout.timeline_layout([(m.id, m.parent, m.published_utc) for m in drawn])
        return _page(
            request, "family.html", family=detail, tree=tree, timeline=timeline,
            members={m.id: m for m in detail.members}, drawn=len(drawn),
        )  # fmt: skip

    @router.get("/outlets", response_class=HTMLResponse, include_in_schema=False)
    def outlets_page(request: Request, cur: CursorDep) -> HTMLResponse:
        return _page(request, "outlets.html", outlets=reads.list_outlets(cur))

    @router.get("/outlet/{outlet:path}", response_class=HTMLResponse, include_in_schema=False)
    def outlet_page(request: Request, cur: CursorDep, outlet: str) -> HTMLResponse:
        detail = _outlet_or_404(cur, outlet)
        chart = layout.stacked_bars([(p.period, p.originals, p.copies) for p in detail.periods])
        return _page(request, "outlet.html", outlet=detail, chart=chart)

    @router.get("/query", response_class=HTMLResponse, include_in_schema=False)
    def query_form(request: Request) -> HTMLResponse:
        return _page(request, "query.html", text="", result=None, error=None)

    @router.post("/query", response_class=HTMLResponse, include_in_schema=False)
    async def query_page(request: Request) -> Response:
        body = await request.body()  # BodySizeLimit has capped it
        fields = parse_qs(body.decode("ascii", errors="replace"), encoding="utf-8")
        text = fields.get("text", [""])[0]
        if len(text.encode("utf-8")) > MAX_QUERY_BYTES:
            return _query_too_large(request)
        if not text.strip():
            return _page(
                request, "query.html", status_code=422, text=text, result=None,
                error="Paste the text of an article to look up.",
            )  # fmt: skip
        result = await run_in_threadpool(_query_in_thread, request, text)
        return _page(request, "query.html", text=text, result=result, error=None)

    @router.get("/api", response_class=HTMLResponse, include_in_schema=False)
    def api_page(request: Request) -> HTMLResponse:
        return _page(request, "api.html", routes=_documented_routes(request.app.openapi()))

    return router


def _article_or_404(request: Request, cur: reads.Cursor, article_id: str) -> ArticleDetail:
    detail = reads.read_article(cur, article_id, request.app.state.store.has_changes)
    if detail is None:
        raise _not_found(f"article with id {article_id!r}")
    return detail


def _pair_or_404(cur: reads.Cursor, src: str, dst: str) -> PairDetail:
    detail = reads.read_pair(cur, src, dst)
    if detail is None:
        raise _not_found(f"aligned passages from {src!r} to {dst!r}")
    return detail


def _family_or_404(
    cur: reads.Cursor, family: str, with_links: bool = True, limit: int = reads.MAX_FAMILY_MEMBERS
) -> FamilyDetail:
    detail = reads.read_family(cur, family, with_links, limit)
    if detail is None:
        raise _not_found(f"family {family!r}")
    return detail


def _outlet_or_404(cur: reads.Cursor, outlet: str) -> OutletDetail:
    detail = reads.read_outlet(cur, outlet)
    if detail is None:
        raise _not_found(f"outlet {outlet!r}")
    return detail


# --- query --------------------------------------------------------------------------------


def _index_missing() -> tuple[type[Exception], ...]:
    """The error ``api.query`` raises for a store without an n-gram index (if it has one)."""
    try:
        from ..index import IndexMissing
    except ImportError:
        return ()
    return (IndexMissing,)


def _query_index(app: FastAPI) -> Any:
    """The store's n-gram index, opened on the first query and kept: opening it and loading
    its sentence index costs about a second on 100,000 articles (callers hold the lock)."""
    if app.state.query_index is None:
        open_store = getattr(api, "open_store", None)
        if open_store is None:
            return app.state.store.path
        app.state.query_index = open_store(app.state.store.path)
    return app.state.query_index


def _warm_query_index(app: FastAPI) -> None:
    """Open the index and run one query at start-up, so that the first visitor's query does
    not pay for loading it. A store without an index simply stays cold."""
    query = getattr(api, "query", None)
    if query is None:
        return
    try:
        with app.state.query_lock:
            query("warm up the index", _query_index(app))
    except Exception:  # noqa: BLE001 - a missing or old index is reported on the first query
        return


def _query_in_thread(request: Request, text: str) -> QueryResult:
    with request.app.state.store.cursor() as cur:
        return _run_query(request, cur, text)


def _run_query(request: Request, cur: reads.Cursor, text: str) -> QueryResult:
    query = getattr(api, "query", None)
    if query is None:
        raise HTTPException(status_code=501, detail="this wiretrace has no api.query")
    try:
        with request.app.state.query_lock:
            matches = list(query(text, _query_index(request.app)))[:MAX_QUERY_MATCHES]
    except _index_missing() as error:
        raise HTTPException(
            status_code=409,
            detail=f"{error}: run `wiretrace run` or `wiretrace add` on this store to build "
            "its n-gram index, then restart the viewer",
        ) from error
    texts = reads.article_texts(cur, [m.article_id for m in matches])
    return QueryResult(
        characters=len(text),
        matches=[
            QueryMatchOut(
                article_id=m.article_id,
                title=m.title,
                outlet=m.outlet,
                containment_query=m.containment_query,
                containment_source=m.containment_source,
                similarity=m.similarity,
                passages=[
                    QueryPassage(
                        query_start=p.a_start,
                        query_end=p.a_end,
                        article_start=p.b_start,
                        article_end=p.b_end,
                        kind=p.kind,
                        similarity=p.similarity,
                        query_text=p.a_text(text),
                        article_text=p.b_text(texts.get(m.article_id, "")),
                    )
                    for p in m.passages
                ],
            )
            for m in matches
        ],
    )


# --- what the pages highlight ---------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """A stretch of text as a page shows it: plain, or marked and maybe linked."""

    text: str
    css: str = ""
    href: str = ""
    tooltip: str = ""
    anchor: str = ""
    numbers: str = ""  # passage numbers, for the pair page's hover
    badge: str = ""  # a passage number shown where the passage starts


_ADDED_KINDS = {"sentence_added", "quote_added", "source_added", "number_added", "name_added"}


def _source_colours(detail: ArticleDetail) -> dict[str, int]:
    """A colour per source: the parent first, then by containment (as sources are listed)."""
    ordered = sorted(detail.sources, key=lambda s: not s.is_parent)
    return {source.id: i % SOURCE_COLOURS for i, source in enumerate(ordered)}


def article_highlights(detail: ArticleDetail, colours: dict[str, int]) -> list[Piece]:
    """The article's text cut into pieces: reused spans link to the pair page of their source."""
    spans: list[tuple[int, int, tuple[str, Any]]] = [
        (p.dst_start, p.dst_end, ("reused", p)) for p in detail.passages
    ]
    for change in detail.changes or ():
        if change.kind in _ADDED_KINDS and change.side == "article" and change.start is not None:
            spans.append((change.start, change.end or change.start, ("added", change)))
    pieces = []
    for seg in layout.segments(detail.text, spans):
        reused = [mark for tag, mark in seg.marks if tag == "reused"]
        if reused:
            reused.sort(key=lambda p: (p.src != detail.parent, p.kind != "verbatim", p.src))
            first = reused[0]
            sources = ", ".join(dict.fromkeys(f"{p.src} ({p.kind})" for p in reused))
            pieces.append(
                Piece(
                    seg.text,
                    css=f"reused {first.kind} src-{colours.get(first.src, 0)}",
                    href=pair_url(first.src, first.dst),
                    tooltip=f"from {sources}",
                )
            )
        elif seg.marks:
            pieces.append(Piece(seg.text, css="added", tooltip="added by this article"))
        else:
            pieces.append(Piece(seg.text))
    return pieces


def pair_highlights(detail: PairDetail) -> tuple[list[Piece], list[Piece]]:
    """Both texts cut into pieces marked by passage number (1-based), verbatim or edited."""
    numbered = list(enumerate(detail.passages, start=1))

    def cut(text: str, side: str, bounds) -> list[Piece]:
        spans = [(*bounds(p), (n, p)) for n, p in numbered]
        pieces, started = [], set()
        for seg in layout.segments(text, spans):
            if not seg.marks:
                pieces.append(Piece(seg.text))
                continue
            n, passage = min(seg.marks, key=lambda m: m[0])
            new = [m for m, _ in seg.marks if m not in started]
            started.update(new)
            pieces.append(
                Piece(
                    seg.text,
                    css=f"passage {passage.kind}",
                    tooltip=f"passage {n}: {passage.kind}, similarity {passage.similarity:.2f}",
                    anchor=f"{side}-p{new[0]}" if new else "",
                    numbers=" ".join(str(m) for m, _ in seg.marks),
                    badge=",".join(str(m) for m in new),
                )
            )
        return pieces

    return (
        cut(detail.source.text, "s", _source_bounds),
        cut(detail.derivative.text, "d", _derivative_bounds),
    )


def _source_bounds(p: StoredPassage) -> tuple[int, int]:
    return p.src_start, p.src_end


def _derivative_bounds(p: StoredPassage) -> tuple[int, int]:
    return p.dst_start, p.dst_end


_CHANGE_GROUPS = (
    ("added", _ADDED_KINDS),
    (
        "dropped",
        {"sentence_dropped", "quote_removed", "source_removed", "number_removed", "name_removed"},
    ),
    ("changed", {"number_changed", "headline_changed"}),
)


def _group_changes(detail: ArticleDetail) -> dict[str, list]:
    groups: dict[str, list] = {name: [] for name, _ in _CHANGE_GROUPS}
    for change in detail.changes or ():
        name = next((n for n, kinds in _CHANGE_GROUPS if change.kind in kinds), "changed")
        groups[name].append(change)
    return groups


def _documented_routes(schema: dict) -> list[dict]:
    routes = []
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            routes.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": [
                        (p["name"], p.get("in", ""), p.get("description", ""))
                        for p in operation.get("parameters", [])
                    ],
                }
            )
    return routes
