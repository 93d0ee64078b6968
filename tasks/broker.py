"""Choose the Dramatiq broker once, from BROKER_URL / REDIS_URL, before any actor is declared.

redis:// or rediss:// -> RedisBroker; amqp:// or amqps:// -> RabbitmqBroker; nothing -> an
in-memory broker for the embedded default (one process, in-process worker).
"""

from urllib.parse import urlsplit

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from app import outages
from app.config import Config
from app.queues import WEBHOOKS as QUEUE  # the queue every delivery message goes through


def make_broker(url, config=None):
    """Return a broker for url (see module docstring); Redis timeouts come from config (the environment's)."""
    scheme = urlsplit(url).scheme if url else ""
    if not scheme:
        return StubBroker()
    if scheme in ("redis", "rediss"):
        from tasks.redis_wakeup import WakeableRedisBroker

        return WakeableRedisBroker(url=(config or Config()).redis_url(url), dead_message_ttl=86_400_000)
    if scheme in ("amqp", "amqps"):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url)
    raise ValueError(f"BROKER_URL must be redis://, rediss://, amqp:// or amqps://, not {scheme}://")


_config = Config()
broker = make_broker(_config.BROKER_URL, _config)
# IMPORTANT: set_broker must run before any module declares an actor, or Dramatiq quietly creates
# a RabbitMQ broker on localhost for it.
dramatiq.set_broker(broker)


def queue_depth(queue_name=QUEUE):
    """Return the messages waiting in the broker (ready plus delayed), or None if unknown."""
    delayed = f"{queue_name}.DQ"
    if not outages.broker.available():
        return None  # unreachable a moment ago: do not make the caller wait for another timeout
    try:
        if isinstance(broker, StubBroker):
            return sum(broker.queues[q].qsize() for q in (queue_name, delayed) if q in broker.queues)
        if isinstance(broker, RedisBroker):  # Redis: counts the queue and its delay queue together
            return int(broker.do_qsize(queue_name))
        return sum(broker.get_queue_message_counts(q)[0] for q in (queue_name, delayed))
    except Exception:  # noqa: BLE001  the figure is informative; an unreachable broker shows as unknown
        return None


def ping():
    """Raise unless the broker answers (Redis PING, a RabbitMQ connection); the in-memory broker always does."""
    if isinstance(broker, StubBroker):
        return
    if isinstance(broker, RedisBroker):
        broker.client.ping()
        return
    # RabbitMQ, the only other broker make_broker makes: opens a channel and declares the queue passively
    broker.get_queue_message_counts(QUEUE)


def delayed_count(queue_name=QUEUE):
    """Return the messages of a queue waiting for their delay to pass (part of queue_depth), or None if unknown."""
    try:
        if isinstance(broker, StubBroker):
            delayed = f"{queue_name}.DQ"
            return broker.queues[delayed].qsize() if delayed in broker.queues else 0
        if isinstance(broker, RedisBroker):  # Redis keeps each queue's delayed messages in a hash of its own
            return int(broker.client.hlen(f"{broker.namespace}:{queue_name}.DQ.msgs"))
        return broker.get_queue_message_counts(queue_name)[1]
    except Exception:  # noqa: BLE001  informative only, as queue_depth
        return None


def eviction_policy():
    """Return the broker Redis' maxmemory-policy (from INFO, which managed Redis allows where CONFIG is not),
    or None for another broker or when Redis does not say."""
    if not isinstance(broker, RedisBroker):
        return None
    try:
        return broker.client.info("memory").get("maxmemory_policy")
    except redis.exceptions.ResponseError:  # INFO disabled by the provider: Redis answers, it just will not say
        return None
