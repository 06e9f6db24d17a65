"""Knowledge base over HTTP: published articles are public; the support lead writes them."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from accounts import Actor
from api.contract import problems
from api.dependencies import DB, Ctx, CurrentActor
from core.errors import Conflict, NotFound
from support import (
    ArticleIn,
    ArticleOut,
    ArticlePatch,
    create_article,
    delete_article,
    get_article,
    is_support_staff,
    list_articles,
    search_articles,
    update_article,
)

Limit = Annotated[int, QueryParameter(ge=1, le=100, description="How many articles")]


def _sees_drafts(request: Request[Any, Any, Any]) -> bool:
    actor: Actor | None = getattr(request.state, "actor", None)
    return actor is not None and is_support_staff(actor)


class KnowledgeBaseController(Controller):
    path = "/v1/kb/articles"
    tags = ["knowledge base"]

    @get("/", summary="Articles; `q` searches full text in Russian and English")
    async def list_articles(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        q: FromQuery[str | None] = None,
        tag: FromQuery[str | None] = None,
        limit: Limit = 20,
    ) -> list[ArticleOut]:
        drafts = _sees_drafts(request)
        if q:
            return [
                ArticleOut.of(a)
                for a in await search_articles(db, q, limit=limit, include_drafts=drafts, tag=tag)
            ]
        return [
            ArticleOut.of(a) for a in await list_articles(db, include_drafts=drafts, tag=tag, limit=limit)
        ]

    @problems(Conflict)
    @post("/", summary="Write an article")
    async def create_article(
        self, data: JSONBody[ArticleIn], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> ArticleOut:
        del actor
        return ArticleOut.of(await create_article(db, data, now=ctx.clock.now()))

    @problems(NotFound)
    @get("/{slug:str}", summary="One article")
    async def get_article(self, request: Request[Any, Any, Any], slug: FromPath[str], db: DB) -> ArticleOut:
        return ArticleOut.of(await get_article(db, slug, include_drafts=_sees_drafts(request)))

    @problems(NotFound)
    @patch("/{slug:str}", summary="Change an article")
    async def update_article(
        self, slug: FromPath[str], data: JSONBody[ArticlePatch], db: DB, ctx: Ctx
    ) -> ArticleOut:
        return ArticleOut.of(await update_article(db, slug, data, now=ctx.clock.now()))

    @problems(NotFound)
    @delete("/{slug:str}", summary="Delete an article", status_code=204)
    async def delete_article(self, slug: FromPath[str], db: DB) -> None:
        await delete_article(db, slug)
