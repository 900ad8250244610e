"""One way to do each thing (issue 18), checked on the source so it stays true as apps are added.

- Errors: the domain raises `core.errors` kinds with an `ErrorCode`; only the edge (API routers,
  views, admin, the JSON API package) knows HTTP statuses.
- Transactions: only `core.transactions` opens a MongoDB transaction.
- Schemas: `StrictSchema` and `MessageOut` are defined once.
"""

import ast
from pathlib import Path

import pytest

from core import errors

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "accounts", "wallets", "ledger", "reporting", "invoicing", "payroll", "ai_audit", "config")


def _sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            yield path, ast.parse(path.read_text(), filename=str(path))


SOURCES = list(_sources())


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _is_edge(path: Path) -> bool:
    """Modules that answer HTTP: routers, views, admin, the JSON API package, middleware, config."""
    name = path.stem
    relative = _relative(path)
    return (name == "api" or name.endswith("_api") or name.startswith("api_") or "api" in path.parent.name
            or name == "views" or name.endswith("_views") or "views" in path.parent.name
            or name == "admin" or name.endswith("_admin") or name in ("middleware", "urls", "http_status")
            or relative.startswith(("core/jsonapi/", "config/")))


def _imported_modules(tree) -> list[tuple[str, list[str], int]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [alias.name for alias in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, [], node.lineno) for alias in node.names)
    return found


def test_there_is_no_api_error_left():
    offenders = [f"{_relative(path)}:{node.lineno}" for path, tree in SOURCES for node in ast.walk(tree)
                 if isinstance(node, ast.Name) and node.id == "ApiError"]
    assert offenders == []


HTTP_MODULES = ("core.jsonapi.errors", "core.http_status", "ninja.errors")


def test_only_the_edge_knows_http_statuses():
    offenders = []
    for path, tree in SOURCES:
        if _is_edge(path):
            continue
        for module, names, line in _imported_modules(tree):
            if module in HTTP_MODULES or (module == "core.jsonapi" and {"errors"} & set(names)):
                offenders.append(f"{_relative(path)}:{line} imports {module}")
    assert offenders == []


DOMAIN_KINDS = {name for name, value in vars(errors).items()
                if isinstance(value, type) and issubclass(value, errors.DomainError)}


def test_domain_errors_name_their_code_from_the_one_enum():
    """`raise Conflict("some_code", ...)` with a string literal would bypass `ErrorCode`."""
    offenders = []
    for path, tree in SOURCES:
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in DOMAIN_KINDS):
                continue
            if node.func.id == "RateLimited" or not node.args:
                continue
            code = node.args[0]
            if isinstance(code, ast.Constant):
                offenders.append(f"{_relative(path)}:{node.lineno} {node.func.id}({code.value!r}, ...)")
            elif isinstance(code, ast.Attribute) and isinstance(code.value, ast.Name) and code.value.id == "ErrorCode":
                assert code.attr in errors.ErrorCode.__members__, f"{_relative(path)}:{node.lineno} {code.attr}"
    assert offenders == []


def test_error_codes_are_unique_snake_case():
    values = [member.value for member in errors.ErrorCode]
    assert len(values) == len(set(values))
    assert all(value == value.lower() and " " not in value for value in values)


def test_only_core_transactions_opens_a_mongodb_transaction():
    """`in_transaction` (with its retries) and `after_commit` are the one way in; Django's own
    `transaction.atomic` is a no-op on this backend, so it must not be mistaken for one."""
    offenders = [f"{_relative(path)}:{line} {module}" for path, tree in SOURCES
                 for module, names, line in _imported_modules(tree)
                 if _relative(path) != "core/transactions.py"
                 and (module == "django_mongodb_backend.transaction"
                      or (module == "django.db" and {"transaction"} & set(names))
                      or module == "django.db.transaction")]
    assert offenders == []


@pytest.mark.parametrize("schema", ["StrictSchema", "MessageOut"])
def test_shared_schemas_are_defined_once(schema):
    homes = [_relative(path) for path, tree in SOURCES for node in ast.walk(tree)
             if isinstance(node, ast.ClassDef) and node.name == schema]
    assert homes == ["core/jsonapi/schemas.py"]
