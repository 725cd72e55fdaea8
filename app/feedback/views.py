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
from app.feedback.service import Feedback, FeedbackUnavailable, FormFeedback, SubscaleFeedback
from app.publication.dates import day_in_words
from app.reports.schemas import GroupScore
from app.templates import TEMPLATES_DIR, templates

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
RELIABILITY_FAIR = 0.50
# The plot's drawing area (SVG user units): the scale 1..5 runs from PLOT_LEFT to PLOT_RIGHT.
PLOT_LEFT = 14.0
PLOT_RIGHT = 306.0
SCALE_MIN = 1.0
SCALE_MAX = 5.0
HEADERS = {"X-Robots-Tag": "noindex, nofollow"}

router = APIRouter(include_in_schema=False)


@cache
def messages() -> dict[str, dict[str, str]]:
    """The page's texts per language (``templates/feedback/messages.yaml``)."""
    with (TEMPLATES_DIR / "feedback" / "messages.yaml").open(encoding="utf-8") as file:
        loaded: dict[str, dict[str, str]] = yaml.safe_load(file)
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


def _comparison(
    label: str, cell: GroupScore | None, hidden: str, t: dict[str, str], lang: str
) -> dict[str, Any]:
    if cell is None or cell.mean is None:
        return {"label": label, "value": None, "details": [hidden]}
    return {"label": label, "value": decimal(cell.mean, lang), "details": [answers(cell.n, t)]}


def _subscale(entry: SubscaleFeedback, t: dict[str, str], lang: str) -> dict[str, Any]:
    title = entry.title.get(lang) or entry.title.get(DEFAULT_LANGUAGE) or entry.subscale
    own = entry.own
    if own is None or own.mean is None:
        return {"title": title, "hidden": t["own_hidden"]}
    details = [answers(own.n, t)]
    band = None
    if own.ci is not None and own.ci[0] is not None and own.ci[1] is not None:
        low, high = own.ci[0], own.ci[1]
        details.insert(0, t["range"].format(low=decimal(low, lang), high=decimal(high, lang)))
        band = {"x": _x(low), "width": round(_x(high) - _x(low), 1)}
    rows = [
        {"label": t["you"], "value": decimal(own.mean, lang), "details": details, "own": True},
        _comparison(t["team"], entry.team, t["team_hidden"], t, lang),
        _comparison(t["municipality"], entry.municipality, t["municipality_hidden"], t, lang),
    ]
    reliability = None
    if entry.reliability is not None:
        if entry.reliability >= service.RELIABLE:
            word = t["reliability_high"]
        elif entry.reliability >= RELIABILITY_FAIR:
            word = t["reliability_mid"]
        else:
            word = t["reliability_low"]
        reliability = t["reliability"].format(value=decimal(entry.reliability, lang, 2), word=word)
    if entry.more_needed is None:
        more = t["more_unknown"]
    elif entry.more_needed == 0:
        more = t["reliable_now"]
    else:
        more = t["more_needed_one" if entry.more_needed == 1 else "more_needed"].format(n=entry.more_needed)
    plot = {
        "band": band,
        "own": _x(own.mean),
        "team": _x(entry.team.mean) if entry.team is not None and entry.team.mean is not None else None,
        "municipality": _x(entry.municipality.mean)
        if entry.municipality is not None and entry.municipality.mean is not None
        else None,
        "ticks": [{"x": _x(point), "label": str(int(point))} for point in (1.0, 2.0, 3.0, 4.0, 5.0)],
    }
    return {
        "title": title,
        "hidden": None,
        "rows": rows,
        "reliability": reliability,
        "more": more,
        "plot": plot,
    }


def _form(entry: FormFeedback, t: dict[str, str], lang: str, minimum: int) -> dict[str, Any]:
    return {
        "heading": t[f"form_{entry.form}"],
        "too_few": None if entry.shown else t[f"too_few_{entry.form}"].format(min=minimum),
        "subscales": [_subscale(subscale, t, lang) for subscale in entry.subscales],
    }


def _context(page: Feedback, token: str, lang: str) -> dict[str, Any]:
    t = messages()[lang]
    wave_query = {"wave_id": page.wave.id} if page.wave is not None else {}
    return {
        "lang": lang,
        "t": t,
        "hello": t["hello"].format(naam=page.professional.display_name),
        "intro": t["intro"].format(ronde=page.wave.name) if page.wave is not None else None,
        "forms": [_form(entry, t, lang, page.min_group_size) for entry in page.forms],
        "too_few": t["too_few_any"].format(min=page.min_group_size) if not page.forms else None,
        "updated": t["updated"].format(datum=day_in_words(page.updated_at, lang), min=page.min_group_size)
        if page.updated_at is not None
        else None,
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
