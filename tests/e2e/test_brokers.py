"""The broker URL picks the broker: RabbitMQ end to end with real processes, and rediss:// settings."""

import json
import ssl

import pika
import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

from tasks.broker import QUEUE, make_broker
from tests.support.processes import produce, service_env
from tests.support.waiting import wait_until


def test_amqp_url_gives_a_rabbitmq_broker():
    assert isinstance(make_broker("amqp://guest:guest@127.0.0.1:5672/"), RabbitmqBroker)


def test_rediss_url_gives_a_redis_broker_that_accepts_a_self_signed_certificate():
    broker = make_broker("rediss://h:1/0")

    assert isinstance(broker, RedisBroker)
    pool = broker.client.connection_pool
    assert pool.connection_kwargs["ssl_cert_reqs"] == "none"
    assert pool.make_connection().cert_reqs == ssl.CERT_NONE  # no connection is opened


def test_rediss_url_keeps_certificate_checks_it_asks_for():
    broker = make_broker("rediss://h:1/0?ssl_cert_reqs=required")

    assert broker.client.connection_pool.make_connection().cert_reqs == ssl.CERT_REQUIRED


@pytest.fixture
def rabbitmq_url(rabbitmq_url):
    """TEST_RABBITMQ_URL, with the webhook queues emptied of earlier runs' messages."""
    url = rabbitmq_url
    with pika.BlockingConnection(pika.URLParameters(url)) as connection:
        for queue in (QUEUE, f"{QUEUE}.DQ", f"{QUEUE}.XQ"):
            channel = connection.channel()
            try:
                channel.queue_purge(queue)
                channel.close()
            except pika.exceptions.ChannelClosedByBroker:
                pass  # the queue does not exist yet
    return url


def test_worker_on_rabbitmq_delivers_a_message(database, rabbitmq_url, processes, receiver):
    # No sweeper: it could wake the delivery through some other broker; only RabbitMQ may carry it
    env = service_env(database.url, rabbitmq_url, WEBHOOK_SWEEP_INTERVAL_SECONDS="0")
    processes.start_worker(env)

    (delivery_id,) = produce(env, receiver.url(), 1)["delivery_ids"]

    (request,) = receiver.wait_for(1, timeout=30)
    assert json.loads(request.body) == {"number": 0}
    wait_until(lambda: database.all_have([delivery_id], "succeeded"), 15,
               message=lambda: database.describe([delivery_id]) + processes.describe())
    assert database.attempts([delivery_id]) == [(delivery_id, 1, 200, None)]
    with pika.BlockingConnection(pika.URLParameters(rabbitmq_url)) as connection:
        connection.channel().queue_declare(QUEUE, passive=True)  # raises if the queue is not there
