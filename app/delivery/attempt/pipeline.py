"""Make attempts at deliveries: claim, sign, send, record. The one entry the actors, the embedded worker and
the tests call.

A woken worker slot drains (drain): it claims the next batch of one endpoint's due deliveries, fairly across
endpoints (fair.py), sends them in turn over one kept-alive connection, records each attempt as soon as its
send ends (record.py), and claims again until nothing more may be claimed. After a failure that says the
endpoint is unwell (a timeout, a connection error, 5xx, 429), the rest of its batch is given back
unattempted: it returns through the gates (breaker, in-flight cap) one by one. attempt_deliveries claims
given deliveries by id (tools, tests, and the gated path).
"""

import dataclasses
import random
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from flask import current_app

from app.delivery.attempt import fair, record, retry, sender
from app.delivery.attempt.addresses import outbound_policy
from app.delivery.attempt.claim import claim_deliveries, claim_gated, release  # noqa: F401  the public API
from app.delivery.attempt.gates import Deferred  # noqa: F401  the public API
from app.models import AttemptTrigger, ErrorClass, utcnow

#: Sends to different endpoints of one batch run in these threads (per process).
_parallel = ThreadPoolExecutor(max_workers=8, thread_name_prefix="webhook-send")


def attempt_delivery(delivery_id, throttle=None):
    """Claim a delivery, send it once and record the attempt; safe to run twice or concurrently.

    throttle(endpoint_id, per_second) -> bool enforces an endpoint's rate limit (the workers pass one
    shared across processes). Returns the RecordedAttempt, a Deferred when a gate held it back,
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

    Returns the RecordedAttempts and Deferred results (what was not ready is left out).
    """
    claimed, deferred = claim_deliveries(delivery_ids, throttle)
    groups = {}
    for claim in sorted(claimed, key=lambda claim: (claim.due_at, claim.delivery_id)):  # the order the sweep assumes
        groups.setdefault(claim.endpoint_id, []).append(claim)
    if len(groups) <= 1:
        return deferred + [result for group in groups.values() for result in send_group(group, throttle)]
    app = current_app._get_current_object()  # each endpoint in its own thread, recording in its own app context
    futures = [_parallel.submit(_in_context, app, send_group, group, throttle) for group in groups.values()]
    return deferred + [result for future in as_completed(futures) for result in future.result()]


def drain(hint_ids=(), throttle=None, *, limit, stopping=None, wake_peer=None, budget_seconds=60.0, wakeups=None):
    """Send what is due, fairly, until nothing more may be claimed: what a woken worker slot does.

    Each round claims the next batch of one endpoint's due deliveries (fair.claim_next) and sends it in turn; the
    record of its last success says whether anything more may be claimed (fair.nothing_more), else it claims again.
    hint_ids, the deliveries the wake-up named, matter only where the fair claim does not take them: a
    test send, or an endpoint a gate concerns (breaker, failing), which pass their gates one by one. A full
    batch calls wake_peer() so another slot joins; so does running out of budget_seconds (the rest is left to
    a fresh wake-up). stopping() true (the worker shuts down) stops claiming, and gives unsent claims back.
    wakeups, where the process gives wake-ups to the slots already draining (tasks.draining): after each round the
    slot takes those given meanwhile (wakeups.absorb()), their ids hints as a wake-up's own, and claims again; it
    stops only when wakeups.leave() gives it none; the hints it took and did not check go to another slot
    (wakeups.give_back(ids)) when it stops for another reason; wakeups.sending(True/False) as each send begins and ends.
    Returns the RecordedAttempts and Deferred results.
    """
    stopping = stopping or (lambda: False)
    deadline, results, sent, hints = time.monotonic() + budget_seconds, [], set(), list(hint_ids)
    while not stopping():
        if time.monotonic() >= deadline:
            if wake_peer:
                wake_peer()
            break
        claims, more = fair.claim_next(limit)
        if more and wake_peer:  # another slot would find something to claim: wake one to help
            wake_peer()
        sent.update(claim.delivery_id for claim in claims)
        sent_now, idle = _send(claims, throttle, stopping, ask_idle=True, sending=wakeups and wakeups.sending)
        results += sent_now
        gated = []
        if hints:  # after the round that followed their wake-up, which usually took them
            gated = attempt_gated([delivery_id for delivery_id in hints if delivery_id not in sent], throttle)
            results += gated
        woken = wakeups.absorb() if wakeups else None  # wake-ups given to this slot meanwhile: claim again
        hints = woken or []
        if (not claims or idle) and not gated and woken is None:  # a gated attempt may have let the next of its key go
            # nothing was claimed, or the last record found nothing more to claim (fair.nothing_more)
            woken = wakeups.leave() if wakeups else None
            if woken is None:
                break
            hints = woken
    if hints and wakeups:  # stopping, or out of budget, with wake-ups taken and not looked at
        wakeups.give_back(hints)
    return results


def attempt_gated(delivery_ids, throttle=None):
    """Attempt those of delivery_ids that only the gated path claims (a test send, or a gate concerns them)."""
    results = []
    for delivery_id in fair.gated_or_test(delivery_ids):
        results += attempt_deliveries([delivery_id], throttle)
    return results


def send_group(group, throttle=None, stopping=None):
    """Send one endpoint's claims one after another, recording each attempt as soon as its send ends.

    Stops at a failure that says the endpoint is unwell (the rest go back unattempted: they return through the
    gates), when its rate limit allows no more this second (taken just before each request, so none is
    counted early; the rest wait for the next second), or when stopping() (the rest go back at once). A fair
    claim's batch is sent one at a time: each waits reserved, and becomes sending (its lease from then covering
    its own send) only when its turn comes: in the statement that records the success before it where that is one
    statement (record.record_and_start), else by itself (fair.start_send).
    Returns the RecordedAttempts and Deferred results.
    """
    return _send(group, throttle, stopping)[0]


def _send(group, throttle=None, stopping=None, ask_idle=False, sending=None):
    """send_group, and (ask_idle) whether the record of the last claim found that the slot may stop draining
    (fair.nothing_more): (results, True/False, or None when not known). sending(True/False), if given, as each send
    begins and ends."""
    idle = None
    options = {"policy": outbound_policy(), "body_limit": current_app.config["WEBHOOK_RESPONSE_BODY_LIMIT_BYTES"]}
    results, succeeded, started = [], False, None  # started: whether the last record moved this claim to sending
    for position, claimed in enumerate(group):
        waiting = group[position:]
        if started is False:  # the last record found it no longer reserved for this slot (see below)
            started = None
            continue
        if stopping and stopping():
            release(waiting)
            break
        per_second = claimed.rate_limit_per_second if claimed.trigger is not AttemptTrigger.TEST else None
        if per_second and throttle and not throttle(claimed.endpoint_id, per_second):
            results += release(waiting, random.uniform(1, 1.5) / per_second, "rate limited")
            break
        if started is None and position and claimed.reserved and not fair.start_send(claimed, utcnow()):
            continue  # cancelled meanwhile, or its reservation ran out and another slot has it
        if succeeded:  # this batch's success was recorded: the endpoint's health needs no write for the rest
            claimed = dataclasses.replace(claimed, endpoint_healthy=True)
        if sending:
            sending(True)
        outcome = send(claimed, options)
        if sending:
            sending(False)
        upcoming = group[position + 1] if outcome.ok and position + 1 < len(group) else None
        last = position + 1 == len(group)
        recorded, started, idle = record.record_and_start((claimed, outcome), upcoming,
                                                          ask_idle=ask_idle and last and not claimed.ordered)
        results += recorded
        if not outcome.ok and retry.is_retryable(outcome.error_class, outcome.status):
            release(group[position + 1:])
            break
        succeeded = outcome.ok
    return results, idle


def _in_context(app, function, *args):
    with app.app_context():
        return function(*args)


def send(claim, options):
    """Make the HTTP request for one claim (nothing is sent for an endpoint that cannot be signed)."""
    if claim.config_error:
        return sender.Outcome(duration_ms=0, error_class=ErrorClass.CONFIG, error=claim.config_error)
    return sender.post(claim.url, claim.body, claim.headers, timeout=claim.timeout_seconds, **options)
