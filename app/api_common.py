"""What every JSON router shares: the largest row id, one page of a list, the problem+json answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel

MAX_ROW_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL; a larger one must not reach the driver
MAX_OFFSET = 1_000_000_000
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
PROBLEM_JSON = "application/problem+json"

PathId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
"""A row id in a path: a larger one answers 422 and never reaches the driver."""

ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """One page of a list: ``total`` counts every match, ``items`` holds at most ``limit`` of them."""

    items: list[ItemT]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int


def paging(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Paging:
    return Paging(limit=limit, offset=offset)


PagingDep = Annotated[Paging, Depends(paging)]


def page_of(items: Sequence[ItemT], total: int, paging: Paging) -> Page[ItemT]:
    """The page holding ``items`` of ``total`` matches, as ``paging`` asked for it."""
    return Page[ItemT](items=list(items), total=total, limit=paging.limit, offset=paging.offset)


def base_url(request: Request) -> str:
    """Where the service is reached (``VERBONDEN_BASE_URL``): the start of every link it hands out."""
    return str(request.app.state.settings.base_url)


BaseUrl = Annotated[str, Depends(base_url)]


def problem(description: str) -> dict[str, Any]:
    """One OpenAPI answer in ``application/problem+json`` (see :mod:`app.errors`)."""
    return {"content": {PROBLEM_JSON: {}}, "description": description}


UNAUTHORIZED = "No, or an unknown, API key"
NOT_IN_MUNICIPALITY = "No such object in the key's municipality"
INVALID_INPUT = "Invalid input; `errors` names the fields"


def error_responses(
    *,
    forbidden: str | None = None,
    not_found: str | None = None,
    invalid: str | None = None,
) -> dict[int | str, dict[str, Any]]:
    """The problem+json answers of a route for OpenAPI: always 401, and 403/404/422 when described.

    Add others beside it: ``{**error_responses(forbidden=...), 409: problem("...")}``.
    """
    responses: dict[int | str, dict[str, Any]] = {401: problem(UNAUTHORIZED)}
    for status, description in ((403, forbidden), (404, not_found), (422, invalid)):
        if description is not None:
            responses[status] = problem(description)
    return responses
