"""The professional's feedback page, ``GET /f/{token}``: public (the token is the key), no JavaScript.

The token is never logged: the access log names the route template, and the audit trail the link id.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlencode

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.db import SessionDep
from app.feedback import service
from app.feedback.certainty import Next, certainty
from app.feedback.service import Feedback, FeedbackUnavailable, FormFeedback, SubscaleFeedback
from app.instrument_versions.service import instrument_for_version
from app.publication.dates import day_in_words
from app.reports.schemas import GroupScore
from app.templates import TEMPLATES_DIR, templates
from instrument.schema import Instrument

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
# The plot's drawing area (SVG user units): the scale 1..5 runs from PLOT_LEFT to PLOT_RIGHT.
PLOT_LEFT = 14.0
PLOT_RIGHT = 306.0
SCALE_MIN = 1.0
SCALE_MAX = 5.0
HEADERS = {"X-Robots-Tag": "noindex, nofollow"}

router = APIRouter(include_in_schema=False)


@cache
def _texts() -> dict[str, Any]:
    with (TEMPLATES_DIR / "feedback" / "messages.yaml").open(encoding="utf-8") as file:
        loaded: dict[str, Any] = yaml.safe_load(file)
    return loaded


def messages() -> dict[str, dict[str, str]]:
    """The page's texts per language (``templates/feedback/messages.yaml``)."""
    return {lang: _texts()[lang] for lang in LANGUAGES}


def prompts() -> dict[str, dict[str, str]]:
    """The conversation prompt of each item, per language (``prompts`` in the same file)."""
    loaded: dict[str, dict[str, str]] = _texts()["prompts"]
    return loaded


def language(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def decimal(value: float, lang: str, digits: int = 1) -> str:
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "nl" else text


def answers(n: int | None, t: dict[str, str]) -> str:
    return t["answers_one" if n == 1 else "answers"].format(n=n)


def _x(value: float) -> float:
    share = (min(max(value, SCALE_MIN), SCALE_MAX) - SCALE_MIN) / (SCALE_MAX - SCALE_MIN)
    return round(PLOT_LEFT + share * (PLOT_RIGHT - PLOT_LEFT), 1)


def _shown(cell: GroupScore | None) -> bool:
    return cell is not None and cell.mean is not None and not cell.suppressed


def _same_group(inner: GroupScore | None, outer: GroupScore | None) -> bool:
    """Whether a comparison holds the same respondents as the row inside it (it says nothing new).

    The groups are nested (professional in team in municipality), so an equal count is the same
    group: a professional who is their whole team, a team that is the whole municipality.
    """
    return inner is not None and outer is not None and inner.n is not None and inner.n == outer.n


def _certainty_text(entry: SubscaleFeedback, t: dict[str, str], lang: str, form: str) -> dict[str, Any]:
    """ "Hoe zeker is je score?" in a word, the number in small print, and the next step."""
    assert entry.own is not None
    found = certainty(entry.reliability, entry.own.n)
    who, who_one = t[f"who_{form}"], t[f"who_one_{form}"]
    number = (
        None if found.value is None else t["certainty_number"].format(value=decimal(found.value, lang, 2))
    )
    next_text, next_number = None, None
    if found.next is Next.near and found.target is not None and found.more is not None:
        key = f"next_near_{found.target.value}" + ("_one" if found.more == 1 else "")
        next_text = t[key].format(n=found.more, who=who, who_one=who_one)
    elif found.next is Next.step and found.projected is not None:
        next_text = t["next_step"].format(n=found.more, who=who, who_one=who_one)
        next_number = t["next_step_number"].format(value=decimal(found.projected, lang, 2))
    elif found.next is Next.slow:
        next_text = t["next_slow"]
    elif found.next is Next.unknown:
        next_text = t["next_unknown"]
    return {
        "band": found.band.value,
        "word": t[f"certainty_{found.band.value}"],
        "number": number,
        "next": next_text,
        "next_number": next_number,
    }


def _subscale(entry: SubscaleFeedback, t: dict[str, str], lang: str, form: str) -> dict[str, Any]:
    title = entry.title.get(lang) or entry.title.get(DEFAULT_LANGUAGE) or entry.subscale
    own = entry.own
    if own is None or own.mean is None:
        return {"title": title, "hidden": t["own_hidden"], "missing_comparison": False}
    details = [answers(own.n, t)]
    band = None
    if own.ci is not None and own.ci[0] is not None and own.ci[1] is not None:
        low, high = own.ci[0], own.ci[1]
        details.insert(0, t["range"].format(low=decimal(low, lang), high=decimal(high, lang)))
        band = {"x": _x(low), "width": round(_x(high) - _x(low), 1)}
    team = entry.team if _shown(entry.team) and not _same_group(own, entry.team) else None
    inner = team or own
    municipality = (
        entry.municipality
        if _shown(entry.municipality) and not _same_group(inner, entry.municipality)
        else None
    )
    rows = [{"label": t["you"], "value": decimal(own.mean, lang), "details": details, "own": True}]
    for label, cell in ((t["team"], team), (t["municipality"], municipality)):
        if cell is not None and cell.mean is not None:
            rows.append({"label": label, "value": decimal(cell.mean, lang), "details": [answers(cell.n, t)]})
    plot = {
        "band": band,
        "own": _x(own.mean),
        "team": _x(team.mean) if team is not None and team.mean is not None else None,
        "municipality": _x(municipality.mean)
        if municipality is not None and municipality.mean is not None
        else None,
        "ticks": [{"x": _x(point), "label": str(int(point))} for point in (1.0, 2.0, 3.0, 4.0, 5.0)],
    }
    return {
        "title": title,
        "hidden": None,
        "rows": rows,
        "certainty": _certainty_text(entry, t, lang, form),
        "plot": plot,
        # A comparison the reports hide (not one left out because it is the same group).
        "missing_comparison": (not _shown(entry.team) and not _same_group(own, entry.team))
        or (not _shown(entry.municipality) and not _same_group(inner, entry.municipality)),
    }


def _item_text(instrument: Instrument, form: str, item_id: str, lang: str, naam: str) -> str:
    """The item as the respondents read it, with the professional's name."""
    definition = instrument.form(form)
    item = next(item for item in definition.items(definition.modules) if item.id == item_id)
    return item.render(lang, naam)


def _items(
    entry: FormFeedback, t: dict[str, str], lang: str, instrument: Instrument | None, naam: str
) -> dict[str, Any] | None:
    if entry.items is None or instrument is None:
        return None
    said = prompts()[lang]
    return {
        "strongest_label": t["items_strongest"].format(who=t[f"who_{entry.form}"]),
        "weakest_label": t["items_weakest"],
        "strongest": _item_text(instrument, entry.form, entry.items.strongest.item_id, lang, naam),
        "weakest": _item_text(instrument, entry.form, entry.items.weakest.item_id, lang, naam),
        "strongest_prompt": said.get(entry.items.strongest.item_id),
        "weakest_prompt": said.get(entry.items.weakest.item_id),
    }


def _modules(
    entry: FormFeedback, t: dict[str, str], lang: str, instrument: Instrument | None
) -> list[dict[str, Any]]:
    """The module subscales, one folded block per module, in the form's order."""
    cards: dict[str, list[dict[str, Any]]] = {}
    for subscale in entry.subscales:
        if subscale.module is not None:
            cards.setdefault(subscale.module, []).append(_subscale(subscale, t, lang, entry.form))
    blocks = []
    definition = instrument.form(entry.form) if instrument is not None else None
    for module_id, subscales in cards.items():
        module = definition.modules.get(module_id) if definition is not None else None
        title = (
            (module.title.get(lang) or module.title[DEFAULT_LANGUAGE]) if module is not None else module_id
        )
        blocks.append(
            {
                "summary": t["modules_summary"].format(title=title, count=len(subscales)),
                "subscales": subscales,
            }
        )
    return blocks


def _form(
    entry: FormFeedback, t: dict[str, str], lang: str, minimum: int, instrument: Instrument | None, naam: str
) -> dict[str, Any]:
    core = [
        _subscale(subscale, t, lang, entry.form) for subscale in entry.subscales if subscale.module is None
    ]
    modules = _modules(entry, t, lang, instrument)
    every = core + [card for block in modules for card in block["subscales"]]
    all_hidden = bool(every) and all(card["hidden"] for card in every)
    return {
        "heading": t[f"form_{entry.form}"],
        "too_few": None if entry.shown else t[f"too_few_{entry.form}"].format(min=minimum),
        # One sentence instead of the same one on every card.
        "all_hidden": t["own_hidden_all"] if all_hidden else None,
        "subscales": [] if all_hidden else core,
        "modules": [] if all_hidden else modules,
        "standouts": _items(entry, t, lang, instrument, naam),
        "comparison_hidden": any(card["missing_comparison"] for card in every),
    }


def _context(page: Feedback, token: str, lang: str) -> dict[str, Any]:
    t = messages()[lang]
    wave_query = {"wave_id": page.wave.id} if page.wave is not None else {}
    instrument = instrument_for_version(page.wave.instrument_version) if page.wave is not None else None
    naam = page.professional.display_name
    return {
        "lang": lang,
        "t": t,
        "hello": t["hello"].format(naam=naam),
        "intro": t["intro"].format(ronde=page.wave.name) if page.wave is not None else None,
        "forms": [_form(entry, t, lang, page.min_group_size, instrument, naam) for entry in page.forms],
        "too_few": t["too_few_any"].format(min=page.min_group_size) if not page.forms else None,
        "updated": t["updated"].format(datum=day_in_words(page.updated_at, lang), min=page.min_group_size)
        if page.updated_at is not None
        else None,
        "team_self": [
            {
                "title": title[lang],
                "value": decimal(cell.mean, lang),
                "detail": answers(cell.n, t),
            }
            for title, cell in page.team_self_report
            if cell.mean is not None
        ],
        "switch_url": f"/f/{token}?" + urlencode({**wave_query, "lang": "en" if lang == "nl" else "nl"}),
        "other_waves": [
            {"name": wave.name, "url": f"/f/{token}?" + urlencode({"wave_id": wave.id, "lang": lang})}
            for wave in page.other_waves
        ],
    }


@router.get("/f/{token}", response_class=HTMLResponse)
def feedback_page(
    request: Request, token: str, session: SessionDep, wave_id: str | None = None, lang: str | None = None
) -> HTMLResponse:
    """The professional's own scores beside their team's and the municipality's, or why not yet."""
    chosen = language(lang)
    t = messages()[chosen]
    try:
        page = service.feedback(
            session,
            token=token,
            wave_id=service.parse_wave_id(wave_id),
            min_group_size=request.app.state.settings.min_group_size,
        )
    except FeedbackUnavailable as unavailable:
        reason = unavailable.problem.value
        return templates.TemplateResponse(
            request,
            "feedback/problem.html",
            {"lang": chosen, "heading": t[f"link_title_{reason}"], "body": t[f"link_body_{reason}"]},
            status_code=unavailable.status,
            headers=HEADERS,
        )
    return templates.TemplateResponse(
        request, "feedback/page.html", _context(page, token, chosen), headers=HEADERS
    )
