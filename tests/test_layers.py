"""The apps are layers: core <- accounts <- wallets <- ledger <- reporting <- invoicing / payroll /
ai_audit, with config (settings, URLs, the API's routers) on top. A lower app never imports a higher
one (it announces with a signal or a registered hook instead), and no two modules import each other.
Every import counts, at module level or inside a function."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
LAYERS = {"core": 0, "accounts": 1, "wallets": 2, "ledger": 3, "reporting": 4,
          "invoicing": 5, "payroll": 5, "ai_audit": 5, "config": 6}


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for app in LAYERS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts or "mongo_migrations" in path.parts:
                continue  # historical: frozen as they were
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def _imports(path: pathlib.Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module, [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []


def test_no_app_imports_a_higher_layer():
    upward = []
    for name, path in _modules().items():
        source = LAYERS[name.split(".")[0]]
        for line, module, _ in _imports(path):
            top = module.split(".")[0]
            if top in LAYERS and LAYERS[top] > source and not (top == "config" and module == "config.settings"):
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert upward == []


def test_no_two_modules_import_each_other():
    modules = _modules()
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        for _, module, names in _imports(path):
            edges.setdefault(name, set()).update(t for t in [module, *names] if t in modules and t != name)
    mutual = sorted({tuple(sorted((a, b))) for a, targets in edges.items() for b in targets
                     if a in edges.get(b, set())})
    assert mutual == []


def test_the_walk_sees_the_apps():
    """Guards the two tests above against walking nothing."""
    modules = _modules()
    assert {"core.permissions", "accounts.services", "wallets.services", "ledger.services",
            "reporting.selectors", "config.api"} <= set(modules)
