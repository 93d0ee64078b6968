"""What the platforms install (requirements.txt) is what production runs; test tools live in requirements-dev.txt."""

import ast
import importlib.metadata as metadata
import re
import sys
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
#: Tools only the tests and checks use: never in a production build.
TEST_TOOLS = {"pytest", "pytest-timeout", "pytest-xdist", "standardwebhooks", "stripe", "schemathesis", "aiosmtpd",
              "ruff", "pyyaml", "playwright"}
#: What production imports: the app, the worker, the WSGI entry point and the migrations.
PRODUCTION_CODE = ["app", "tasks", "migrations", "wsgi.py"]


def requirements(name):
    """Return the Requirement lines of a requirements file (comments and -r lines left out)."""
    lines = (line.split("#")[0].strip() for line in (ROOT / name).read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_closure(reqs):
    """Return the canonical names of reqs and everything they need (with the extras asked for)."""
    seen, todo = set(), [(r.name, frozenset(r.extras)) for r in reqs]
    while todo:
        name, extras = todo.pop()
        if canonical(name) in seen and not extras:
            continue
        seen.add(canonical(name))
        for line in metadata.requires(name) or []:
            need = Requirement(line)
            if need.marker is None or any(need.marker.evaluate({"extra": e}) for e in extras or {""}):
                todo.append((need.name, frozenset(need.extras)))
    return seen


def imported_top_level_modules():
    modules = set()
    for entry in PRODUCTION_CODE:
        path = ROOT / entry
        for file in [path] if path.is_file() else path.rglob("*.py"):
            for node in ast.walk(ast.parse(file.read_text())):
                if isinstance(node, ast.Import):
                    modules.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"app", "tasks", "wsgi"}


def test_production_requirements_hold_no_test_tools():
    assert {canonical(r.name) for r in requirements("requirements.txt")} & TEST_TOOLS == set()


def test_dev_requirements_are_production_plus_the_test_tools():
    lines = [line.strip() for line in (ROOT / "requirements-dev.txt").read_text().splitlines()]
    assert "-r requirements.txt" in lines
    assert {canonical(r.name) for r in requirements("requirements-dev.txt")} == TEST_TOOLS


def test_production_code_imports_only_what_the_platforms_install():
    installed = installed_closure(requirements("requirements.txt"))
    distributions = metadata.packages_distributions()
    missing = {module: distributions.get(module) for module in imported_top_level_modules()
               if not {canonical(d) for d in distributions.get(module, [module])} & installed}
    assert missing == {}


def test_both_files_install_for_make_run_and_make_test_and_the_platforms_install_production_only():
    makefile = (ROOT / "Makefile").read_text()
    target = re.search(r"^\$\(VENV\)/\.installed: (.*)$", makefile, re.M).group(1).split()
    assert set(target) == {"requirements.txt", "requirements-dev.txt"}
    assert "pip install --quiet -r requirements-dev.txt" in makefile
    blueprint = yaml.safe_load((ROOT / "render.yaml").read_text())
    builds = {s["buildCommand"] for s in blueprint["services"] if "buildCommand" in s}
    assert builds == {"pip install -r requirements.txt"}


def test_heroku_python_is_pinned_to_3_11():
    assert (ROOT / ".python-version").read_text().strip() == "3.11"
