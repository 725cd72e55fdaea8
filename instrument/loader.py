"""Read instrument definitions from YAML, validate them strictly, and report problems by file and path."""

from __future__ import annotations

import functools
import os
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from instrument.errors import DefinitionProblems, InstrumentError, Problem, join_path
from instrument.schema import Instrument

DEFINITIONS_DIR = Path(__file__).parent / "definitions"
"""Where the published versions live: one file per version, named ``<id>-<version>.yaml``."""


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error (not an overwrite)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Hashable, Any]:
    loader.flatten_mapping(node)
    first_seen: dict[Hashable, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, Hashable) and key in first_seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first given on line {first_seen[key] + 1})",
                key_node.start_mark,
            )
        if isinstance(key, Hashable):
            first_seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


_PATTERN_MEANING = {
    r"^[a-z][a-z0-9_]*$": "must be lower case letters, digits and '_', starting with a letter",
    r"^[a-z][a-z0-9_-]*$": "must be lower case letters, digits, '_' and '-', starting with a letter",
    r"^[0-9]+(\.[0-9]+)*$": 'must be numbers separated by dots, such as "1.0" (in quotes)',
    r"^[a-z]{2}$": "must be a two-letter language code such as nl or en",
}


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "a mapping (key: value)"
    if isinstance(value, list):
        return "a list (- entries)"
    return type(value).__name__


def _path_from_loc(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if part == "[key]":
            continue  # an error in a mapping's key: the path up to the key already names it
        path = join_path(path, f"[{part}]" if isinstance(part, int) else str(part))
    return path


def _problems_from_error(error: ErrorDetails) -> list[Problem]:
    loc = tuple(error["loc"])
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    path = _path_from_loc(loc)

    if kind == "value_error" and isinstance(ctx.get("error"), DefinitionProblems):
        return [Problem(join_path(path, problem.path), problem.message) for problem in ctx["error"].problems]
    if kind == "extra_forbidden":
        return [Problem(_path_from_loc(loc[:-1]), f"unknown key {loc[-1]!r}")]
    if kind == "missing":
        return [Problem(path, "required, but missing")]
    if kind == "string_type":
        hint = "; put it in quotes" if isinstance(value, bool | int | float) else ""
        return [Problem(path, f"expected text, found {_describe(value)}{hint}")]
    if kind in {"dict_type", "mapping_type", "model_type"}:
        return [Problem(path, f"expected a mapping (key: value), found {_describe(value)}")]
    if kind in {"list_type", "tuple_type"}:
        return [Problem(path, f"expected a list (- entries), found {_describe(value)}")]
    if kind in {"bool_type", "bool_parsing"}:
        return [Problem(path, f"expected true or false, found {_describe(value)}")]
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return [Problem(path, f"expected a whole number, found {_describe(value)}")]
    if kind == "string_pattern_mismatch":
        meaning = _PATTERN_MEANING.get(str(ctx.get("pattern")), f"must match {ctx.get('pattern')}")
        return [Problem(path, f"{value!r} {meaning}")]
    if kind == "string_too_short":
        return [Problem(path, "must not be empty")]
    if kind == "string_too_long":
        return [Problem(path, f"too long: at most {ctx.get('max_length')} characters")]
    if kind == "too_short":
        least = ctx.get("min_length")
        return [Problem(path, f"needs at least {least} {'entry' if least == 1 else 'entries'}")]
    message = error["msg"].removeprefix("Value error, ")
    return [Problem(path, message)]


def parse_instrument(data: Any, source: str | None = None) -> Instrument:
    """Validate already-read data (e.g. from YAML) into an Instrument, or raise InstrumentError."""
    if not isinstance(data, Mapping):
        raise InstrumentError(
            source,
            [Problem("", f"the file must hold a mapping (key: value) at the top, found {_describe(data)}")],
        )
    try:
        return Instrument.model_validate(data)
    except ValidationError as error:
        problems = [problem for detail in error.errors() for problem in _problems_from_error(detail)]
        raise InstrumentError(source, problems) from None


def load_instrument(path: str | os.PathLike[str]) -> Instrument:
    """Read one definition file; InstrumentError names the file, the path inside it and the problem."""
    file = Path(path)
    try:
        source = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InstrumentError(str(file), [Problem("", "file not found")]) from None
    except IsADirectoryError:
        raise InstrumentError(str(file), [Problem("", "is a directory, not a definition file")]) from None
    except UnicodeDecodeError as error:
        raise InstrumentError(str(file), [Problem("", f"not UTF-8 text ({error.reason})")]) from None
    try:
        data = yaml.load(source, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise InstrumentError(str(file), [_yaml_problem(error)]) from None
    return parse_instrument(data, str(file))


def _yaml_problem(error: yaml.YAMLError) -> Problem:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}"
        what = " ".join(part for part in (error.context, error.problem) if part)
        if "duplicate key" in what:
            return Problem(where, what)
        return Problem(where, f"malformed YAML: {what}")
    return Problem("", f"malformed YAML: {error}")


def version_key(version: str) -> tuple[int, ...]:
    """Sort key for versions: "1.10" comes after "1.9"."""
    return tuple(int(part) for part in version.split("."))


def load_definitions(directory: str | os.PathLike[str] | None = None) -> dict[str, Instrument]:
    """Every version in ``directory`` (default: the package's ``definitions/``), keyed by version, oldest
    first. Each file must be named ``<id>-<version>.yaml`` after its contents, and all must share one id."""
    folder = Path(directory) if directory is not None else DEFINITIONS_DIR
    if not folder.is_dir():
        raise InstrumentError(str(folder), [Problem("", "definitions directory not found")])
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    if not files:
        raise InstrumentError(
            str(folder), [Problem("", "no instrument definitions (*.yaml) in this directory")]
        )

    by_version: dict[str, tuple[Path, Instrument]] = {}
    for file in files:
        instrument = load_instrument(file)
        expected = f"{instrument.id}-{instrument.version}"
        if file.stem != expected:
            raise InstrumentError(
                str(file),
                [
                    Problem(
                        "version", f"the file of version {instrument.version} must be named {expected}.yaml"
                    )
                ],
            )
        if instrument.version in by_version:
            other = by_version[instrument.version][0]
            raise InstrumentError(
                str(file), [Problem("version", f"version {instrument.version} is also defined in {other}")]
            )
        first = next(iter(by_version.values()), None)
        if first is not None and first[1].id != instrument.id:
            raise InstrumentError(
                str(file),
                [
                    Problem(
                        "id",
                        f"id {instrument.id!r} differs from {first[1].id!r} in {first[0]}; one instrument",
                    )
                ],
            )
        by_version[instrument.version] = (file, instrument)
    return {version: by_version[version][1] for version in sorted(by_version, key=version_key)}


@functools.cache
def current_instrument() -> Instrument:
    """The latest published version in the package's ``definitions/`` (read once, then cached)."""
    definitions = load_definitions()
    return definitions[max(definitions, key=version_key)]


def verify_recorded_hashes(
    recorded: Mapping[str, str], definitions: Mapping[str, Instrument] | None = None
) -> None:
    """Check that every version responses were given to still has its file, unchanged.

    ``recorded`` maps version -> content hash as stored with the responses. Raises InstrumentError with
    one problem per version that is missing or changed; the service calls this at start-up and refuses
    to start when it raises.
    """
    available = load_definitions() if definitions is None else definitions
    problems: list[Problem] = []
    for version, recorded_hash in sorted(recorded.items(), key=lambda entry: version_key(entry[0])):
        instrument = available.get(version)
        if instrument is None:
            problems.append(Problem(f"version {version}", "responses were given to it, but its file is gone"))
        elif instrument.content_hash != recorded_hash:
            problems.append(
                Problem(
                    f"version {version}",
                    f"content changed since responses were recorded (recorded {recorded_hash[:12]}..., "
                    f"file now {instrument.content_hash[:12]}...); a published version never changes: "
                    "restore the file and put new wording in a new version",
                )
            )
    if problems:
        raise InstrumentError(str(DEFINITIONS_DIR) if definitions is None else None, problems)
