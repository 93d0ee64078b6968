"""When to try again: the retry schedule both pipelines follow, each wait varied by a jitter."""

import random


def next_delay(attempts_made, schedule, max_attempts, jitter=0.2, rng=random):
    """Return the seconds to wait after the attempts_made-th automatic attempt, or None when done.

    schedule[i] is the wait before attempt i + 2; an endpoint allowing more attempts than the
    schedule lists repeats its last step. Each wait varies by +-jitter.
    """
    if attempts_made >= max_attempts or not schedule:
        return None
    base = schedule[min(attempts_made - 1, len(schedule) - 1)]
    return base * rng.uniform(1 - jitter, 1 + jitter) if jitter else base
