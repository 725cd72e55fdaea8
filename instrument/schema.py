"""The instrument as typed, frozen data: instrument -> forms -> subscales/modules -> items, and the scale.

Every rule that a definition must follow lives here, so an instrument that exists is a valid one. The
loader (``instrument.loader``) reads the YAML files and turns validation errors into readable messages.
"""

from __future__ import annotations

import hashlib
import json
import keyword
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from typing import Annotated, Any, NamedTuple

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from instrument.errors import DefinitionProblems, Problem, join_path

PLACEHOLDER = "{naam}"
"""The one placeholder a text may hold: the display name of the professional the form is about."""

_PLACEHOLDER_PATTERN = re.compile(r"\{([^{}]*)\}")

# Reserved words that cannot be variable names: SPSS (case-insensitive) and R.
SPSS_RESERVED = frozenset({"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"})
R_RESERVED = frozenset(
    {
        "if", "else", "repeat", "while", "function", "for", "next", "break", "in",
        "TRUE", "FALSE", "NULL", "Inf", "NaN", "NA",
        "NA_integer_", "NA_real_", "NA_character_", "NA_complex_",
    }
)  # fmt: skip
_VARIABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
MAX_VARIABLE_NAME_LENGTH = 64

Identifier = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
"""Ids of forms, subscales and modules: lower snake case (they become keys in reports and URLs)."""

LanguageCode = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z]{2}$")]
ShortText = Mapping[
    LanguageCode, Annotated[str, StringConstraints(strict=True, min_length=1, max_length=200)]
]
LongText = Mapping[
    LanguageCode, Annotated[str, StringConstraints(strict=True, min_length=1, max_length=1500)]
]


def variable_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an SPSS and R variable name, or None when it can."""
    if len(name) > MAX_VARIABLE_NAME_LENGTH:
        return f"is {len(name)} characters long; SPSS allows at most {MAX_VARIABLE_NAME_LENGTH}"
    if not _VARIABLE_NAME.fullmatch(name):
        return "must start with a letter and hold only letters A-Z, digits and '_' (a valid SPSS and R name)"
    if name.endswith("_"):
        return "must not end with '_' (SPSS reserves such names for its own variables)"
    if name.upper() in SPSS_RESERVED:
        return "is a reserved word in SPSS"
    if name in R_RESERVED or keyword.iskeyword(name):
        return "is a reserved word in R or Python"
    return None


def render_text(text: Mapping[str, str], lang: str, naam: str | None = None) -> str:
    """The text in ``lang`` with ``{naam}`` replaced by ``naam``.

    Raises ValueError when the language is missing or when the text needs a name and none is given.
    """
    try:
        template = text[lang]
    except KeyError:
        raise ValueError(f"no text in language {lang!r}; available: {', '.join(text)}") from None
    if PLACEHOLDER in template:
        if naam is None:
            raise ValueError(f"this text names the professional ({PLACEHOLDER}); pass naam=")
        return template.replace(PLACEHOLDER, naam)
    return template


def _placeholder_problem(value: str) -> str | None:
    for name in _PLACEHOLDER_PATTERN.findall(value):
        if "{" + name + "}" != PLACEHOLDER:
            return f"unknown placeholder {{{name}}}; the only placeholder is {PLACEHOLDER}"
    if "{" in _PLACEHOLDER_PATTERN.sub("", value) or "}" in _PLACEHOLDER_PATTERN.sub("", value):
        return f"unbalanced brace; the only placeholder is {PLACEHOLDER}"
    return None


def _check_placeholders(text: Mapping[str, str]) -> Mapping[str, str]:
    """A field validator for texts: known placeholders only, and the same in every language."""
    problems: list[Problem] = []
    for lang, value in text.items():
        problem = _placeholder_problem(value)
        if problem:
            problems.append(Problem(lang, problem))
    written = {lang: value for lang, value in text.items() if value.strip()}  # blanks are reported elsewhere
    with_name = sorted(lang for lang, value in written.items() if PLACEHOLDER in value)
    if with_name and len(with_name) != len(written):
        without = sorted(set(written) - set(with_name))
        problems.append(
            Problem(
                "",
                f"{PLACEHOLDER} appears in {', '.join(with_name)} but not in {', '.join(without)}; "
                "every language must name the professional or none",
            )
        )
    if problems:
        raise DefinitionProblems(problems)
    return text


def _ids_from_keys(value: Any) -> Any:
    """Give each entry of a YAML mapping ``{id: {...}}`` its key as ``id`` (unless it states one)."""
    if isinstance(value, Mapping):
        return {
            key: ({"id": key, **entry} if isinstance(entry, Mapping) and "id" not in entry else entry)
            for key, entry in value.items()
        }
    return value


def _check_keys_match_ids(entries: Mapping[str, Any]) -> None:
    problems = [
        Problem(join_path(key, "id"), f"id {entry.id!r} differs from its key {key!r}; leave the id out")
        for key, entry in entries.items()
        if entry.id != key
    ]
    if problems:
        raise DefinitionProblems(problems)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", serialize_by_alias=True)


class Item(_Frozen):
    """One statement the respondent rates on the scale; ``id`` is also its variable name in exports."""

    id: Annotated[str, StringConstraints(strict=True)]
    text: ShortText
    reverse: StrictBool = False

    @field_validator("id")
    @classmethod
    def _valid_variable_name(cls, value: str) -> str:
        problem = variable_name_problem(value)
        if problem:
            raise ValueError(f"item id {value!r} {problem}")
        return value

    @field_validator("text")
    @classmethod
    def _valid_placeholders(cls, value: Mapping[str, str]) -> Mapping[str, str]:
        return _check_placeholders(value)

    def render(self, lang: str, naam: str | None = None) -> str:
        """The item text in ``lang``, with ``{naam}`` replaced by the professional's display name."""
        return render_text(self.text, lang, naam)

    @property
    def names_professional(self) -> bool:
        """True when the text holds ``{naam}``."""
        return any(PLACEHOLDER in value for value in self.text.values())


class Subscale(_Frozen):
    """Items that together measure one facet; scored as the mean of its answered items."""

    id: Identifier
    title: ShortText
    items: tuple[Item, ...]

    @field_validator("items")
    @classmethod
    def _at_least_three(cls, value: tuple[Item, ...]) -> tuple[Item, ...]:
        if len(value) < 3:
            raise ValueError(f"a subscale needs at least 3 items (for its reliability); found {len(value)}")
        return value

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    @property
    def reverse_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items if item.reverse)


class Module(_Frozen):
    """An optional block of subscales that a wave can switch on for a form."""

    id: Identifier
    title: ShortText
    description: LongText
    subscales: Mapping[Identifier, Subscale] = Field(min_length=1)

    @field_validator("subscales", mode="before")
    @classmethod
    def _subscale_ids(cls, value: Any) -> Any:
        return _ids_from_keys(value)

    @model_validator(mode="after")
    def _keys_are_ids(self) -> Module:
        _check_keys_match_ids(self.subscales)
        return self

    @property
    def items(self) -> list[Item]:
        return [item for subscale in self.subscales.values() for item in subscale.items]


class ScoringGroup(NamedTuple):
    """The items that make one subscale score, as the scoring and report code needs them."""

    subscale: str
    module: str | None
    item_ids: tuple[str, ...]
    reverse_ids: tuple[str, ...]

    @property
    def min_answered(self) -> int:
        """The fewest answered items for a valid score: k - 1 of k (the instrument's scoring rule)."""
        return max(len(self.item_ids) - 1, 1)


class Form(_Frozen):
    """The questionnaire for one kind of respondent: ``jongere``, ``ouder`` or ``professional``.

    The YAML key ``subscales`` holds the core subscales; in Python they are ``core_subscales`` because
    ``subscales()`` is the method that lists every scoring group, core and chosen modules alike.
    """

    id: Identifier
    title: ShortText
    intro: LongText
    core_subscales: Mapping[Identifier, Subscale] = Field(alias="subscales", min_length=1)
    modules: Mapping[Identifier, Module] = Field(default_factory=dict)

    @field_validator("core_subscales", "modules", mode="before")
    @classmethod
    def _entry_ids(cls, value: Any) -> Any:
        return _ids_from_keys(value)

    @field_validator("intro", "title")
    @classmethod
    def _valid_placeholders(cls, value: Mapping[str, str]) -> Mapping[str, str]:
        return _check_placeholders(value)

    @model_validator(mode="after")
    def _keys_are_ids(self) -> Form:
        _check_keys_match_ids(self.core_subscales)
        _check_keys_match_ids(self.modules)
        return self

    def _chosen_modules(self, modules: Iterable[str]) -> list[Module]:
        wanted = set([modules] if isinstance(modules, str) else modules)
        unknown = wanted - set(self.modules)
        if unknown:
            available = ", ".join(self.modules) or "none"
            raise ValueError(
                f"form {self.id!r} has no module {', '.join(sorted(unknown))}; its modules: {available}"
            )
        # The form's own order, whatever order the caller gives: a form always looks the same.
        return [module for module_id, module in self.modules.items() if module_id in wanted]

    def _groups(self, modules: Iterable[str]) -> Iterator[tuple[Subscale, str | None]]:
        for subscale in self.core_subscales.values():
            yield subscale, None
        for module in self._chosen_modules(modules):
            for subscale in module.subscales.values():
                yield subscale, module.id

    def items(self, modules: Iterable[str] = ()) -> list[Item]:
        """The items to show: core subscales in order, then the chosen modules' items in the form's order.

        Raises ValueError for a module this form does not have.
        """
        return [item for subscale, _ in self._groups(modules) for item in subscale.items]

    def subscales(self, modules: Iterable[str] = ()) -> list[ScoringGroup]:
        """The scoring groups: each core subscale, then each subscale of the chosen modules."""
        return [
            ScoringGroup(subscale.id, module_id, subscale.item_ids, subscale.reverse_ids)
            for subscale, module_id in self._groups(modules)
        ]

    def render_intro(self, lang: str, naam: str | None = None) -> str:
        return render_text(self.intro, lang, naam)

    def render_title(self, lang: str, naam: str | None = None) -> str:
        return render_text(self.title, lang, naam)


class Scale(_Frozen):
    """The response scale shared by every item: whole points ``min``..``max``, each with a label."""

    min: StrictInt
    max: StrictInt
    labels: Mapping[int, ShortText]
    dont_know: ShortText
    missing_note: ShortText

    @model_validator(mode="after")
    def _labels_cover_points(self) -> Scale:
        if self.max < self.min:
            raise DefinitionProblems([Problem("max", f"max ({self.max}) is below min ({self.min})")])
        points = set(self.points)
        missing = sorted(points - set(self.labels))
        extra = sorted(set(self.labels) - points)
        problems = []
        if missing:
            problems.append(Problem("labels", f"every point needs a label; missing: {missing}"))
        if extra:
            problems.append(Problem("labels", f"labels for points outside {self.min}..{self.max}: {extra}"))
        if problems:
            raise DefinitionProblems(problems)
        return self

    @property
    def points(self) -> range:
        return range(self.min, self.max + 1)

    @property
    def has_two_ends(self) -> bool:
        """Whether an answer can be mirrored (reverse keying needs a low and a high end)."""
        return self.max > self.min

    def reverse(self, value: int) -> int:
        """The mirrored answer, using the nominal ends of the scale (never the observed ones)."""
        return self.min + self.max - value


class ParallelItems(_Frozen):
    """Items of two forms that ask the same thing of different respondents (a youth and a parent item).

    ``items`` maps an item of the first form to its counterpart in the second; both must sit in
    subscales with the same id. The structure report tests measurement invariance between the two
    forms on these items. The declaration is about analysis, not about what respondents see: it is
    not part of the content hash (:attr:`Instrument.content_hash`), so it may be added to a
    published version's file.
    """

    forms: tuple[Identifier, Identifier]
    items: Mapping[
        Annotated[str, StringConstraints(strict=True)], Annotated[str, StringConstraints(strict=True)]
    ] = Field(min_length=1)


class Instrument(_Frozen):
    """One published version of the questionnaire."""

    id: Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9_-]*$", max_length=60)]
    version: Annotated[str, StringConstraints(strict=True, pattern=r"^[0-9]+(\.[0-9]+)*$", max_length=20)]
    title: ShortText
    languages: tuple[LanguageCode, ...] = Field(min_length=1)
    neutral_name: ShortText
    scale: Scale
    forms: Mapping[Identifier, Form] = Field(min_length=1)
    parallel: tuple[ParallelItems, ...] = ()
    """Items the forms share in meaning (for invariance between forms); not hashed."""

    @field_validator("forms", mode="before")
    @classmethod
    def _form_ids(cls, value: Any) -> Any:
        return _ids_from_keys(value)

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        problems = list(self._problems())
        if problems:
            raise DefinitionProblems(problems)
        return self

    def _texts(self) -> Iterator[tuple[str, Mapping[str, str]]]:
        yield "title", self.title
        yield "neutral_name", self.neutral_name
        for point, label in self.scale.labels.items():
            yield f"scale.labels[{point}]", label
        yield "scale.dont_know", self.scale.dont_know
        yield "scale.missing_note", self.scale.missing_note
        for form_key, form in self.forms.items():
            form_path = f"forms.{form_key}"
            yield f"{form_path}.title", form.title
            yield f"{form_path}.intro", form.intro
            for sub_path, subscale in self._subscales_with_paths(form_key, form):
                yield f"{sub_path}.title", subscale.title
                for index, item in enumerate(subscale.items):
                    yield f"{sub_path}.items[{index}].text", item.text
            for module_key, module in form.modules.items():
                yield f"{form_path}.modules.{module_key}.title", module.title
                yield f"{form_path}.modules.{module_key}.description", module.description

    @staticmethod
    def _subscales_with_paths(form_key: str, form: Form) -> Iterator[tuple[str, Subscale]]:
        for key, subscale in form.core_subscales.items():
            yield f"forms.{form_key}.subscales.{key}", subscale
        for module_key, module in form.modules.items():
            for key, subscale in module.subscales.items():
                yield f"forms.{form_key}.modules.{module_key}.subscales.{key}", subscale

    def _problems(self) -> Iterator[Problem]:
        languages = set(self.languages)
        if len(languages) != len(self.languages):
            yield Problem("languages", "a language is listed twice")
        for path, text in self._texts():
            for lang in self.languages:
                if lang not in text:
                    yield Problem(path, f"missing language {lang!r}")
                elif not text[lang].strip():
                    yield Problem(path, f"empty text in language {lang!r}")
            for lang in text:
                if lang not in languages:
                    yield Problem(path, f"language {lang!r} is not one of the instrument's languages")

        seen_items: dict[str, str] = {}
        for form_key, form in self.forms.items():
            seen_subscales: dict[str, str] = {}
            for sub_path, subscale in self._subscales_with_paths(form_key, form):
                if subscale.id in seen_subscales:
                    yield Problem(
                        sub_path,
                        f"subscale id {subscale.id!r} is used twice in form {form_key!r} "
                        f"(also at {seen_subscales[subscale.id]}); reports key scores by it",
                    )
                seen_subscales.setdefault(subscale.id, sub_path)
                for index, item in enumerate(subscale.items):
                    item_path = f"{sub_path}.items[{index}]"
                    # SPSS does not tell upper from lower case, so neither do we.
                    folded = item.id.lower()
                    if folded in seen_items:
                        yield Problem(
                            f"{item_path}.id",
                            f"duplicate item id {item.id!r} (also at {seen_items[folded]}); "
                            "item ids must be unique across the whole instrument",
                        )
                    seen_items.setdefault(folded, item_path)
                    if item.reverse and not self.scale.has_two_ends:
                        yield Problem(
                            f"{item_path}.reverse",
                            f"item {item.id!r} is marked reverse, but the scale ({self.scale.min}.."
                            f"{self.scale.max}) has no two ends to mirror between",
                        )

        yield from self._parallel_problems()

    def _parallel_problems(self) -> Iterator[Problem]:
        paired_forms: set[frozenset[str]] = set()
        for index, declaration in enumerate(self.parallel):
            path = f"parallel[{index}]"
            first, second = declaration.forms
            unknown = [form for form in declaration.forms if form not in self.forms]
            if unknown:
                yield Problem(
                    f"{path}.forms",
                    f"no form {', '.join(repr(form) for form in unknown)}; forms: {', '.join(self.forms)}",
                )
                continue
            if first == second:
                yield Problem(
                    f"{path}.forms", f"a form is parallel to another form, not to itself ({first!r})"
                )
                continue
            if frozenset(declaration.forms) in paired_forms:
                yield Problem(f"{path}.forms", f"forms {first!r} and {second!r} are declared parallel twice")
            paired_forms.add(frozenset(declaration.forms))
            subscale_of = {
                form: {
                    item: group.subscale
                    for group in self.forms[form].subscales(self.forms[form].modules)
                    for item in group.item_ids
                }
                for form in declaration.forms
            }
            counterparts: dict[str, str] = {}
            for item, counterpart in declaration.items.items():
                item_path = f"{path}.items.{item}"
                if item not in subscale_of[first]:
                    yield Problem(item_path, f"form {first!r} has no item {item!r}")
                    continue
                if counterpart not in subscale_of[second]:
                    yield Problem(item_path, f"form {second!r} has no item {counterpart!r}")
                    continue
                if counterpart in counterparts:
                    yield Problem(
                        item_path,
                        f"item {counterpart!r} is already the counterpart of {counterparts[counterpart]!r}; "
                        "each item has one counterpart",
                    )
                    continue
                counterparts[counterpart] = item
                if subscale_of[first][item] != subscale_of[second][counterpart]:
                    yield Problem(
                        item_path,
                        f"{item!r} is in subscale {subscale_of[first][item]!r} but {counterpart!r} in "
                        f"{subscale_of[second][counterpart]!r}; parallel items measure the same subscale",
                    )

    # -- what the service and the exports use ---------------------------------------------------------

    def parallel_items(self, form_id: str, other_form_id: str) -> dict[str, str]:
        """The items of ``form_id`` declared parallel to items of ``other_form_id``: item -> counterpart.

        Empty when the two forms declare nothing parallel (in either order).
        """
        for declaration in self.parallel:
            if declaration.forms == (form_id, other_form_id):
                return dict(declaration.items)
            if declaration.forms == (other_form_id, form_id):
                return {counterpart: item for item, counterpart in declaration.items.items()}
        return {}

    def parallel_forms(self, form_id: str) -> list[str]:
        """The forms with items declared parallel to ``form_id``'s, in the order declared."""
        return [
            other
            for declaration in self.parallel
            if form_id in declaration.forms
            for other in declaration.forms
            if other != form_id
        ]

    def form(self, form_id: str) -> Form:
        """The form with this id; ValueError naming the forms that exist otherwise."""
        try:
            return self.forms[form_id]
        except KeyError:
            raise ValueError(f"no form {form_id!r}; forms: {', '.join(self.forms)}") from None

    @property
    def module_ids(self) -> frozenset[str]:
        """Every module id in any form (a wave may switch on modules for several forms at once)."""
        return frozenset(module_id for form in self.forms.values() for module_id in form.modules)

    def all_items(self) -> Iterator[tuple[Form, Item]]:
        """Every item of every form, core and modules, in order."""
        for form in self.forms.values():
            for item in form.items(form.modules):
                yield form, item

    def to_dict(self) -> dict[str, Any]:
        """The instrument as JSON-ready data, with the same keys as the YAML file (the API payload)."""
        return self.model_dump(mode="json", by_alias=True)

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 (hex) of the canonical content: independent of YAML layout, comments and key order,
        but changed by any change of wording, id, reverse flag, scale label or the order of items,
        subscales or modules (the order respondents see). The ``parallel`` declaration is left out:
        it says how to analyse the answers, not what was asked, so declaring it for a published
        version keeps that version's hash (and so the responses recorded against it) valid."""
        content = self.to_dict()
        # What respondents see and how answers are scored; the parallel declaration is analysis.
        content.pop("parallel", None)
        canonical = json.dumps(_ordered(content), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_ORDERED_MAPPINGS = frozenset({"subscales", "modules"})


def _ordered(value: Any, key: str | None = None) -> Any:
    """Turn the mappings whose order is content into lists, so that the key sorting of the canonical JSON
    keeps their order; each entry carries its id. Subscales and modules are shown in the order written,
    so their order is content; the order of forms (each shown on its own) is not."""
    if isinstance(value, dict):
        if key in _ORDERED_MAPPINGS:
            return [_ordered(entry) for entry in value.values()]
        return {k: _ordered(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_ordered(entry) for entry in value]
    return value
