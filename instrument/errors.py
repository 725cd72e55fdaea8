"""The one error the instrument package raises for a bad definition, with the file, path and problem."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a definition: where (a dotted path such as ``forms.ouder.title``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def join_path(*parts: str) -> str:
    """Join dotted paths: ``a`` + ``[2].text`` reads ``a[2].text``; ``a`` + ``b`` reads ``a.b``."""
    joined = ""
    for part in parts:
        if not part:
            continue
        if not joined or part.startswith("["):
            joined += part
        else:
            joined += "." + part
    return joined


class InstrumentError(ValueError):
    """An instrument definition that cannot be used; the message names the file, the path and the problem.

    ``problems`` holds every problem found (one per line of the message); ``file``, ``path`` and
    ``problem`` describe the first one, for callers that show a single line.
    """

    def __init__(self, file: str | None, problems: Sequence[Problem]) -> None:
        if not problems:
            raise TypeError("InstrumentError needs at least one problem")
        self.file = file
        self.problems: tuple[Problem, ...] = tuple(problems)
        prefix = f"{file}: " if file else ""
        super().__init__("\n".join(prefix + str(problem) for problem in self.problems))

    @property
    def path(self) -> str:
        return self.problems[0].path

    @property
    def problem(self) -> str:
        return self.problems[0].message


class DefinitionProblems(ValueError):
    """Raised inside model validation with problems at paths relative to the model being validated.

    The loader adds the model's own location and the file name and turns it into an InstrumentError.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))
