"""Whether the broker's Redis may evict queued messages under memory pressure (its maxmemory-policy).

Dramatiq keeps every queued message in keys without an expiry. `noeviction` never drops them (writes fail
instead, which the web survives: the sweep sends what it accepted). The `volatile-*` policies evict only keys
that expire (rate-limit counters), so they keep the queue too. The `allkeys-*` policies evict any key: a
queue, or a message waiting in one, can vanish, and only the recovery sweep notices, much later.
"""

import logging

log = logging.getLogger(__name__)

#: Policies under which queued messages (keys without an expiry) are never evicted.
SAFE_POLICIES = frozenset({"noeviction", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"})


def eviction_warning(policy):
    """Return what is wrong with a maxmemory-policy, or None when it keeps queued messages (or is unknown)."""
    if policy is None or policy in SAFE_POLICIES:
        return None
    return (f"The broker's Redis has maxmemory-policy {policy}: under memory pressure it evicts queued "
            "messages, which only the recovery sweep finds later. Set it to noeviction "
            "(CONFIG SET maxmemory-policy noeviction, or the provider's setting).")


def broker_eviction_warning():
    """Ask the broker's Redis for its policy and return eviction_warning's answer (None if Redis cannot say)."""
    from tasks.broker import eviction_policy  # late import: the web app loads without a worker

    return eviction_warning(eviction_policy())


def warn_at_startup(role):
    """Log one warning when the broker's Redis may evict queued messages; never fail start-up over it."""
    try:
        warning = broker_eviction_warning()
    except Exception as exc:  # noqa: BLE001  an unreachable broker is reported elsewhere; start anyway
        log.info("%s start-up: could not read the broker's maxmemory-policy (%s)", role, type(exc).__name__)
        return None
    if warning:
        log.warning("%s start-up: %s", role, warning)
    return warning
