"""Delivery API v1: public, published content only, cached, with strong ETags.

Caching (RFC 9111, RFC 5861): ``Cache-Control: public, max-age, stale-while-revalidate``; a
strong ``ETag`` over the exact bytes, 304 on a matching ``If-None-Match`` (RFC 9110 §13.1.2,
weak comparison); ``Surrogate-Key`` names the entry and every entry it references, so a CDN (and
Charter's own cache) purge exactly what a publish changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import nullcontext
from typing import Annotated, Any

import orjson
import structlog
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from opentelemetry.trace import INVALID_SPAN
from starlette.concurrency import run_in_threadpool

from charter.auth.preview import HEADER as PREVIEW_HEADER
from charter.auth.preview import MAX_LENGTH as PREVIEW_MAX_LENGTH
from charter.auth.preview import QUERY as PREVIEW_QUERY
from charter.auth.preview import token_from as preview_token_from
from charter.delivery.cache import CachedResponse
from charter.delivery.envelope import Rendered
from charter.delivery.fastpath import learn as learn_target
from charter.delivery.http_caching import PRIVATE_NO_STORE, etag_of, if_none_match, public_cache_control
from charter.delivery.keys import entry_key, list_key, page_key
from charter.delivery.models import Envelope, EnvelopeList
from charter.delivery.pinning import HEADER as PIN_HEADER
from charter.delivery.pinning import pinned_list_response, pinned_response
from charter.delivery.sources.base import ContentSource
from charter.exceptions import BadRequest, NotFound
from charter.http.routes import CharterRoute
from charter.observability.errors import problem_responses
from charter.runtime import Runtime

router = APIRouter(tags=["delivery"], route_class=CharterRoute)
log = structlog.get_logger("charter.delivery")

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*)*$")
ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
TYPE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
#: Bad input, a refused preview token, not found, a pinned major past its sunset, invalid
#: parameters, and a content source (another CMS) that failed.
DELIVERY_RESPONSES = problem_responses(400, 401, 404, 410, 422, 502)
#: The delivery routes read the preview token and the schema pin from the raw request (only the
#: rare request that carries one pays for looking at them), so they are not FastAPI parameters;
#: this describes them in the OpenAPI document, from the same names the code reads.
_SCHEMA_ID = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*\.v[1-9][0-9]*"
DELIVERY_PARAMETERS: dict[str, Any] = {
    "parameters": [
        {
            "name": PREVIEW_HEADER.title(),  # Charter-Preview (header names are case-insensitive)
            "in": "header",
            "required": False,
            "description": (
                "A preview token (docs/preview.md): show the draft or release it names, rendered fresh and "
                "`Cache-Control: private, no-store`. A forged, expired or revoked token is a 401."
            ),
            "schema": {"type": "string", "maxLength": PREVIEW_MAX_LENGTH},
        },
        {
            "name": PREVIEW_QUERY,
            "in": "query",
            "required": False,
            "description": "The preview token as a query parameter (the `Charter-Preview` header wins).",
            "schema": {"type": "string", "maxLength": PREVIEW_MAX_LENGTH},
        },
        {
            "name": PIN_HEADER,
            "in": "header",
            "required": False,
            "description": (
                "Pin an old schema major after a migration, e.g. `page.v1` (a comma-separated list for several "
                "types): until its sunset the content last published under it, with `Deprecation` and `Sunset` "
                "headers; after the sunset a 410 (docs/schema-evolution.md)."
            ),
            "schema": {
                "type": "string",
                "maxLength": 500,
                "pattern": f"^{_SCHEMA_ID}(?:, ?{_SCHEMA_ID})*$",
            },
            "examples": {"pin": {"value": "page.v1"}},
        },
    ]
}
# The patterns are declared in the document (json_schema_extra) and checked by the handlers, which
# answer a clear 400 naming the rule.
LocaleParam = Annotated[
    str | None,
    Query(
        description="BCP 47 locale; fallbacks apply field by field.",
        max_length=35,
        json_schema_extra={"pattern": LOCALE.pattern},
    ),
]
SlugParam = Annotated[
    str, Path(description="The page's slug.", json_schema_extra={"pattern": SLUG.pattern, "maxLength": 200})
]
TypeParam = Annotated[str, Path(description="A content type's name.", json_schema_extra={"pattern": TYPE.pattern})]
EntryIdParam = Annotated[str, Path(description="An entry id.", json_schema_extra={"pattern": ID.pattern})]


_NO_SPAN = nullcontext(INVALID_SPAN)  # a span no processor would receive is not built


def serialise(body: dict[str, Any], keys: list[str]) -> CachedResponse:
    raw = orjson.dumps(body)
    return CachedResponse(raw, etag_of(raw), tuple(dict.fromkeys(keys)))


def respond(request: Request, cached: CachedResponse, rt: Runtime) -> Response:
    s = rt.settings
    headers = {
        "ETag": cached.etag,
        "Cache-Control": public_cache_control(s.cache_max_age, s.cache_stale_while_revalidate),
        "Surrogate-Key": " ".join(cached.surrogate_keys),
        "Vary": "Charter-Schema",  # a pinned old major (charter.delivery.pinning) is another representation
    }
    if if_none_match(request.headers.get("if-none-match"), cached.etag):
        return Response(status_code=304, headers=headers)
    return Response(cached.body, status_code=cached.status, media_type="application/json", headers=headers)


def _only_locale(request: Request) -> None:
    for key in request.query_params:
        if key not in ("locale", PREVIEW_QUERY):
            raise BadRequest(f"unknown query parameter {key!r}; this route takes only locale (and preview)")


def _check_locale(locale: str | None) -> None:
    if locale is not None and not LOCALE.match(locale):
        raise BadRequest(f"{locale!r} is not a locale code such as 'en' or 'de-AT'")


async def _cached(
    request: Request, key: str, render: Callable[[ContentSource], Rendered | None], missing: str
) -> Response:
    rt: Runtime = request.app.state.runtime
    token = preview_token_from(request.headers, request.query_params)
    if token is not None:
        return await _preview(request, rt, token, render, missing)
    learn_target(request.scope, key)  # the next request for this exact target may skip the app
    cached = rt.cache.get(key)
    telemetry = rt.telemetry
    if cached is not None:
        telemetry.delivery_hits += 1
    else:
        telemetry.delivery_misses += 1
        generation = rt.cache.generation()
        spans = telemetry.tracer.start_as_current_span("delivery.render") if telemetry.exporting() else _NO_SPAN
        with spans as span:
            source = rt.source
            # A source whose reads never wait on anything (SQLite in WAL mode: readers never wait
            # for writers) renders on the event loop; a thread hop would cost more than the read.
            rendered = (
                render(source) if getattr(source, "reads_inline", False) else await run_in_threadpool(render, source)
            )
            if rendered is None:
                raise NotFound(missing)
            for name, value in rendered.facts.items():
                span.set_attribute(f"charter.{name}", value)
        log.info("render", cache="miss", **rendered.facts)
        if "schema_id" in rendered.facts:
            rt.telemetry.renders.labels(rendered.facts["schema_id"]).inc()
        cached = serialise(rendered.body, rendered.surrogate_keys)
        rt.cache.set(key, cached, generation)
    return respond(request, cached, rt)


async def _preview(
    request: Request, rt: Runtime, token: str, render: Callable[[ContentSource], Rendered | None], missing: str
) -> Response:
    """A preview (docs/preview.md): the draft or release state a signed token names, rendered
    fresh, never read from or stored in any cache, and marked private for every cache on the way."""
    from charter.delivery.sources.preview import Preview, preview_source

    def run() -> tuple[Preview, Rendered | None]:
        source = preview_source(rt, token)
        return source, render(source)

    source, rendered = await run_in_threadpool(run)  # one thread hop: verify, check the register, render
    if rendered is None:
        raise NotFound(missing)
    raw = orjson.dumps(rendered.body)
    headers = {
        "Cache-Control": PRIVATE_NO_STORE,
        "ETag": etag_of(raw),
        "Charter-Preview": f"{source.token.scope}={source.token.id}",
    }
    return Response(raw, media_type="application/json", headers=headers)


# Every delivery route answers HEAD too (the GET's headers, no body), outside the OpenAPI document.
@router.head("/v1/pages/{slug:path}", operation_id="headPage", include_in_schema=False)
@router.get(
    "/v1/pages/{slug:path}",
    operation_id="getPage",
    response_model=Envelope,
    responses=DELIVERY_RESPONSES,
    openapi_extra=DELIVERY_PARAMETERS,
    summary="A published page by slug",
)
async def get_page(request: Request, slug: SlugParam, locale: LocaleParam = None) -> Response:
    if len(slug) > 200 or not SLUG.match(slug):
        raise BadRequest(
            f"{slug[:80]!r} is not a valid slug: lowercase letters, digits and hyphens, segments separated by '/'"
        )
    _only_locale(request)
    _check_locale(locale)
    if (
        PIN_HEADER in request.headers
        and (pinned := await pinned_response(request, "page", slug=slug, locale=locale)) is not None
    ):
        return pinned
    return await _cached(
        request, page_key(slug, locale), lambda source: source.page(slug, locale), f"no published page {slug!r}"
    )


@router.head("/v1/entries/{type_name}/{entry_id}", operation_id="headEntry", include_in_schema=False)
@router.get(
    "/v1/entries/{type_name}/{entry_id}",
    operation_id="getEntry",
    response_model=Envelope,
    responses=DELIVERY_RESPONSES,
    openapi_extra=DELIVERY_PARAMETERS,
    summary="A published entry by type and id",
)
async def get_entry(
    request: Request, type_name: TypeParam, entry_id: EntryIdParam, locale: LocaleParam = None
) -> Response:
    if not TYPE.match(type_name):
        raise NotFound(f"unknown content type {type_name[:80]!r}")
    if not ID.match(entry_id):
        raise BadRequest(f"{entry_id[:80]!r} is not a valid entry id")
    _only_locale(request)
    _check_locale(locale)
    if (
        PIN_HEADER in request.headers
        and (pinned := await pinned_response(request, type_name, entry_id=entry_id, locale=locale)) is not None
    ):
        return pinned
    return await _cached(
        request,
        entry_key(type_name, entry_id, locale),
        lambda source: source.entry(type_name, entry_id, locale),
        f"no published {type_name} {entry_id!r}",
    )


@router.head("/v1/entries/{type_name}", operation_id="headEntries", include_in_schema=False)
@router.get(
    "/v1/entries/{type_name}",
    operation_id="listEntries",
    response_model=EnvelopeList,
    responses=DELIVERY_RESPONSES,
    openapi_extra=DELIVERY_PARAMETERS,
    summary="Published entries of a type, with cursor pagination and field filters",
    description="Filter on top-level scalar fields with `fields.<name>=<value>` (equality).",
)
async def list_entries(
    request: Request,
    type_name: TypeParam,
    locale: LocaleParam = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    if not TYPE.match(type_name):
        raise NotFound(f"unknown content type {type_name[:80]!r}")
    _check_locale(locale)
    filters: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key.startswith("fields."):
            filters[key.removeprefix("fields.")] = value
        elif key not in ("locale", "limit", "cursor", PREVIEW_QUERY):
            raise BadRequest(f"unknown query parameter {key!r}; use locale, limit, cursor or fields.<name>")
    if (
        PIN_HEADER in request.headers
        and (
            pinned := await pinned_list_response(
                request, type_name, locale=locale, cursor=cursor, limit=limit, filters=filters
            )
        )
        is not None
    ):
        return pinned
    key = list_key(type_name, str(request.url.query))

    def render(source: ContentSource) -> Rendered:
        result = source.entries(type_name, locale, cursor=cursor, limit=limit, filters=filters)
        body = {"items": [r.body for r in result.items], "next_cursor": result.next_cursor, "limit": limit}
        return Rendered(body, result.surrogate_keys, {"content_type": type_name, "count": len(result.items)})

    return await _cached(request, key, render, "")
