"""The suite runs in parts: `services`, `e2e`, `browser` and `slow` are set where they belong, at collection,
so `-m "not services"` leaves out every test that needs a real service."""

import ast
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import SERVICE_FIXTURES

ROOT = Path(__file__).resolve().parents[1]


def collected(*args):
    """Return the test ids pytest collects with args (no services configured, as on a laptop)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEST_") and k != "CI"}
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode in (0, 5), result.stdout + result.stderr  # 5: everything deselected
    return {line.split("[")[0] for line in result.stdout.splitlines() if "::" in line}


def test_not_services_leaves_out_every_test_that_needs_a_service():
    files = ["tests/test_migrations.py", "tests/tasks/test_wakeup.py", "tests/ops/test_broker_memory.py",
             "tests/inbound/test_receive_race.py", "tests/deploy/test_walkthrough.py", "tests/e2e/test_brokers.py"]
    kept = collected("-m", "not services", *files)
    assert not {t for t in kept if "postgresql" in t or "wakeup" in t or "deploy" in t or "race" in t}, kept
    assert "tests/e2e/test_brokers.py::test_worker_on_rabbitmq_delivers_a_message" not in kept
    assert "tests/ops/test_broker_memory.py::test_a_broker_that_keeps_its_keys_raises_no_warning" not in kept
    assert "tests/ops/test_broker_memory.py::test_allkeys_policies_are_named_with_the_fix" in kept  # no service
    assert "tests/test_migrations.py::test_sqlite_migrations_keep_every_row" in kept


def test_e2e_marks_the_whole_folder_and_slow_the_long_tests():
    e2e = collected("-m", "e2e", "tests/e2e/test_newcomer.py", "tests/test_cli.py")
    assert e2e and all(t.startswith("tests/e2e/test_newcomer.py::") for t in e2e)
    slow = collected("-m", "slow", "tests/api/test_contract.py", "tests/test_migrations.py", "tests/test_cli.py")
    assert "tests/api/test_contract.py::test_the_api_keeps_its_published_contract" in slow
    assert not {t for t in slow if "test_cli" in t}


def test_only_the_service_fixtures_call_require():
    # require() skips when run; a test that called it itself would not be marked, and -m "not services" would
    # still run it. Every call lives in a fixture whose name the conftest hook knows.
    callers = set()
    for path in ROOT.joinpath("tests").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                    isinstance(c, ast.Call) and getattr(c.func, "id", None) == "require" for c in ast.walk(node)):
                callers.add((path.relative_to(ROOT).as_posix(), node.name))
    assert callers == {("tests/conftest.py", name) for name in SERVICE_FIXTURES}
