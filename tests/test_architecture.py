"""The layer rule of ARCHITECTURE.md: instrument/ and psychometrics/ never import app/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["instrument", "psychometrics"])
def test_pure_packages_do_not_import_the_app(package: str):
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in imported_modules(path)
        if name == "app" or name.startswith(("app.", "fastapi", "sqlmodel", "sqlalchemy"))
    ]
    assert offenders == []


def test_the_check_sees_an_app_import(tmp_path: Path):
    module = tmp_path / "bad.py"
    module.write_text("from app.db import get_engine\nimport app.models\n")
    assert {"app.db", "app.models"} <= imported_modules(module)
