"""A worker process (tasks.worker) builds the app without what only serves requests: no page, API or admin view is
imported there, while what it runs still works (the actors, its texts in the staff's language)."""

import json
import subprocess
import sys

import pytest

from app.config import TEST_ENCRYPTION_KEY
from tests.support.processes import child_env

#: Builds the app for a role in a fresh interpreter and says what it holds.
PROBE = """
import json, sys
from flask_babel import force_locale, gettext
from app import create_app
from app.config import Config
from tasks.broker import broker
app = create_app(Config(role=None if sys.argv[1] == "none" else sys.argv[1]))
with app.app_context(), force_locale("vi"):
    text = gettext("Monitor: %(url)s", url="x")
print(json.dumps({"routes": sorted({rule.endpoint.split(".")[0] for rule in app.url_map.iter_rules()}),
                  "imported": sorted(name for name in ("flask_admin", "app.api", "app.admin", "app.docs", "pydantic")
                                     if name in sys.modules),
                  "actors": sorted(broker.get_declared_actors()), "text": text}))
"""


def _built(role, tmp_path):
    env = child_env(DATABASE_URL=f"sqlite:///{tmp_path}/probe.db", SECRET_KEY="probe",
                    SECRETS_ENCRYPTION_KEY=TEST_ENCRYPTION_KEY, BROKER_URL="redis://127.0.0.1:6379/14")
    done = subprocess.run([sys.executable, "-c", PROBE, role], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_worker_process_imports_no_page_api_or_admin_view(tmp_path):
    worker = _built("worker", tmp_path)
    assert worker["imported"] == []
    assert worker["routes"] == ["static"]  # Flask's own; no blueprint
    assert {"deliver_webhook", "deliver_webhooks"} <= set(worker["actors"])
    assert worker["text"] == "Màn hình theo dõi: x"  # alerts and digests still speak the staff's language


@pytest.mark.parametrize("role", ["web", "none"])  # none: the embedded default, one process for both
def test_a_web_process_has_them_all(tmp_path, role):
    built = _built(role, tmp_path)
    assert {"admin", "api", "auth", "docs", "inbound", "portal"} <= set(built["routes"])
    assert {"flask_admin", "app.api", "app.admin"} <= set(built["imported"])
