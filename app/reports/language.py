"""Numbers and warnings of the HTML report in the report's language (issue #19).

Every number the report page prints goes through :class:`Say` (the templates get it as ``fmt``,
``fmt_ci`` and friends, the plots through ``say.number``), so the Dutch report has a decimal comma
throughout and an interval reads ``[0,84; 0,87]`` (a comma inside a number cannot also separate the
two ends). The JSON reports keep their English warnings; :meth:`Say.warning` words the known ones
in Dutch for the Dutch page, with their numbers in Dutch notation and subscale ids as their titles.
An unknown warning is shown as it is (never dropped).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Language = Literal["nl", "en"]
DASH = "–"
MINUS = "−"
"""U+2212: a minus sign that does not break from its number and reads as "min"."""

UNITS = {
    "team": "team",
    "teams": "teams",
    "professional": "professional",
    "professionals": "professionals",
    "partner": "partner",
    "partners": "partners",
    "wave": "meetronde",
}

# (English pattern, Dutch wording). Named groups: ``sub``/``sub2`` a subscale id (shown as its
# title), ``num*`` a number (Dutch notation), ``pct`` a percentage, ``unit`` a level, ``reason`` a
# nested message (translated by the same table), anything else as it is.
_WARNINGS: list[tuple[str, str]] = [
    (
        r"This wave has no responses on this form yet: there is nothing to (compute|analyse)\.",
        "Deze meetronde heeft nog geen antwoorden op deze vragenlijst: er valt nog niets te berekenen.",
    ),
    (
        r"Only (?P<n>\d+) responses: item statistics are withheld below (?P<m>\d+) respondents, and scale "
        r"statistics are very uncertain\.",
        "Maar {n} antwoorden: itemstatistieken worden pas getoond vanaf {m} respondenten, en de "
        "schaalstatistieken zijn nog erg onzeker.",
    ),
    (
        r"Alpha of (?P<sub>\S+) is (?P<num>[\d.-]+), below \.70: the items do not yet measure one thing "
        r"reliably enough to compare people or groups on this subscale\.",
        "Alpha van {sub} is {num}, lager dan 0,70: de items meten nog niet betrouwbaar genoeg één ding "
        "om mensen of groepen op deze subschaal te vergelijken.",
    ),
    (
        r"Only (?P<n>\d+) respondents answered every item of (?P<sub>\S+); alpha and omega are unstable "
        r"below (?P<m>\d+) \(see the width of the interval\)\.",
        "Maar {n} respondenten beantwoordden alle items van {sub}; alpha en omega zijn onder de {m} "
        "onstabiel (zie de breedte van het interval).",
    ),
    (
        r"The item-rest correlation of (?P<item>\S+) cannot be determined \(niet te bepalen\): the pairwise "
        r"covariances of so few respondents do not fit together\.",
        "De item-restcorrelatie van {item} is niet te bepalen: de paarsgewijze covarianties van zo weinig "
        "respondenten passen niet bij elkaar.",
    ),
    (
        r"Item (?P<item>\S+) has no variance: everyone gave the same answer\.",
        "Item {item} varieert niet: iedereen gaf hetzelfde antwoord.",
    ),
    (
        r"Removing item (?P<item>\S+) would raise alpha of (?P<sub>\S+) from (?P<num>[\d.-]+) to "
        r"(?P<num2>[\d.-]+): check its wording and how respondents read it\.",
        "Zonder item {item} gaat alpha van {sub} van {num} naar {num2}: bekijk de formulering en hoe "
        "respondenten het item lezen.",
    ),
    (
        r"(?P<pct>\d+)% of the answers to item (?P<item>\S+) are at the (?P<end>lowest|highest) point "
        r"\(more than (?P<pct2>\d+)%\): the item tells little apart at that end\.",
        "{pct} van de antwoorden op item {item} staat op het {end} punt (meer dan {pct2}): aan die kant "
        "onderscheidt het item weinig.",
    ),
    (
        r"ICC\(2\) of (?P<sub>\S+) per (?P<unit>\w+) cannot be determined \(niet te bepalen\): \w+ differ "
        r"less than chance, so their means are not yet reliable\.",
        "ICC(2) van {sub} per {unit} is niet te bepalen: de groepen verschillen minder dan toeval, dus "
        "hun gemiddelden zijn nog niet betrouwbaar.",
    ),
    (
        r"ICC\(1\) of (?P<sub>\S+) is (?P<num>[\d.-]+): \w+ do not differ more than chance, so no number "
        r"of respondents makes a (?P<unit>\w+)'s mean reliable\.",
        "ICC(1) van {sub} is {num}: de groepen verschillen niet meer dan toeval, dus geen aantal "
        "respondenten maakt het gemiddelde per {unit} betrouwbaar.",
    ),
    (
        r"(?P<n>\d+) of (?P<m>\d+) (?P<unit>\w+?)s are hidden on (?P<sub>\S+): fewer than (?P<k>\d+) "
        r"respondents \(or hidden so a hidden one cannot be worked out\)\.",
        "{n} van de {m} groepen ({unit}) zijn verborgen op {sub}: minder dan {k} respondenten (of "
        "verborgen zodat een andere verborgen groep niet terug te rekenen is).",
    ),
    (
        r"Alpha of (?P<sub>\S+) in the baseline wave is (?P<num>[\d.-]+): no detectable change\.",
        "Alpha van {sub} in de vorige meetronde is {num}: geen aantoonbare verandering te bepalen.",
    ),
    (
        r"Alpha of (?P<sub>\S+) in the baseline wave cannot be computed: (?P<reason>.*)",
        "Alpha van {sub} in de vorige meetronde is niet te berekenen: {reason}",
    ),
    (
        r"(?P<what>Alpha|Omega|Item analysis|Inter-item correlations|rwg\(j\)|Team reliability) of "
        r"(?P<sub>\S+) cannot be computed: (?P<reason>.*)\.",
        "{what} van {sub} is niet te berekenen: {reason}.",
    ),
    (
        r"ICC of (?P<sub>\S+) per (?P<unit>\w+) cannot be computed: (?P<reason>.*)\.",
        "ICC van {sub} per {unit} is niet te berekenen: {reason}.",
    ),
    (
        r"Omega of (?P<sub>\S+): (?P<reason>.*)\.",
        "Omega van {sub}: {reason}.",
    ),
    (
        r"The two waves have no subscale in common on this form\.",
        "De twee meetrondes hebben op deze vragenlijst geen subschaal gemeen.",
    ),
    (
        r"No group is published in both waves yet: a group is compared only where both waves publish it\.",
        "Nog geen groep is in beide meetrondes gepubliceerd: een groep wordt alleen vergeleken als beide "
        "meetrondes hem publiceren.",
    ),
    (
        r"Neither youth nor parents have a published group in this wave yet\.",
        "Nog geen gepubliceerde groep van jongeren of van ouders in deze meetronde.",
    ),
    (
        r"(?P<n>\d+) groups have both a published youth and a published parent mean on (?P<sub>\S+): a "
        r"correlation needs at least three\.",
        "{n} groepen hebben op {sub} zowel een gepubliceerd jongeren- als oudergemiddelde: een correlatie "
        "heeft er minstens drie nodig.",
    ),
    (
        r"With (?P<n>\d+) groups the interval of r needs at least four\.",
        "Met {n} groepen is er geen interval voor r: daarvoor zijn er minstens vier nodig.",
    ),
    (
        r"Item (?P<item>\S+) loads only (?P<num>[\d.-]+) on (?P<sub>\S+) \(below (?P<num2>[\d.-]+)\): it "
        r"shares little with the other items of its subscale\.",
        "Item {item} laadt maar {num} op {sub} (onder {num2}): het deelt weinig met de andere items "
        "van zijn subschaal.",
    ),
    (
        r"Good fit \(CFI (?P<num>[\d.-]+), RMSEA (?P<num2>[\d.-]+), SRMR (?P<num3>[\d.-]+); all within "
        r"[^)]*\): the items measure (?P<what>.*) as the instrument intends\.",
        "Goede fit (CFI {num}, RMSEA {num2}, SRMR {num3}; alle drie binnen de maatstaf van Hu & Bentler, "
        "1999): de items meten {what} zoals het instrument bedoelt.",
    ),
    (
        r"Mixed fit \(CFI (?P<num>[\d.-]+), RMSEA (?P<num2>[\d.-]+), SRMR (?P<num3>[\d.-]+)\): "
        r"(?P<missed>[A-Z, ]+) outside the cut-offs of Hu & Bentler \(1999\)\. The items roughly measure "
        r"(?P<what>.*), but some items or pairs of items do not behave as the model expects; look at the "
        r"loadings\.",
        "Gemengde fit (CFI {num}, RMSEA {num2}, SRMR {num3}): {missed} buiten de maatstaf van Hu & "
        "Bentler (1999). De items meten ongeveer {what}, maar sommige items of paren items gedragen zich "
        "niet zoals het model verwacht; bekijk de ladingen.",
    ),
    (
        r"Poor fit \(CFI (?P<num>[\d.-]+), RMSEA (?P<num2>[\d.-]+), SRMR (?P<num3>[\d.-]+); none within "
        r"[^)]*\): the items do not measure (?P<what>.*) as the instrument intends\.",
        "Slechte fit (CFI {num}, RMSEA {num2}, SRMR {num3}; geen binnen de maatstaf van Hu & Bentler, "
        "1999): de items meten niet {what} zoals het instrument bedoelt.",
    ),
    (
        r"Not analysed: (?P<n>\d+) respondents answered every item of this model, and a factor analysis of "
        r"it needs at least (?P<m>\d+) \((?P<k>\d+) per free parameter, (?P<p>\d+) parameters, and never "
        r"fewer than (?P<q>\d+)\)\.",
        "Niet geanalyseerd: {n} respondenten beantwoordden alle items van dit model, en een factoranalyse "
        "ervan heeft er minstens {m} nodig ({k} per vrije parameter, {p} parameters, en nooit minder "
        "dan {q}).",
    ),
    (r"Not analysed: (?P<reason>.*)\.", "Niet geanalyseerd: {reason}."),
    (
        r"The estimation did not converge \(CFI (?P<num>[\d.-]+), RMSEA (?P<num2>[\d.-]+), SRMR "
        r"(?P<num3>[\d.-]+)\): these numbers are not a fit; do not interpret them\.",
        "De schatting is niet geconvergeerd (CFI {num}, RMSEA {num2}, SRMR {num3}): deze getallen zijn "
        "geen fit; interpreteer ze niet.",
    ),
    (
        r"Invariance across languages is not computed: the answers carry no language here\.",
        "Meetinvariantie tussen talen is niet berekend: de antwoorden hebben hier geen taal.",
    ),
    (
        r"Invariance across languages: every complete response is in one language\.",
        "Meetinvariantie tussen talen: alle complete antwoorden zijn in één taal.",
    ),
    (
        r"Invariance across languages is not tested: it needs at least (?P<n>\d+) complete respondents in "
        r"each of two languages \((?P<shown>.*)\)\.",
        "Meetinvariantie tussen talen is niet getoetst: daarvoor zijn minstens {n} complete respondenten "
        "in elk van twee talen nodig ({shown}).",
    ),
    # Reasons nested in the warnings above (psychometrics' own messages).
    (r"all values are missing", "alle waarden ontbreken"),
    (
        r"the total score has no variance \(sum of the covariance matrix <= 0\)",
        "de totaalscore varieert niet",
    ),
    (
        r"omega needs at least 2 complete rows, got (?P<n>\d+)",
        "omega heeft minstens 2 complete rijen nodig (nu {n})",
    ),
    (
        r"one-factor model has a negative residual variance \(Heywood case\); omega is unreliable",
        "het één-factormodel heeft een negatieve residuele variantie (Heywood-geval); omega is onbetrouwbaar",
    ),
    (r"item '(?P<item>[^']+)' has fewer than 2 answers", "item {item} heeft minder dan 2 antwoorden"),
    (r"\w+ has no rows", "er zijn (nog) geen antwoorden"),
    (
        r"every group has a single respondent: the within-group variance is undefined",
        "elke groep heeft maar één respondent: de variantie binnen groepen is niet bepaald",
    ),
    (
        r"no professional has 2 or more respondents: the residual variance is undefined",
        "geen professional heeft 2 of meer respondenten: de residuele variantie is niet bepaald",
    ),
    (r"no respondent has a group label", "geen respondent hoort bij een groep"),
    (r"the scores have no variance(: ICC\(1\) is undefined)?", "de scores variëren niet"),
    (
        r"the group means do not differ \(MSB = 0\): ICC\(2\) is undefined",
        "de groepsgemiddelden verschillen niet (MSB = 0): ICC(2) is niet bepaald",
    ),
    (r"the variance components could not be estimated", "de variantiecomponenten zijn niet te schatten"),
    (
        r"an ICC needs at least 2 groups with a score, got (?P<n>\d+)",
        "een ICC heeft minstens 2 groepen met een score nodig (nu {n})",
    ),
    (
        r"team variance needs at least 2 teams with a score, got (?P<n>\d+)",
        "de teamvariantie heeft minstens 2 teams met een score nodig (nu {n})",
    ),
    (
        r"omega needs more complete rows than items \((?P<n>\d+) complete rows, (?P<k>\d+) items\)",
        "omega heeft meer complete rijen dan items nodig ({n} complete rijen, {k} items)",
    ),
    (
        r"items '(?P<item>[^']+)' and '(?P<item2>[^']+)' are answered together by fewer than 2 respondents.*",
        "de items {item} en {item2} zijn door minder dan 2 respondenten allebei beantwoord",
    ),
    (
        r"the covariance matrix of the complete cases is singular.*",
        "de covariantiematrix van de complete gevallen is singulier",
    ),
    (
        r"item\(s\) without variance among the complete cases: (?P<items>.*)",
        "items zonder variantie onder de complete gevallen: {items}",
    ),
]
_COMPILED = [(re.compile(pattern + r"\Z", re.S), dutch) for pattern, dutch in _WARNINGS]
_DUTCH_WORDS = {
    "lowest": "laagste",
    "highest": "hoogste",
    "Item analysis": "De itemanalyse",
    "Inter-item correlations": "De correlaties tussen de items",
    "Team reliability": "De teambetrouwbaarheid",
    "3 distinct factors": "3 verschillende factoren",
    "2 distinct factors": "2 verschillende factoren",
    "one factor": "één factor",
}


@dataclass(frozen=True)
class Say:
    """How the report says numbers and warnings in ``lang``; ``titles`` turns subscale ids into titles."""

    lang: Language
    titles: Mapping[str, str] = field(default_factory=dict)

    @property
    def dutch(self) -> bool:
        return self.lang == "nl"

    def _plain(self, value: float, digits: int) -> str:
        text = f"{abs(value):.{digits}f}"
        if self.dutch:
            text = text.replace(".", ",")
        if value < 0 and text.strip("0,.") != "":
            text = MINUS + text
        return text

    def number(self, value: float | None, digits: int = 2) -> str:
        """A number with fixed decimals; a dash for a missing or hidden one."""
        return DASH if value is None else self._plain(value, digits)

    def signed(self, value: float | None, digits: int = 2) -> str:
        """A difference, always with its sign (+0,12; −0,30)."""
        if value is None:
            return DASH
        text = self._plain(value, digits)
        return text if text.startswith(MINUS) else "+" + text

    def interval(self, bounds: Sequence[float | None] | None, digits: int = 2) -> str:
        """``[low, high]``; in Dutch ``[low; high]`` (the comma is the decimal mark)."""
        if not bounds or bounds[0] is None or bounds[1] is None:
            return DASH
        separator = "; " if self.dutch else ", "
        return f"[{self._plain(bounds[0], digits)}{separator}{self._plain(bounds[1], digits)}]"

    def percent(self, share: float | None, digits: int = 0) -> str:
        """A share (0-1) as a percentage."""
        return DASH if share is None else f"{self._plain(share * 100, digits)}%"

    def title(self, subscale: str) -> str:
        return self.titles.get(subscale, subscale)

    def warning(self, text: str) -> str:
        """A warning of the report objects, in the report's language (unknown ones as they are)."""
        if not self.dutch:
            return self._english_titles(text)
        for pattern, dutch in _COMPILED:
            found = pattern.match(text.strip())
            if found:
                return dutch.format(
                    **{name: self._part(name, value) for name, value in found.groupdict().items()}
                )
        return text

    def _english_titles(self, text: str) -> str:
        return re.sub(r"\b[a-z]+(?:_[a-z]+)+\b", lambda found: self.titles.get(found[0], found[0]), text)

    def _part(self, name: str, value: str | None) -> str:
        if value is None:
            return ""
        if name.startswith("sub"):
            return self.title(value)
        if name.startswith("num"):
            try:
                return self.number(float(value), max(len(value.partition(".")[2]), 0) or 0)
            except ValueError:
                return value
        if name.startswith("pct"):
            return f"{value}%"
        if name == "unit":
            return UNITS.get(value, value)
        if name == "reason":
            return self.warning(value)
        return _DUTCH_WORDS.get(value, value)


def formatters(say: Say) -> dict[str, Callable[..., str]]:
    """The template functions every section of the report uses (one home for number formatting)."""
    return {
        "fmt": say.number,
        "fmt_ci": say.interval,
        "fmt_signed": say.signed,
        "fmt_pct": say.percent,
        "say": say.warning,
    }
