"""STYLE's import rules, read from the source with ast: no package cycle, no sibling-private import, and no
domain package that reaches up into the admin or the API; and inbound uses of the outbound pipeline only what any
producer uses (the machinery both share lives in the kernel: app.work, app.credentials, app.outbox, app.search).

A "package" is a directory of app/ (app.delivery, app.delivery.attempt, ...); a module in app/'s own root
(app.errors, app.outbox, ...) counts as a package of its own. Imports inside a function count like
module-level ones (a late import that only dodges a cycle is still a cycle), except the composition root
app/__init__.py (create_app wires everything late, as flaskr does); app -> tasks late imports leave app.* and
are not edges here.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Packages that hold the domain: they import models and the shared kernel, never the web rooms.
DOMAIN = ("app.delivery", "app.inbound", "app.ops", "app.staff", "app.auth", "app.models")
#: Web rooms inside a domain package: auth's sign-in blueprint is a view, not a service.
DOMAIN_VIEWS = ("app.auth.views",)
WEB = ("app.admin", "app.api")
#: All inbound may import of app.delivery: it forwards events as a producer (send_message, the event-type rules),
#: and announces a final failure as any producer of operational events does (emit).
INBOUND_MAY_USE = ("app.delivery.messages", "app.delivery.matching", "app.delivery.operational")


def _modules(top):
    """Return {module name: path} for every .py file under top."""
    found = {}
    for path in sorted((ROOT / top).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name, path, known):
    """Yield (imported module, imported names) for each import statement in the module, at any depth."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            names = [alias.name for alias in node.names]
            submodules = [f"{base}.{alias}" for alias in names if f"{base}.{alias}" in known]
            if len(submodules) < len(names):  # `from app.delivery import queries` imports app.delivery.queries
                yield base, [alias for alias in names if f"{base}.{alias}" not in known]
            for submodule in submodules:
                yield submodule, []


def _private(name):
    return name.startswith("_") and not name.startswith("__")


def _package(module, known):
    """Return the package a module belongs to: its directory, or itself for a module in app/'s root."""
    path = known[module]
    if path.name == "__init__.py" or path.parent == ROOT / "app":
        return module
    return module.rsplit(".", 1)[0]


def _graph():
    known = _modules("app")
    edges, privates, upward, sideways = {}, [], [], []
    for module, path in known.items():
        for target, names in _imports(module, path, known):
            if not target.startswith("app"):
                continue
            while target not in known and "." in target:
                target = target.rsplit(".", 1)[0]
            if target not in known or target == module:
                continue
            privates += [f"{module}: from {target} import {n}" for n in names if _private(n)]
            if module.startswith(DOMAIN) and not module.startswith(DOMAIN_VIEWS) and target.startswith(WEB):
                upward.append(f"{module} -> {target}")
            if module.startswith("app.inbound") and target.startswith("app.delivery") and target not in INBOUND_MAY_USE:
                sideways.append(f"{module} -> {target}")
            if module != "app":
                edges.setdefault(_package(module, known), set()).add(_package(target, known))
    return edges, privates, upward, sideways


def _cycles(edges):
    """Return the strongly connected groups of more than one package (Tarjan)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_no_package_import_cycle():
    edges, _, _, _ = _graph()
    assert "app.models" in edges["app.delivery"]  # the walker reads imports at all
    assert _cycles(edges) == [], "packages that import one another (promote the shared part into the kernel)"


def test_no_module_imports_another_modules_private_name():
    _, privates, _, _ = _graph()
    assert privates == [], "private names imported across modules (make them public in a neutral module)"


def test_domain_packages_never_import_admin_or_api():
    _, _, upward, _ = _graph()
    assert upward == [], "domain modules that reach up into the staff UI or the API"


def test_inbound_uses_of_the_outbound_pipeline_only_what_a_producer_uses():
    _, _, _, sideways = _graph()
    assert sideways == [], "inbound modules that reach into app.delivery (move the shared part into the kernel)"
