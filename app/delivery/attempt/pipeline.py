"""Make attempts at deliveries: claim, sign, send, record. The one entry the actors, the embedded worker and
the tests call, for one delivery or a batch.

A batch is claimed in one statement (claim.py), sent, and recorded in two (record.py). Deliveries to
one endpoint are sent in turn over one kept-alive connection; different endpoints are sent in
parallel, so a slow endpoint never holds up another's webhooks. After a failure that says the
endpoint is unwell (a timeout, a connection error, 5xx, 429), the rest of its deliveries in the batch
are given back unattempted: they return through the gates (breaker, in-flight cap) one by one.
"""

import random
from concurrent.futures import ThreadPoolExecutor, as_completed

from flask import current_app

from app.delivery.attempt import record, retry, sender
from app.delivery.attempt.addresses import outbound_policy
from app.delivery.attempt.claim import claim_deliveries, claim_gated, release  # noqa: F401  the public API
from app.delivery.attempt.gates import Deferred  # noqa: F401  the public API
from app.models import AttemptTrigger, ErrorClass

#: Sends to different endpoints of one batch run in these threads (per process).
_parallel = ThreadPoolExecutor(max_workers=8, thread_name_prefix="webhook-send")


def attempt_delivery(delivery_id, throttle=None):
    """Claim a delivery, send it once and record the attempt; safe to run twice or concurrently.

    throttle(endpoint_id, per_second) -> bool enforces an endpoint's rate limit (the workers pass one
    shared across processes). Returns the DeliveryAttempt recorded, a Deferred when a gate held it back,
    or None when there was nothing to claim (handled already, not due, endpoint not enabled, or taken).
    """
    results = attempt_deliveries([delivery_id], throttle)
    return results[0] if results else None


def claim_delivery(delivery_id, throttle=None):
    """Claim one delivery (gates included); return its Claim, a Deferred or None. For tools and tests."""
    found, deferred = claim_deliveries([delivery_id], throttle)
    return (found or deferred or [None])[0]


def attempt_deliveries(delivery_ids, throttle=None):
    """Claim every ready delivery among delivery_ids, send each once, record every attempt.

    Returns the DeliveryAttempt records and Deferred results (what was not ready is left out).
    """
    claimed, deferred = claim_deliveries(delivery_ids, throttle)
    if not claimed:
        return deferred
    groups = {}
    for claim in claimed:
        groups.setdefault(claim.endpoint_id, []).append(claim)
    options = {"policy": outbound_policy(), "body_limit": current_app.config["WEBHOOK_RESPONSE_BODY_LIMIT_BYTES"]}
    if len(groups) == 1:
        sent = [_send_in_turn(claimed, options, throttle)]
    else:  # each endpoint in its own thread; each is recorded here (in the app context) as soon as it is done
        sent = (future.result() for future in as_completed(
            [_parallel.submit(_send_in_turn, group, options, throttle) for group in groups.values()]))
    attempts = []
    for results, unsent, throttled in sent:
        attempts += record.record_results(results)
        release(unsent)
        if throttled:
            per_second = throttled[0].rate_limit_per_second
            deferred += release(throttled, random.uniform(1, 1.5) / per_second, "rate limited")
    return attempts + deferred


def _send_in_turn(group, options, throttle):
    """Send one endpoint's claims one after another; stop at a failure that says the endpoint is unwell, or when
    its rate limit allows no more this second (taken just before each request, so none is counted early).

    Returns ([(claim, outcome)], [claims given back], [claims held by the rate limit]).
    """
    results = []
    for position, claim in enumerate(group):
        per_second = claim.rate_limit_per_second if claim.trigger is not AttemptTrigger.TEST else None
        if per_second and throttle and not throttle(claim.endpoint_id, per_second):
            return results, [], group[position:]
        outcome = send(claim, options)
        results.append((claim, outcome))
        if not outcome.ok and retry.is_retryable(outcome.error_class, outcome.status):
            return results, group[position + 1:], []
    return results, [], []


def send(claim, options):
    """Make the HTTP request for one claim (nothing is sent for an endpoint that cannot be signed)."""
    if claim.config_error:
        return sender.Outcome(duration_ms=0, error_class=ErrorClass.CONFIG, error=claim.config_error)
    return sender.post(claim.url, claim.body, claim.headers, timeout=claim.timeout_seconds, **options)
