"""Every respondent-facing Dutch text is readable at B1 level, by a documented rule.

The rule (after the B1 guidance of Stichting Makkelijk Lezen and the Dutch government's writing
guide ("Direct duidelijk"): short sentences, everyday words):

1. No sentence has more than :data:`MAX_SENTENCE_WORDS` words.
2. No word of :data:`LONG_WORD` or more letters on the pages young people and parents see; on the
   professionals' self-report (their working vocabulary: "leidinggevende") at most one per sentence.
3. The texts of each form's road together score at least :data:`MIN_FLESCH_DOUMA` on the
   Flesch-Douma formula (Douma 1960, the Dutch adaptation of Flesch reading ease):
   ``206.835 - 0.93 * words / sentences - 77 * syllables / words``; 60-70 is "fairly easy", B1 text
   usually scores 70 or more. Syllables are counted as groups of vowels (``ij``, ``ui``, ``oe`` ... are
   one group), the usual approximation for Dutch.

The texts: the newest instrument version (titles, intro, items, section headings, scale labels) and
every Dutch text in ``app/templates/respondent/messages.yaml``, with ``{naam}`` and the other
placeholders read as a short name.
"""

from __future__ import annotations

import re

import pytest

from app.collection.views import messages
from instrument import current_instrument

MAX_SENTENCE_WORDS = 20
LONG_WORD = 13
MIN_FLESCH_DOUMA = 70
WORD = re.compile(r"[A-Za-zÀ-ÿ']+")
VOWEL_GROUP = re.compile(r"[aeiouyàáâäèéêëìíîïòóôöùúûü]+")


def sentences(text: str) -> list[str]:
    text = re.sub(r"\{[a-z]+\}", "Sam", text)
    return [part for part in re.split(r"(?<=[.?!:])\s+|\s+·\s+", text) if WORD.search(part)]


def syllables(word: str) -> int:
    return max(1, len(VOWEL_GROUP.findall(word.lower())))


def flesch_douma(texts: list[str]) -> float:
    parts = [sentence for text in texts for sentence in sentences(text)]
    words = [word for sentence in parts for word in WORD.findall(sentence)]
    return 206.835 - 0.93 * len(words) / len(parts) - 77 * sum(map(syllables, words)) / len(words)


def form_texts(form_id: str) -> list[str]:
    """The Dutch texts of one form of the newest instrument version, as respondents see them."""
    instrument = current_instrument()
    form = instrument.form(form_id)
    subscales = [
        *form.core_subscales.values(),
        *(s for m in form.modules.values() for s in m.subscales.values()),
    ]
    return [
        form.title["nl"],
        form.intro["nl"],
        *(instrument.scale.labels[point]["nl"] for point in instrument.scale.points),
        instrument.scale.dont_know["nl"],
        *(subscale.title["nl"] for subscale in subscales),
        *(item.text["nl"] for subscale in subscales for item in subscale.items),
    ]


def page_texts(form_id: str) -> list[str]:
    """The form's instrument texts and the respondent pages' texts in its register."""
    loaded = messages()
    register = loaded["forms"][form_id]
    return [*form_texts(form_id), *loaded["nl"]["common"].values(), *loaded["nl"][register].values()]


FORMS = ["jongere", "ouder", "professional"]


@pytest.mark.parametrize("form_id", FORMS)
def test_no_sentence_is_too_long(form_id: str) -> None:
    long = [
        s
        for text in page_texts(form_id)
        for s in sentences(text)
        if len(WORD.findall(s)) > MAX_SENTENCE_WORDS
    ]
    assert not long, long


@pytest.mark.parametrize("form_id", FORMS)
def test_long_words_are_rare(form_id: str) -> None:
    allowed = 1 if form_id == "professional" else 0
    crowded = [
        sentence
        for text in page_texts(form_id)
        for sentence in sentences(text)
        if len([word for word in WORD.findall(sentence) if len(word) >= LONG_WORD]) > allowed
    ]
    assert not crowded, crowded


@pytest.mark.parametrize("form_id", FORMS)
def test_flesch_douma_reading_ease(form_id: str) -> None:
    assert flesch_douma(page_texts(form_id)) >= MIN_FLESCH_DOUMA


def test_the_rule_tells_hard_text_from_easy_text() -> None:
    """The rule must be able to fail: an official sentence fails it, a B1 sentence passes."""
    hard = (
        "Ten behoeve van de integrale dienstverlening verzoeken wij u vriendelijk de onderstaande "
        "vragenlijst betreffende de samenwerkingsrelatie met uw hulpverlener volledig in te vullen."
    )
    easy = "Sam luistert echt naar u. Sam vraagt wat u ervan vindt."
    assert flesch_douma([hard]) < MIN_FLESCH_DOUMA <= flesch_douma([easy])
    assert len(WORD.findall(hard)) > MAX_SENTENCE_WORDS
    assert any(len(word) >= LONG_WORD for word in WORD.findall(hard))
