"""README "Deploy", step by step, with the commands Heroku and Render run (Procfile, render.yaml) against
PostgreSQL and Redis: release, the first admin from a console, sign in, change the password, smoke test."""

import re
import shlex
import subprocess
import sys

import requests
import yaml

from tests.support.processes import (
    ROOT,
    WORKER_READY,
    command,
    flask,
    free_port,
    http_ok,
    procfile_command,
    produce,
)
from tests.support.waiting import wait_until

NEW_PASSWORD = "a password of my own"


def render_command(service_type, key):
    """Return the render.yaml command of the first service of service_type, run as Render runs it (sh -c)."""
    blueprint = yaml.safe_load((ROOT / "render.yaml").read_text())
    service = next(s for s in blueprint["services"] if s["type"] == service_type)
    return ["sh", "-c", service[key]]


def csrf(html):
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def start_web(processes, env, port):
    """The Procfile's web process (gunicorn), one process, on PORT; wait until it answers."""
    web = processes.start("web", procfile_command("web"), {**env, "PORT": str(port), "WEB_CONCURRENCY": "1"})

    def up():
        assert web.running, web.describe()
        return http_ok(f"http://127.0.0.1:{port}/login")

    wait_until(up, 60, message=web.describe)
    return web


def test_from_an_empty_database_to_a_signed_in_admin_and_a_passing_smoke_test(deploy_env, processes, receiver):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = deploy_env(PUBLIC_URL=base)

    # Given a new app: the release step (Procfile) and Render's pre-deploy command are one command
    assert render_command("web", "preDeployCommand")[2] == procfile_command("release")[2].removeprefix("exec ")
    released = command(env, *render_command("web", "preDeployCommand"))
    assert "No admin account yet" in released
    assert "flask --app app users create you@example.com --role admin --one-time" in released

    # When the deployer creates the first admin from the platform's console
    created = flask(env, "users", "create", "ops@example.com", "--role", "admin", "--one-time")
    password = created.strip().splitlines()[-1]
    assert f"{base}/login" in created
    assert "No admin" not in command(env, *procfile_command("release"))

    # And the web and the worker start as the Procfile starts them
    start_web(processes, env, port)
    processes.start_worker(env)

    # Then the admin signs in with the one-time password and must choose a new one before anything else
    browser = requests.Session()
    answer = browser.post(f"{base}/login", allow_redirects=False, data={
        "email": "ops@example.com", "password": password, "csrf_token": csrf(browser.get(f"{base}/login").text)})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/account/password")
    assert browser.get(f"{base}/admin/", allow_redirects=False).headers["Location"].endswith("/account/password")
    form = browser.get(f"{base}/account/password").text
    changed = browser.post(f"{base}/account/password", allow_redirects=False, data={
        "current": password, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD, "csrf_token": csrf(form)})
    assert changed.status_code == 302, changed.text
    assert browser.get(f"{base}/admin/", allow_redirects=False).status_code == 200

    # And the smoke test goes through the worker to the web's echo route, and never to a partner's endpoint
    produce(env, receiver.url(), 0)  # a partner subscribed to every event type
    smoke = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "smoke", "--timeout", "60"], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=120)
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert "Smoke test passed" in smoke.stdout
    assert receiver.requests == []


def test_a_smoke_test_that_cannot_deliver_says_why_and_exits_1(deploy_env, processes):
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = deploy_env(PUBLIC_URL=nowhere)
    command(env, *procfile_command("release"))
    processes.start_worker(env)
    smoke = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "smoke", "--timeout", "30"], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=90)
    assert smoke.returncode == 1, smoke.stdout + smoke.stderr
    assert "Smoke test FAILED" in smoke.stderr and "last error" in smoke.stderr
    assert "Traceback" not in smoke.stderr


def test_a_smoke_test_with_no_worker_gives_up_at_its_timeout(deploy_env):
    env = deploy_env(PUBLIC_URL="http://127.0.0.1:9")
    command(env, *procfile_command("release"))
    smoke = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "smoke", "--timeout", "2"], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=60)
    assert smoke.returncode == 1 and "no attempt within 2 s: are the workers running" in smoke.stderr


def test_the_worker_waits_for_the_migrations_and_then_consumes(deploy_env, processes):
    env = deploy_env(WORKER_SCHEMA_WAIT_SECONDS="120")
    worker = processes.start("worker", procfile_command("worker"), {**env, "WORKER_PROCESSES": "1"})
    worker.wait_for_log("waiting for the database to be migrated", timeout=60)
    assert WORKER_READY not in worker.log()
    command(env, *procfile_command("release"))
    worker.wait_for_log(WORKER_READY, timeout=60)
    assert worker.log().count("waiting for the database to be migrated") == 1


def test_a_worker_gives_up_waiting_for_the_migrations_after_the_bound(deploy_env, processes):
    env = deploy_env(WORKER_SCHEMA_WAIT_SECONDS="1")
    worker = processes.start("worker", procfile_command("worker"), {**env, "WORKER_PROCESSES": "1"})
    assert worker.wait(60) != 0
    assert "still not migrated" in worker.log() and WORKER_READY not in worker.log()


def test_a_missing_database_is_one_clear_line_naming_it(deploy_env):
    env = deploy_env()
    missing = env["DATABASE_URL"].rsplit("/", 1)[0] + "/hookyard_nowhere_to_be_found"
    for args in (shlex.split("flask --app app db upgrade"), procfile_command("release")):
        result = subprocess.run(args, cwd=ROOT, env={**env, "DATABASE_URL": missing}, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr, result.stderr
        (line,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert "\"hookyard_nowhere_to_be_found\"" in line and "createdb" in line
