"""The respondent pages: ``GET/POST /s/{token}``, the thank-you page and the link problem pages.

Server-rendered, no JavaScript. A refused submission comes back as the same form with every answer
kept and a message at the question concerned; a database outage does the same with status 503.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, quote

import yaml
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app.collection import service
from app.collection.service import AnswersInvalid, LinkUnavailable, Questionnaire
from app.db import UnitOfWorkDep
from app.errors import DATABASE_RETRY_AFTER_SECONDS
from app.templates import TEMPLATES_DIR, templates

DONT_KNOW = "x"
MAX_FORM_FIELDS = 250
MAX_FORM_BYTES = 64 * 1024
MAX_FIELD_BYTES = 4096
"""A field's name and value together, as sent (what Starlette's multipart parser allows a part)."""
PAGE_CACHE_SIZE = 2048

router = APIRouter(include_in_schema=False)


@cache
def messages() -> dict[str, dict[str, str]]:
    """The respondent texts per language (``templates/respondent/messages.yaml``)."""
    with (TEMPLATES_DIR / "respondent" / "messages.yaml").open(encoding="utf-8") as file:
        loaded: dict[str, dict[str, str]] = yaml.safe_load(file)
    return loaded


def language(value: str | None) -> str:
    return value if value in service.LANGUAGES else service.DEFAULT_LANGUAGE


@dataclass(frozen=True)
class FormPage:
    """What a form page shows, independent of the answers: kept in memory so that the form can
    be shown again with the respondent's answers even while the database is unreachable."""

    lang: str
    title: str
    about: str
    intro: str
    privacy: str
    privacy_2: str
    items: tuple[dict[str, str], ...]
    choices: tuple[tuple[str, str], ...]


_pages: OrderedDict[tuple[str, str], FormPage] = OrderedDict()
_pages_lock = threading.Lock()  # routes run in worker threads


def form_page(token: str, questionnaire: Questionnaire, lang: str) -> FormPage:
    t = messages()[lang]
    naam = questionnaire.professional.display_name
    instrument = questionnaire.instrument
    page = FormPage(
        lang=lang,
        title=questionnaire.form.render_title(lang, naam),
        about=t["about"].format(naam=naam, rol=questionnaire.professional.role),
        intro=questionnaire.form.render_intro(lang, naam),
        privacy=t["privacy"],
        privacy_2=t["privacy_2"].format(naam=naam),
        items=tuple({"id": item.id, "text": item.render(lang, naam)} for item in questionnaire.items),
        choices=(
            *((str(point), instrument.scale.labels[point][lang]) for point in instrument.scale.points),
            (DONT_KNOW, instrument.scale.dont_know[lang]),
        ),
    )
    with _pages_lock:
        _pages[(token, lang)] = page
        _pages.move_to_end((token, lang))
        while len(_pages) > PAGE_CACHE_SIZE:
            _pages.popitem(last=False)
    return page


@dataclass
class Posted:
    """A posted form, split into its answer fields and its own fields."""

    lang: str
    submission_id: str
    answers: dict[str, str] = field(default_factory=dict)
    repeated: set[str] = field(default_factory=set)


async def posted_form(request: Request) -> Posted:
    """Parse the form body within limits: ``MAX_FORM_BYTES``, ``MAX_FORM_FIELDS`` of ``MAX_FIELD_BYTES``.

    The phone form posts ``application/x-www-form-urlencoded`` (a few hundred bytes), parsed with
    the standard library in one pass; any other body goes through Starlette's parser (no files).
    A body over the limits is refused (413, 400): no respondent's browser sends one.
    """
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise HTTPException(413, f"A form is at most {MAX_FORM_BYTES} bytes.")
        # one field over its limit (a 60 KB "lang") is refused as a multipart part would be
        if any(len(pair) - (b"=" in pair) > MAX_FIELD_BYTES for pair in bytes(body).split(b"&")):
            raise HTTPException(413, f"A form field is at most {MAX_FIELD_BYTES} bytes.")
        try:
            pairs: list[tuple[str, Any]] = parse_qsl(
                body.decode("utf-8", errors="replace"),
                keep_blank_values=True,
                max_num_fields=MAX_FORM_FIELDS,
                errors="replace",
            )
        except ValueError:
            raise HTTPException(400, f"A form has at most {MAX_FORM_FIELDS} fields.") from None
    else:
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FIELD_BYTES)
        pairs = form.multi_items()
    fields: dict[str, str] = {}
    repeated: set[str] = set()
    for name, value in pairs:
        text = value if isinstance(value, str) else ""
        if name in fields:
            repeated.add(name)
        fields[name] = text
    lang = language(fields.pop("lang", None))
    submission_id = fields.pop("submission_id", "")
    posted = Posted(lang=lang, submission_id=submission_id, answers=fields, repeated=repeated)
    request.state.posted = posted
    return posted


def render_form(
    request: Request,
    page: FormPage,
    *,
    answers: dict[str, str],
    errors: dict[str, str],
    submission_id: str,
    status_code: int = 200,
    notice: str | None = None,
    unknown_questions: bool = False,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {
        **page.__dict__,
        "t": messages()[page.lang],
        "other_lang": "en" if page.lang == "nl" else "nl",
        "answers": answers,
        "errors": errors,
        "submission_id": submission_id,
        "notice": notice,
        "unknown_questions": unknown_questions,
    }
    return templates.TemplateResponse(
        request, "respondent/form.html", context, status_code=status_code, headers=headers
    )


def render_message(
    request: Request,
    lang: str,
    heading: str,
    paragraphs: list[str],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "respondent/message.html",
        {"lang": lang, "heading": heading, "paragraphs": paragraphs},
        status_code=status_code,
        headers=headers,
    )


def render_link_problem(request: Request, problem: LinkUnavailable, lang: str) -> HTMLResponse:
    t = messages()[lang]
    reason = problem.problem.value
    return render_message(
        request, lang, t[f"link_title_{reason}"], [t[f"link_body_{reason}"]], status_code=problem.status
    )


@router.get("/s/{token}", response_class=HTMLResponse)
async def show_form(
    request: Request, token: str, unit_of_work: UnitOfWorkDep, lang: str | None = None
) -> Response:
    """The questionnaire behind a link, ready to fill in."""
    return await unit_of_work.run(show, request, token, language(lang))


def show(session: Session, request: Request, token: str, chosen: str) -> Response:
    try:
        questionnaire = service.open_questionnaire(session, token)
    except LinkUnavailable as problem:
        return render_link_problem(request, problem, chosen)
    page = form_page(token, questionnaire, chosen)
    return render_form(request, page, answers={}, errors={}, submission_id=secrets.token_urlsafe(18))


def parse_answer(value: str) -> int | str | None:
    """``x`` is "weet ik niet" (None), a digit an answer; anything else is kept to be refused."""
    if value == DONT_KNOW:
        return None
    if value.isascii() and value.isdigit() and len(value) <= 2:
        return int(value)
    return value


@router.post("/s/{token}", response_class=HTMLResponse)
async def submit_form(request: Request, token: str, unit_of_work: UnitOfWorkDep) -> Response:
    """Store the answers once and show the thank-you page; or show the form again, answers kept.

    ``async``, with all of its database work and the commit in one worker-thread hop: this is
    the route that meets the load when a whole school fills in the form at once.
    """
    posted = await posted_form(request)
    return await unit_of_work.run(store_or_show_again, request, token, posted)


def store_or_show_again(session: Session, request: Request, token: str, posted: Posted) -> Response:
    thanks = Response(
        status_code=303, headers={"Location": f"/s/{quote(token, safe='')}/bedankt?lang={posted.lang}"}
    )
    valid_id = 16 <= len(posted.submission_id) <= 64
    key = service.submission_key("form", posted.submission_id if valid_id else secrets.token_hex(16))
    parsed = {name: parse_answer(value) for name, value in posted.answers.items()}
    # The common case in one statement; anything unusual goes the whole way below.
    if (
        valid_id
        and not posted.repeated
        and service.store_through_known_link(session, token, parsed, language=posted.lang, key=key)
    ):
        return thanks
    try:
        questionnaire = service.open_questionnaire(session, token)
    except LinkUnavailable as problem:
        # A retry of a submission that was stored (and used up a personal link) is thanked again.
        if valid_id and service.already_stored(session, key):
            return thanks
        return render_link_problem(request, problem, posted.lang)
    page = form_page(token, questionnaire, posted.lang)
    request.state.form_page = page
    submission_id = posted.submission_id if valid_id else secrets.token_urlsafe(18)
    try:
        answers = service.check_answers(questionnaire, parsed)
        if posted.repeated & set(questionnaire.item_ids):
            raise AnswersInvalid(
                {name: service.AnswerProblem.not_on_scale for name in posted.repeated}, answers
            )
    except AnswersInvalid as refused:
        known = set(questionnaire.item_ids)
        errors = {
            name: problem.value
            for name, problem in refused.problems.items()
            if name in known or name == "_form"
        }
        kept = {
            name: value
            for name, value in posted.answers.items()
            if name in known and name not in refused.problems
        }
        unknown = any(
            problem == service.AnswerProblem.unknown_question for problem in refused.problems.values()
        )
        return render_form(
            request,
            page,
            answers=kept,
            errors=errors,
            submission_id=submission_id,
            status_code=422,
            unknown_questions=unknown,
        )
    service.store_response(session, questionnaire, answers, language=posted.lang, key=key)
    return thanks


@router.get("/s/{token}/bedankt", response_class=HTMLResponse)
def thanks(request: Request, token: str, lang: str | None = None) -> HTMLResponse:
    """The thank-you page (it reads nothing from the database)."""
    t = messages()[language(lang)]
    return render_message(request, language(lang), t["thanks_title"], [t["thanks_body"], t["thanks_close"]])


def unavailable_page(request: Request) -> HTMLResponse | None:
    """The form again with the respondent's answers, for a database outage during a submission."""
    posted: Posted | None = getattr(request.state, "posted", None)
    lang = posted.lang if posted else language(request.query_params.get("lang"))
    token = request.path_params.get("token", "")
    page: FormPage | None = getattr(request.state, "form_page", None) or _pages.get((token, lang))
    t = messages()[lang]
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    if page is None:
        return render_message(
            request, lang, t["busy_title"], [t["unavailable_body"]], status_code=503, headers=headers
        )
    return render_form(
        request,
        page,
        answers=dict(posted.answers) if posted else {},
        errors={},
        submission_id=posted.submission_id if posted else secrets.token_urlsafe(18),
        status_code=503,
        notice=t["unavailable_body"],
        headers=headers,
    )
