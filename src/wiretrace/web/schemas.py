"""The JSON the viewer's API answers with; the HTML pages render the same objects.

Times are UTC. Offsets are character offsets into an article's ``text`` (the body),
the same offsets the store and ``wiretrace.compare`` use.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class StoreSummary(BaseModel):
    """What the open store holds."""

    path: str
    articles: int
    links: int
    passages: int
    families: int
    multi_article_families: int
    rejections: int
    has_changes: bool = Field(description="whether the store records what copies added and dropped")


class ArticleSummary(BaseModel):
    id: str
    title: str | None
    outlet: str | None
    published_at: str | None = Field(description="the publication time as the input gave it")
    published_utc: datetime | None = Field(description="the parsed publication time, in UTC")
    family: str | None
    family_size: int | None
    parent: str | None = Field(description="the article this one most likely copied from")
    wire: bool | None


class SearchFilters(BaseModel):
    q: str | None = Field(None, description="phrase in the title or text (any case)")
    outlet: str | None = None
    date_from: date | None = Field(None, description="published on or after this day (UTC)")
    date_to: date | None = Field(None, description="published on or before this day (UTC)")
    min_family: int | None = Field(None, description="family size at least this")
    max_family: int | None = Field(None, description="family size at most this")


class SearchPage(BaseModel):
    filters: SearchFilters
    total: int
    page: int
    per_page: int
    pages: int
    articles: list[ArticleSummary]


class StoredPassage(BaseModel):
    """A reused passage, oriented source (``src``) -> derivative (``dst``)."""

    src: str
    dst: str
    src_start: int
    src_end: int
    dst_start: int
    dst_end: int
    kind: str = Field(description="verbatim or edited")
    similarity: float


class LinkedArticle(BaseModel):
    """The other side of a reuse link, seen from one article."""

    id: str
    title: str | None
    outlet: str | None
    published_utc: datetime | None
    containment_source: float = Field(description="share of the source inside the passages")
    containment_derivative: float = Field(description="share of the derivative inside them")
    passages: int
    direction_reason: str | None
    is_parent: bool = Field(description="the link is the derivative's chosen parent")


class Change(BaseModel):
    """Something a copy added, dropped or changed relative to its parent."""

    parent: str | None
    kind: str
    text: str | None
    detail: str | None
    side: str | None = Field(description="whether start/end index the article or the parent")
    start: int | None
    end: int | None


class ArticleDetail(ArticleSummary):
    url: str | None
    byline: str | None
    root: str | None
    parent_score: float | None
    parent_reason: str | None
    time_precision: str | None
    body_start: int | None
    text: str
    sources: list[LinkedArticle] = Field(description="articles this one reuses text from")
    reused_by: list[LinkedArticle] = Field(description="articles that reuse text from this one")
    passages: list[StoredPassage] = Field(description="reused spans of this article (dst = it)")
    changes: list[Change] | None = Field(
        description="what it added or dropped against its parent; null if the store has none"
    )


class ArticleText(ArticleSummary):
    text: str


class LinkFacts(BaseModel):
    containment_source: float
    containment_derivative: float
    passages: int
    shared_features: int | None
    direction_reason: str | None


class PairDetail(BaseModel):
    source: ArticleText
    derivative: ArticleText
    link: LinkFacts | None
    passages: list[StoredPassage]


class FamilyMember(ArticleSummary):
    root: str | None
    parent_score: float | None
    parent_reason: str | None


class FamilyLink(BaseModel):
    source: str
    derivative: str
    passages: int
    containment_source: float
    containment_derivative: float


class FamilyDetail(BaseModel):
    family: str
    size: int
    outlets: int
    first_published: datetime | None
    last_published: datetime | None
    members: list[FamilyMember] = Field(description="in order of publication (undated last)")
    links: list[FamilyLink] = Field(description="reuse links among the members listed")
    truncated: bool = Field(description="the family is larger than the members listed")


class OutletCount(BaseModel):
    outlet: str | None
    articles: int


class OutletSummary(BaseModel):
    outlet: str
    articles: int
    originals: int = Field(description="articles with no parent in the store")
    copies: int = Field(description="articles with a parent")
    copied: int = Field(description="articles of this outlet that other articles copied")


class ReusePeriod(BaseModel):
    period: date
    originals: int
    copies: int


class BoilerplateLine(BaseModel):
    sample: str = Field(description="the line as one article has it")
    rule: str = Field(description="why it is boilerplate: outlet, corpus, short or credit")
    articles: int = Field(description="articles that hold it")
    example: str = Field(description="id of the first article that holds it")


class OutletDetail(OutletSummary):
    top_sources: list[OutletCount] = Field(description="outlets its copies came from")
    top_copiers: list[OutletCount] = Field(description="outlets that copied from it")
    period_unit: str = Field(description="day, week or month")
    periods: list[ReusePeriod]
    recent: list[ArticleSummary]
    boilerplate: list[BoilerplateLine] = Field(
        default_factory=list,
        description="lines it repeats across its articles, left out of reuse",
    )


class QueryRequest(BaseModel):
    text: str = Field(description="the article to look up (at most 200 KB of UTF-8)")


class QueryPassage(BaseModel):
    query_start: int
    query_end: int
    article_start: int
    article_end: int
    kind: str
    similarity: float
    query_text: str
    article_text: str


class QueryMatchOut(BaseModel):
    article_id: str
    title: str | None
    outlet: str | None
    containment_query: float = Field(description="share of the pasted text found in the article")
    containment_source: float = Field(description="share of the article found in the pasted text")
    similarity: float
    passages: list[QueryPassage]


class QueryResult(BaseModel):
    characters: int
    matches: list[QueryMatchOut]
