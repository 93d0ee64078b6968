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


def test_proxy_hops_default_to_none_unless_on_a_platform_or_set():
    assert Config({"REDIS_URL": "redis://h:6379"}).PROXY_FIX_HOPS == 0
    assert Config({"DYNO": "web.1"}).PROXY_FIX_HOPS == Config({"RENDER": "true"}).PROXY_FIX_HOPS == 1
    assert Config({"DYNO": "web.1", "PROXY_FIX_HOPS": "0"}).PROXY_FIX_HOPS == 0
    with pytest.raises(ValueError, match="PROXY_FIX_HOPS"):
        Config({"PROXY_FIX_HOPS": "-1"})
