import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import READ_ELSEWHERE, SETTINGS, Config, database_url, parse_schedule
from app.env import number


def test_retry_schedule_can_be_replaced_from_the_environment():
    assert Config({"WEBHOOK_RETRY_SCHEDULE": "5,300,1800"}).WEBHOOK_RETRY_SCHEDULE == [5, 300, 1800]
    assert Config({}).WEBHOOK_RETRY_SCHEDULE == [5, 300, 1800, 7200, 18000, 36000, 36000]


@pytest.mark.parametrize("raw", ["5,soon", "-1,5", ","])
def test_bad_retry_schedule_is_a_clear_error(raw):
    with pytest.raises(ValueError, match="WEBHOOK_RETRY_SCHEDULE"):
        parse_schedule(raw)


def test_heroku_postgres_url_is_accepted():
    assert database_url("postgres://u:p@h:5432/d") == "postgresql+psycopg://u:p@h:5432/d"
    assert database_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert database_url(None).startswith("sqlite:///")


def test_no_broker_means_embedded_mode_with_loopback_allowed():
    config = Config({})
    assert config.EMBEDDED and config.WEBHOOK_ALLOWED_NETWORKS == ["127.0.0.0/8", "::1/128"]


def test_a_broker_url_means_workers_and_no_loopback():
    config = Config({"REDIS_URL": "rediss://h:6380"})
    assert not config.EMBEDDED and config.BROKER_URL == "rediss://h:6380"
    assert config.WEBHOOK_ALLOWED_NETWORKS == []


def test_workers_are_woken_by_notify_only_on_postgresql_with_a_broker_unless_turned_off():
    postgres, broker = "postgresql://u@h/db", "redis://h"
    assert Config({"DATABASE_URL": postgres, "BROKER_URL": broker}).WEBHOOK_WAKE_BY_NOTIFY is True
    assert not Config({"DATABASE_URL": postgres, "BROKER_URL": broker, "WEBHOOK_WAKE_BY_NOTIFY": "0"}
                      ).WEBHOOK_WAKE_BY_NOTIFY
    assert not Config({"DATABASE_URL": postgres, "WEBHOOK_WAKE_BY_NOTIFY": "1"}).WEBHOOK_WAKE_BY_NOTIFY  # embedded
    assert not Config({"BROKER_URL": broker, "WEBHOOK_WAKE_BY_NOTIFY": "1"}).WEBHOOK_WAKE_BY_NOTIFY  # SQLite


def test_pool_sizes_default_by_role_and_fit_the_smallest_plans_connection_budget():
    web, worker = Config({"REDIS_URL": "redis://h"}, role="web"), Config({"REDIS_URL": "redis://h"}, role="worker")
    budget = 2 * (web.DB_POOL_SIZE + web.DB_MAX_OVERFLOW) + 2 * (worker.DB_POOL_SIZE + worker.DB_MAX_OVERFLOW)
    assert budget + 3 <= 20  # Procfile defaults + a release + two consoles within Heroku essential-0
    url = "postgresql+psycopg://u@h/d"
    options = Config({"DATABASE_URL": url, "REDIS_URL": "redis://h"}, role="worker").SQLALCHEMY_ENGINE_OPTIONS
    assert (options["pool_size"], options["max_overflow"]) == (worker.DB_POOL_SIZE, worker.DB_MAX_OVERFLOW)
    assert options["connect_args"]["application_name"] == "hookyard-worker"


def test_pool_sizes_come_from_the_environment():
    config = Config({"DB_POOL_SIZE": "7", "DB_MAX_OVERFLOW": "0", "REDIS_URL": "redis://h"}, role="web")
    assert (config.DB_POOL_SIZE, config.DB_MAX_OVERFLOW) == (7, 0)


def test_the_embedded_web_process_gets_the_general_pool_for_its_worker_threads():
    assert Config({}, role="web").DATABASE_APPLICATION_NAME == "hookyard"


@pytest.mark.parametrize("name, raw", [("DB_POOL_SIZE", "0"), ("DB_POOL_SIZE", "many"), ("DB_MAX_OVERFLOW", "-1"),
                                       ("DB_MAX_OVERFLOW", "101")])
def test_pool_sizes_out_of_range_are_a_clear_error(name, raw):
    with pytest.raises(ValueError, match=name):
        Config({name: raw})


def test_proxy_hops_default_to_none_unless_on_a_platform_or_set():
    assert Config({"REDIS_URL": "redis://h:6379"}).PROXY_FIX_HOPS == 0
    assert Config({"DYNO": "web.1"}).PROXY_FIX_HOPS == Config({"RENDER": "true"}).PROXY_FIX_HOPS == 1
    assert Config({"DYNO": "web.1", "PROXY_FIX_HOPS": "0"}).PROXY_FIX_HOPS == 0
    with pytest.raises(ValueError, match="PROXY_FIX_HOPS"):
        Config({"PROXY_FIX_HOPS": "-1"})


def readme_settings_rows():
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    return {row: set(re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split(" | ")[0])) for row in rows}


def test_the_readme_configuration_table_lists_exactly_the_variables_read():
    variables = {name for setting in SETTINGS for name in setting.variables} | set(READ_ELSEWHERE)
    rows = readme_settings_rows()
    unknown = {row: names - variables for row, names in rows.items() if names - variables}
    assert not unknown, f"README rows naming no setting of app.config.SETTINGS: {unknown}"
    listed = set().union(*rows.values())
    assert not variables - listed, f"settings missing from the README's Configuration table: {variables - listed}"


def test_every_setting_has_a_one_line_doc_and_every_number_a_range():
    for setting in SETTINGS:
        assert setting.doc and "\n" not in setting.doc, setting.name
        if setting.parse in (int, number):
            assert setting.low is not None and setting.high is not None, setting.name
        assert setting.name.isupper() and setting.config_key.isupper()
    names = [name for setting in SETTINGS for name in setting.variables]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name, raw, accepted", [
    ("WEBHOOK_TIMEOUT_SECONDS", "45", "from 1 to 30, got 45"),
    ("WORKER_THREADS", "eight", "a whole number from 1 to 256, got 'eight'"),
    ("SMTP_PORT", "70000", "from 1 to 65535"),
    ("DIGEST_HOUR_UTC", "24", "from 0 to 23"),
    ("DATABASE_STATEMENT_TIMEOUT_SECONDS", "nan", "a number from 0.1 to 86400, got 'nan'"),
    ("WEBHOOK_RETRY_JITTER", "inf", "a number from 0 to 1, got 'inf'"),
    ("HEALTH_TIMEOUT_SECONDS", "-infinity", "a number from 0.1 to 60"),
    ("WEBHOOK_RETRY_JITTER", "1.5", "from 0 to 1, got 1.5"),
    ("SMTP_STARTTLS", "maybe", "one of 0, 1, true, false, yes, no, got 'maybe'"),
    ("SESSION_COOKIE_SECURE", "on", "one of 0, 1, true, false, yes, no, got 'on'"),
    ("BROKER_HANDOFF_IN_BACKGROUND", "2", "one of 0, 1, true, false, yes, no"),
    ("PROXY_FIX_HOPS", "two", "a whole number from 0 to 10"),
])
def test_a_bad_value_is_a_clear_start_up_error_naming_the_variable_and_what_it_accepts(name, raw, accepted):
    with pytest.raises(ValueError) as raised:
        Config({name: raw})
    assert str(raised.value).startswith(f"{name} must be ") and accepted in str(raised.value)


@pytest.mark.parametrize("raw, value", [("1", True), ("true", True), ("YES", True), (" 0 ", False), ("False", False),
                                        ("no", False)])
def test_booleans_read_the_six_usual_spellings(raw, value):
    config = Config({"SMTP_STARTTLS": raw, "SESSION_COOKIE_SECURE": raw, "BROKER_HANDOFF_IN_BACKGROUND": raw})
    assert config.SMTP_STARTTLS is config.SESSION_COOKIE_SECURE is config.BROKER_HANDOFF_IN_BACKGROUND is value


def test_an_empty_value_means_the_default_but_an_empty_list_means_none():
    config = Config({"WEBHOOK_TIMEOUT_SECONDS": "", "SMTP_STARTTLS": " ", "SEARCH_PAYLOAD_PATHS": "",
                     "WEBHOOK_ALLOWED_NETWORKS": ""})
    assert config.WEBHOOK_TIMEOUT_SECONDS == 10 and config.SMTP_STARTTLS is True
    assert config.SEARCH_PAYLOAD_PATHS == [] and config.WEBHOOK_ALLOWED_NETWORKS == []


@pytest.mark.parametrize("module", ["wsgi", "tasks.broker"])
def test_the_web_and_the_workers_refuse_to_start_on_a_bad_value(module, tmp_path):
    from tests.support.processes import ROOT, child_env

    env = child_env(HOOKYARD_INSTANCE_PATH=str(tmp_path), SMTP_STARTTLS="maybe")
    result = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "ValueError: SMTP_STARTTLS must be one of 0, 1, true, false, yes, no, got 'maybe'")
