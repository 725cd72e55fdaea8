"""The layer rules of ARCHITECTURE.md: instrument/ and psychometrics/ never import app/; inside app/,
queries live in repositories and routes call services."""

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


# -- layering inside app/: queries live in repositories, routes call services -------------------------

APP = ROOT / "app"
STATEMENT_BUILDERS = frozenset({"select", "insert", "update", "delete"})
"""SQL statements built from sqlmodel or sqlalchemy: one home each, a domain's ``repository.py``."""
SQL_PACKAGES = frozenset({"sqlmodel", "sqlalchemy"})
SESSION_QUERIES = frozenset({"exec", "execute"})
ROUTE_MODULES = frozenset({"api.py", "views.py"})
"""Route modules by name; any other module that defines routes (the web app's pages) is one too."""
ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "api_route"})
QUERY_RULE = "queries belong in a domain's repository.py (ARCHITECTURE.md: router -> service -> repository)"
IMPORT_RULE = "a route module (api.py, views.py, any with routes) calls services, no repository or tenancy"


def defines_routes(path: Path) -> bool:
    """Whether ``path`` is a route module: named so, or it makes an ``APIRouter`` or decorates routes."""
    if path.name in ROUTE_MODULES:
        return True
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "APIRouter":
                return True
            if isinstance(func, ast.Attribute) and (
                func.attr == "APIRouter"
                or (func.attr in ROUTE_METHODS and "router" in ast.unparse(func.value))
            ):
                return True
    return False


def _statement_builders(tree: ast.AST) -> set[str]:
    """Local names of ``select``/``insert``/``update``/``delete`` imported from sqlmodel or sqlalchemy."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in SQL_PACKAGES:
            names.update(
                alias.asname or alias.name for alias in node.names if alias.name in STATEMENT_BUILDERS
            )
    return names


def _is_session(node: ast.expr) -> bool:
    """``session`` or ``something.session`` (the request's or a stream session)."""
    if isinstance(node, ast.Name):
        return node.id.endswith("session")
    return isinstance(node, ast.Attribute) and node.attr.endswith("session")


def query_sites(path: Path, root: Path = ROOT) -> list[str]:
    """``file:line: call`` for each statement built or run in ``path``, in the order of the source."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    builders = _statement_builders(tree)
    where = path.relative_to(root)
    sites: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in builders:
            sites.append((node.lineno, node.col_offset, f"{func.id}(...)"))
        elif isinstance(func, ast.Attribute) and func.attr in SESSION_QUERIES and _is_session(func.value):
            sites.append((node.lineno, node.col_offset, f"{ast.unparse(func)}(...)"))
    return [f"{where}:{line}: {call}: {QUERY_RULE}" for line, _, call in sorted(sites)]


def layer_imports(path: Path, root: Path = ROOT) -> list[str]:
    """``file:line: imports module`` for each repository or app.tenancy that ``path`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(root)
    found = []
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        for module in modules:
            if module == "app.tenancy" or module.endswith(".repository"):
                found.append(f"{where}:{node.lineno}: imports {module}: {IMPORT_RULE}")
    return found


def app_modules() -> list[Path]:
    return sorted(APP.rglob("*.py"))


def test_queries_live_in_repositories():
    offenders = [site for path in app_modules() if path.name != "repository.py" for site in query_sites(path)]
    assert offenders == [], "\n".join(offenders)


def test_routes_call_services_not_repositories():
    offenders = [found for path in app_modules() if defines_routes(path) for found in layer_imports(path)]
    assert offenders == [], "\n".join(offenders)


def test_the_web_app_pages_are_route_modules():
    """The web app's page modules are held to the route rule, whatever their file's name."""
    pages = {path.name for path in (APP / "webapp").glob("*.py") if defines_routes(path)}
    assert {"running.py", "admin.py", "views.py"} <= pages
    assert not defines_routes(APP / "webapp" / "service.py")


def test_the_layer_checks_see_a_query_and_a_repository_import(tmp_path: Path):
    package = tmp_path / "domain"
    package.mkdir()
    route = package / "api.py"
    route.write_text(
        "from sqlmodel import select as pick\n"
        "from app.tenancy import get_owned\n"
        "from app.organisation import repository\n"
        "def handler(session, request):\n"
        "    request.state.session.exec(pick(Team))\n"
        "    return session.execute(None)\n"
    )
    queries = query_sites(route, root=tmp_path)
    imports = layer_imports(route, root=tmp_path)
    assert [site.split(": ")[0:2] for site in queries] == [
        ["domain/api.py:5", "request.state.session.exec(...)"],
        ["domain/api.py:5", "pick(...)"],
        ["domain/api.py:6", "session.execute(...)"],
    ]
    assert [found.split(": ")[0:2] for found in imports] == [
        ["domain/api.py:2", "imports app.tenancy"],
        ["domain/api.py:3", "imports app.organisation.repository"],
    ]
