import pytest

from app.config import Config, database_url, parse_schedule


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
