"""What the workers' rate limiter let go, counted where it counts them (not when a request happens to arrive)."""

import time


def recording_grants(monkeypatch):
    """Record, for each request the workers' rate limiter lets go, the clock second its window counted it in
    (None when the clock ticked over during the call and the second is not known)."""
    import tasks.deliveries

    real, grants = tasks.deliveries.throttle, []

    def throttle(endpoint_id, per_second):
        before = time.time()
        granted = real(endpoint_id, per_second)
        after = time.time()
        if granted:
            grants.append(int(before) if int(before) == int(after) else None)
        return granted

    monkeypatch.setattr(tasks.deliveries, "throttle", throttle)
    return grants
