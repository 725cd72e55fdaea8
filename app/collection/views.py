"""The respondent pages: ``GET/POST /s/{token}``, the thank-you page and the link problem pages.

Server-rendered, no JavaScript. A refused submission comes back as the same form with every answer
kept and a message at the question concerned; a database outage does the same with status 503.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, quote
from zoneinfo import ZoneInfo

import yaml
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.collection import caches, service
from app.collection.links import LinkProblem
from app.collection.service import LinkUnavailable, Questionnaire
from app.db import UnitOfWorkDep
from app.errors import DATABASE_RETRY_AFTER_SECONDS
from app.models import Municipality
from app.templates import TEMPLATES_DIR, templates

DONT_KNOW = "x"
SEND_ANYWAY_FIELD = "skipped"
SEND_ANYWAY_VALUE = "send"
MAX_FORM_FIELDS = 250
MAX_FORM_BYTES = 64 * 1024
MAX_FIELD_BYTES = 4096
"""A field's name and value together, as sent (what Starlette's multipart parser allows a part)."""
PAGE_CACHE_SIZE = 2048

LOCAL_TIME = ZoneInfo("Europe/Amsterdam")
# The link problems a new QR code solves; the page says whom to ask.
ASK_FOR_A_NEW_CODE = frozenset({LinkProblem.unknown, LinkProblem.expired, LinkProblem.revoked})

router = APIRouter(include_in_schema=False)


@cache
def messages() -> dict[str, Any]:
    """The respondent texts file (``templates/respondent/messages.yaml``), as loaded."""
    with (TEMPLATES_DIR / "respondent" / "messages.yaml").open(encoding="utf-8") as file:
        loaded: dict[str, Any] = yaml.safe_load(file)
    return loaded


def register_of(form: str | None) -> str:
    """The register a form's reader is addressed in: ``je`` (youth, self-report) or ``u`` (parents)."""
    loaded = messages()
    registers: dict[str, str] = loaded["forms"]
    default: str = loaded["default_register"]
    return registers.get(form or "", default)


@cache
def texts(lang: str, register: str) -> dict[str, str]:
    """The texts of a page in ``lang`` for a reader addressed in ``register``: common + register."""
    by_language: dict[str, dict[str, str]] = messages()[lang]
    return {**by_language["common"], **by_language.get(register, {})}


def role_in(lang: str, role: str) -> str:
    """The professional's role in ``lang``: registered in Dutch, translated when it is a known role."""
    if lang == "nl":
        return role
    roles: dict[str, str] = messages()["roles"]
    return roles.get(role.strip().lower(), role)


def language(value: str | None) -> str:
    return value if value in service.LANGUAGES else service.DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Sender:
    """Who asks: the municipality's name for respondents, its contact and its privacy statement."""

    name: str
    email: str | None = None
    phone: str | None = None
    privacy_url: str | None = None
    privacy_text: str | None = None


def sender_of(municipality: Municipality | None) -> Sender | None:
    if municipality is None:
        return None
    return Sender(
        name=municipality.sender_name,
        email=municipality.contact_email,
        phone=municipality.contact_phone,
        privacy_url=municipality.privacy_url,
        privacy_text=municipality.privacy_text,
    )


@dataclass(frozen=True)
class Section:
    """A part of the form: a subscale's items under its heading ("Deel 2 van 4 · Erbij horen")."""

    heading: str
    first: int  # the number of its first question on the form (1-based)
    items: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class FormPage:
    """What a form page shows, independent of the answers: kept in memory so that the form can
    be shown again with the respondent's answers even while the database is unreachable."""

    lang: str
    register: str
    title: str
    heading: str
    intro: str
    privacy: str
    privacy_more: str
    estimate: str
    self_report: bool
    sender: Sender | None
    sections: tuple[Section, ...]
    items: tuple[dict[str, str], ...]
    choices: tuple[tuple[str, str], ...]


_pages: caches.LRU[tuple[str, str], FormPage] = caches.lru(PAGE_CACHE_SIZE)


def form_page(token: str, questionnaire: Questionnaire, lang: str) -> FormPage:
    register = register_of(questionnaire.form.id)
    t = texts(lang, register)
    naam = questionnaire.professional.display_name
    instrument = questionnaire.instrument
    self_report = not questionnaire.about_professional
    title = questionnaire.form.render_title(lang, naam)
    groups = questionnaire.form.subscales(questionnaire.modules)
    titles = {
        subscale.id: subscale.title[lang] for subscale in questionnaire.form.core_subscales.values()
    } | {
        subscale.id: subscale.title[lang]
        for module in questionnaire.form.modules.values()
        for subscale in module.subscales.values()
    }
    by_id = {item.id: item for item in questionnaire.items}
    sections = []
    first = 1
    for number, group in enumerate(groups, start=1):
        part = t["part_of"].format(n=number, total=len(groups))
        section_items = tuple(
            {"id": item_id, "text": by_id[item_id].render(lang, naam)} for item_id in group.item_ids
        )
        sections.append(Section(f"{part} · {titles[group.subscale]}", first, section_items))
        first += len(section_items)
    count = len(questionnaire.items)
    minutes = service.minutes_to_fill_in(count)
    page = FormPage(
        lang=lang,
        register=register,
        title=title,
        heading=title
        if self_report
        else t["about"].format(naam=naam, rol=role_in(lang, questionnaire.professional.role)),
        intro=questionnaire.form.render_intro(lang, naam),
        privacy=t["privacy_self"] if self_report else t["privacy"].format(naam=naam),
        privacy_more=t["privacy_more"],
        estimate=(t["estimate_one"] if minutes == 1 else t["estimate_many"]).format(
            items=count, minuten=minutes
        ),
        self_report=self_report,
        sender=sender_of(questionnaire.municipality),
        sections=tuple(sections),
        items=tuple(item for section in sections for item in section.items),
        choices=(
            *((str(point), instrument.scale.labels[point][lang]) for point in instrument.scale.points),
            (DONT_KNOW, instrument.scale.dont_know[lang]),
        ),
    )
    _pages.put((token, lang), page)
    return page


@dataclass
class Posted:
    """A posted form, split into its answer fields and its own fields."""

    lang: str
    submission_id: str
    answers: dict[str, str] = field(default_factory=dict)
    repeated: set[str] = field(default_factory=set)
    send_anyway: bool = False  # "Toch versturen": store although questions were skipped


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
    send_anyway = fields.pop(SEND_ANYWAY_FIELD, "") == SEND_ANYWAY_VALUE
    posted = Posted(
        lang=lang, submission_id=submission_id, answers=fields, repeated=repeated, send_anyway=send_anyway
    )
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
    skipped: tuple[str, ...] = (),
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    context = form_context(
        page,
        answers=answers,
        errors=errors,
        submission_id=submission_id,
        notice=notice,
        unknown_questions=unknown_questions,
        skipped=skipped,
    )
    return templates.TemplateResponse(
        request, "respondent/form.html", context, status_code=status_code, headers=headers
    )


def form_context(
    page: FormPage,
    *,
    answers: dict[str, str],
    errors: dict[str, str],
    submission_id: str,
    notice: str | None = None,
    unknown_questions: bool = False,
    skipped: tuple[str, ...] = (),
) -> dict[str, Any]:
    """What ``respondent/form.html`` is rendered with."""
    t = texts(page.lang, page.register)
    return {
        **page.__dict__,
        "t": t,
        "other_lang": "en" if page.lang == "nl" else "nl",
        "answers": answers,
        "errors": errors,
        "submission_id": submission_id,
        "notice": notice,
        "unknown_questions": unknown_questions,
        "skipped": skipped,
        "skipped_question": (t["skipped_one"] if len(skipped) == 1 else t["skipped_many"]).format(
            aantal=len(skipped)
        ),
        "send_anyway": (SEND_ANYWAY_FIELD, SEND_ANYWAY_VALUE),
    }


def render_message(
    request: Request,
    lang: str,
    register: str,
    heading: str,
    paragraphs: list[str],
    *,
    sender: Sender | None = None,
    switch: bool = True,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A short page (thank-you, link status, outage), with the language switch and the sender."""
    return templates.TemplateResponse(
        request,
        "respondent/message.html",
        {
            "lang": lang,
            "other_lang": "en" if lang == "nl" else "nl",
            "t": texts(lang, register),
            "switch": switch,
            "heading": heading,
            "paragraphs": paragraphs,
            "sender": sender,
        },
        status_code=status_code,
        headers=headers,
    )


def opening_day(moment: datetime, lang: str) -> str:
    """The day a wave opens, in the respondent's language and the Dutch time zone: "dinsdag 1 december
    2026", with the time when it opens later than midnight ("om 9:00")."""
    local = moment.astimezone(LOCAL_TIME)
    names: dict[str, Any] = messages()["calendar"][lang]
    day = f"{names['days'][local.weekday()]} {local.day} {names['months'][local.month - 1]} {local.year}"
    if (local.hour, local.minute) != (0, 0):
        day += " " + names["at"].format(tijd=f"{local.hour}:{local.minute:02d}")
    return day


def render_link_problem(
    request: Request,
    problem: LinkUnavailable,
    lang: str,
    *,
    status_code: int | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Say what is wrong with the link, and what to do: when it opens, or whom to ask for a new code."""
    register = register_of(problem.form)
    t = texts(lang, register)
    reason = problem.problem
    sender = sender_of(problem.municipality)
    if reason == LinkProblem.not_open and problem.wave is not None:
        paragraphs = [t["link_body_not_open"].format(dag=opening_day(problem.wave.opens_at, lang))]
    else:
        paragraphs = [t[f"link_body_{reason.value}"]]
    if reason in ASK_FOR_A_NEW_CODE:
        paragraphs.append(t["ask_sender"].format(afzender=sender.name) if sender else t["ask_unknown"])
    return render_message(
        request,
        lang,
        register,
        t[f"link_title_{reason.value}"],
        paragraphs,
        sender=sender,
        status_code=status_code or problem.status,
        headers=headers,
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
    """Submit through :func:`service.submit` and show its outcome: thanks, the form again, a link problem."""
    valid_id = 16 <= len(posted.submission_id) <= 64
    key = service.submission_key("form", posted.submission_id if valid_id else secrets.token_hex(16))
    outcome = service.submit(
        session,
        token,
        {name: parse_answer(value) for name, value in posted.answers.items()},
        language=posted.lang,
        key=key,
        allow_skipped=posted.send_anyway,
        repeated=frozenset(posted.repeated),
    )
    match outcome:
        # A retry of a stored submission is thanked again (the form sends its answers once).
        case service.Stored() | service.KeyReused():
            return Response(
                status_code=303,
                headers={"Location": f"/s/{quote(token, safe='')}/bedankt?lang={posted.lang}"},
            )
        case service.Unusable(problem):
            return render_link_problem(request, problem, posted.lang)
    page = form_page(token, outcome.questionnaire, posted.lang)
    submission_id = posted.submission_id if valid_id else secrets.token_urlsafe(18)
    if isinstance(outcome, service.SkippedTooMany):
        # Asked once, calmly, before anything is stored: fill in the skipped questions, or send anyway.
        return render_form(
            request,
            page,
            answers={name: value for name, value in posted.answers.items() if name in outcome.answers},
            errors={},
            submission_id=submission_id,
            skipped=outcome.skipped,
        )
    refused = outcome.refused
    known = set(outcome.questionnaire.item_ids)
    return render_form(
        request,
        page,
        answers={
            name: value
            for name, value in posted.answers.items()
            if name in known and name not in refused.problems
        },
        errors={
            name: problem.value
            for name, problem in refused.problems.items()
            if name in known or name == "_form"
        },
        submission_id=submission_id,
        status_code=422,
        unknown_questions=any(
            problem == service.AnswerProblem.unknown_question for problem in refused.problems.values()
        ),
    )


@router.get("/s/{token}/bedankt", response_class=HTMLResponse)
async def thanks(
    request: Request, token: str, unit_of_work: UnitOfWorkDep, lang: str | None = None
) -> HTMLResponse:
    """The thank-you page, with the sender. It reads the form page this process showed; only when
    another process showed it does it look up the link's form and sender."""
    chosen = language(lang)
    page = _pages.get((token, chosen))
    if page is not None:
        return thanks_page(request, chosen, page.register, page.sender, page.self_report)
    try:
        return await unit_of_work.run(thanks_from_database, request, token, chosen)
    except SQLAlchemyError:  # the answers are stored: thank the respondent even during an outage
        return thanks_page(request, chosen, register_of(None), None, False)


def thanks_from_database(session: Session, request: Request, token: str, lang: str) -> HTMLResponse:
    found = service.link_sender(session, token)
    if found is None:
        return thanks_page(request, lang, register_of(None), None, False)
    form, municipality = found
    return thanks_page(request, lang, register_of(form), sender_of(municipality), form == "professional")


def thanks_page(
    request: Request, lang: str, register: str, sender: Sender | None, self_report: bool
) -> HTMLResponse:
    t = texts(lang, register)
    paragraphs = [t["thanks_self"] if self_report else t["thanks_body"], t["thanks_close"]]
    if sender is not None:
        paragraphs.append(t["thanks_questions"].format(afzender=sender.name))
    return render_message(request, lang, register, t["thanks_title"], paragraphs, sender=sender)


def unavailable_page(request: Request) -> HTMLResponse | None:
    """The form again with the respondent's answers, for a database outage during a submission."""
    posted: Posted | None = getattr(request.state, "posted", None)
    lang = posted.lang if posted else language(request.query_params.get("lang"))
    token = request.path_params.get("token", "")
    page: FormPage | None = getattr(request.state, "form_page", None) or _pages.get((token, lang))
    register = page.register if page else register_of(None)
    t = texts(lang, register)
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    if page is None:
        body = t["unavailable_body"] if posted else t["unavailable_page"]
        return render_message(
            request, lang, register, t["busy_title"], [body], switch=False, status_code=503, headers=headers
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
