"""Where Hookyard leans on Dramatiq's internals, a new Dramatiq release stops it at import instead of
quietly changing what the workers do."""

import ast
import re
import subprocess
import sys

import dramatiq
import pytest
from dramatiq import Worker, cli
from dramatiq.brokers.stub import StubBroker

from tasks.middleware import AppContextMiddleware, SweeperMiddleware, install
from tasks.tripwires import DRAMATIQ_VERSION, WORKER_PROCESS_QUALNAME, require_dramatiq
from tests.support.processes import ROOT, child_env
from tests.support.waiting import wait_until


def import_with_dramatiq_version(module, version):
    code = f"import dramatiq; dramatiq.__version__ = {version!r}; import {module}"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=child_env(), capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("module, recheck", [("tasks.redis_wakeup", "_WakeableConsumer"),
                                             ("tasks.local_wakeups", "LocalWakeups.hand"),
                                             ("tasks.worker", "stop_once_on_sigterm")])
def test_a_module_patching_dramatiq_refuses_to_import_on_another_release(module, recheck):
    result = import_with_dramatiq_version(module, "2.3.0")
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ImportError: dramatiq 2.3.0 is installed but") and recheck in last_line, last_line


def test_the_tripwire_names_what_to_recheck_and_passes_on_the_checked_release():
    with pytest.raises(ImportError, match=r"dramatiq 3\.0\.0 .*the thing to re-check.* 2\.2\.1"):
        require_dramatiq("the thing to re-check", version="3.0.0")
    require_dramatiq("the thing to re-check", version=DRAMATIQ_VERSION)


def test_the_pinned_and_installed_dramatiq_is_the_release_the_tripwires_were_checked_against():
    pins = re.findall(r"^dramatiq\[[^\]]*\]==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert pins == [DRAMATIQ_VERSION] == [dramatiq.__version__]


def test_dramatiqs_worker_process_still_names_its_sigterm_handler_as_the_worker_expects():
    nested = [const.co_qualname for const in cli.worker_process.__code__.co_consts if hasattr(const, "co_qualname")]
    assert WORKER_PROCESS_QUALNAME + "termhandler" in nested


def test_brokers_are_told_apart_by_type_not_by_their_attributes():
    for path in sorted((ROOT / "tasks").glob("*.py")):
        calls = [node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)
                 and isinstance(node.func, ast.Name) and node.func.id == "hasattr"
                 and ast.unparse(node.args[0]) == "broker"]
        assert not calls, f"{path.name}:{calls[0].lineno}: use isinstance(broker, ...)"


def test_the_app_context_goes_first_and_the_sweeper_runs_while_a_worker_is_up(app):
    broker = StubBroker()
    first = type(broker.middleware[0])
    context = install(broker, app)
    background = SweeperMiddleware(app)
    broker.add_middleware(background)
    assert broker.middleware[0] is context and isinstance(broker.middleware[1], first)
    assert isinstance(context, AppContextMiddleware) and broker.middleware[-1] is background

    worker = Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        wait_until(lambda: background.periodic and background.publisher, timeout=10)
        threads = [background.sweeper, background.periodic, background.publisher]
        assert all(thread.is_alive() for thread in threads)
    finally:
        worker.stop()
    wait_until(lambda: not any(thread.is_alive() for thread in threads), timeout=20)
