"""`make demo` shows a newcomer retries, failures, the breaker and alerts within a minute, with no services."""

import sys

from tests.support.processes import ROOT, child_env, free_port


def test_the_demo_shows_failures_the_breaker_and_alerts_within_a_minute(tmp_path, processes):
    env = child_env()
    demo = processes.start("demo", [sys.executable, str(ROOT / "bin" / "demo"), "--port", str(free_port()),
                                    "--seconds", "90", "--instance", str(tmp_path / "instance")], env)
    demo.wait_for_log("Demo running: open http://127.0.0.1:", timeout=60)
    demo.wait_for_log("ALERT endpoint.failing", timeout=60)  # the warehouse: five failures in a row, breaker open
    demo.wait_for_log("ALERT rule.fired", timeout=60)  # success rate under 90 %
    assert "Traceback" not in demo.log()
