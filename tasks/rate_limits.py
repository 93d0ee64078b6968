"""Per-endpoint rate limits with Dramatiq's rate limiters, shared by every worker process through Redis.

With the Redis broker the window lives in Redis, so N worker processes together stay under an
endpoint's limit. Without Redis (the embedded default, one process) an in-memory backend suffices;
with RabbitMQ each process counts alone.
"""

from dramatiq.brokers.redis import RedisBroker
from dramatiq.rate_limits import WindowRateLimiter
from dramatiq.rate_limits.backends import RedisBackend, StubBackend

from tasks.broker import broker

#: Where the windows are counted.
backend = RedisBackend(client=broker.client) if isinstance(broker, RedisBroker) else StubBackend()


def throttle(endpoint_id, per_second):
    """Take one of this second's attempts for the endpoint; False if they are used up."""
    limiter = WindowRateLimiter(backend, f"hookyard:endpoint-rate:{endpoint_id}:{per_second}", limit=per_second,
                                window=1)
    with limiter.acquire(raise_on_failure=False) as acquired:
        return acquired
