"""A runbook per alert kind: what it means, what to check, what to do. Alerts, e-mails, banners and the pages of
firing alerts link here (/admin/runbooks/<kind>)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Runbook:
    kind: str
    title: str
    means: str
    check: tuple
    do: tuple


#: Every alert kind, in the order the runbook index lists them.
RUNBOOKS = {r.kind: r for r in (
    Runbook("endpoint_failing", "Endpoint failing",
            "A partner's endpoint failed as many attempts in a row as the breaker threshold (Settings; 5 by default). "
            "Its deliveries wait and are retried on their schedule; while timeouts, connection errors or 5xx continue, "
            "the circuit breaker holds its attempts for its cooldown (a minute by default) at a time.",
            ("The endpoint's page: the last errors and the receiver's answers (View log on a failed row).",
             "Whether the partner's service is up (their status page, a colleague there).",
             "Whether its URL, secret or custom headers changed on their side."),
            ("Tell the partner, with a delivery id and the error from its log.",
             "Once they are back, the pending deliveries go by themselves; retry the failed ones with "
             "Recover on the endpoint's page (or retry all that match the monitor's Failed filter).",
             "If the endpoint is gone for good, disable or delete it so nothing more waits for it.")),
    Runbook("endpoint_disabled", "Endpoint disabled",
            "Hookyard disabled an endpoint by itself: it answered 410 Gone, or every attempt failed for 5 days. "
            "Its pending deliveries wait; no new delivery is created for it.",
            ("The reason on the endpoint's page.", "With the partner: is this URL still theirs?"),
            ("Fix the URL (or have the partner fix their side), then Resume: what waited is sent.",
             "If it is no longer wanted, delete it with force to cancel what waits.")),
    Runbook("final_failure", "Delivery failed for good",
            "A delivery to an endpoint that alerts on every final failure exhausted its retries or was refused "
            "(a 4xx other than 408/429): only a person or an API call moves it on.",
            ("The delivery's log: the receiver's answer usually says what it refused.",),
            ("Fix the cause, then Retry the delivery (or Resend it with an edited payload).",
             "If nothing needs sending, Resolve it with a note so the Failed tab is clear.")),
    Runbook("success_rate", "Success rate",
            "Fewer attempts succeeded over the alert window than the threshold (90 % over 60 minutes by default, "
            "from 20 attempts), for one endpoint or overall.",
            ("The overview's most common errors and the monitor filtered to failed rows.",
             "Whether one endpoint or one error class (timeout, http, connection) accounts for most of it."),
            ("Deal with the endpoint behind it as for a failing endpoint.",
             "Retry the group from the overview's most common errors once the cause is fixed.")),
    Runbook("backlog", "Backlog",
            "The oldest pending delivery is overdue by more than the allowed minutes (15 by default): webhooks "
            "are not going out on time.",
            ("System: are workers alive, and do the queues drain?", "Is one endpoint's breaker holding many rows?"),
            ("Start or scale the workers (`dramatiq tasks.worker`); the recovery sweep sends what waited.",
             "If one endpoint holds the backlog, see its runbook (failing) or pause it.")),
    Runbook("no_worker", "No worker",
            "No worker process has sent a heartbeat for 2 minutes (NO_WORKER_ALERT_SECONDS). Nothing is being "
            "sent and no inbound event is processed; the web process raised this alert itself.",
            ("System: the workers table and their last heartbeat.", "The platform's console: is the worker process "
             "running, crashing on start, or out of memory? Its logs say why."),
            ("Start (or restart) the worker process; nothing accepted is lost: the sweep sends what waited.",
             "After a deploy, check that the workers run the same version as the web.")),
    Runbook("inbound_unprocessed", "Inbound events unprocessed",
            "Inbound events of an enabled source were received more minutes ago than the Settings page allows (10 by "
            "default) and still wait to be processed.",
            ("System: are workers alive, and is the inbound queue draining?",
             "The Inbound page filtered to received events: from which source?"),
            ("Start the workers if none is alive; they process what waited.",
             "If a source should not be processed now, pause it: its events wait without alerting.")),
    Runbook("source_silent", "Silent inbound source",
            "A source with a silence window has accepted no request for longer than that window: a shop whose "
            "orders stopped arriving, a provider that stopped sending, or a webhook removed on their side.",
            ("The source's refused requests on the Inbound sources page (a wrong secret refuses every request).",
             "The provider's console: is the webhook still registered, and does it show delivery errors?"),
            ("Re-register the webhook with the provider, or fix the secret.",
             "If silence is normal at this hour, widen the source's silence window.")),
    Runbook("inbound_failing", "Failing inbound source",
            "Many processings of one source's events failed in the last hour (more than the Settings page allows).",
            ("The Inbound page filtered to the source's failed events: the error and traceback of an attempt.",),
            ("Fix the handler or the data it needs, then Replay the failed events.",)),
    Runbook("inbound_rejecting", "Rejecting inbound source",
            "Many requests to one source were refused for their signature in the last hour "
            "(more than the Settings page allows): usually a wrong or rotated secret.",
            ("The source's refused requests on the Inbound sources page.",),
            ("Copy the provider's current secret into the source (or rotate it on both sides).",)),
)}

#: The runbook of each endpoint alert kind (app.alerts) and rule name (app.ops.alert_rules, app.ops.web_alerts).
ALIASES = {"failing": "endpoint_failing", "disabled": "endpoint_disabled", "paused": "endpoint_failing",
           "recovered": "endpoint_failing", "final_failure": "final_failure"}


def runbook_for(kind):
    """The Runbook of an alert kind or rule name, or None."""
    return RUNBOOKS.get(ALIASES.get(kind, kind))


def runbook_path(kind):
    """The runbook page of an alert kind (relative to the site; the index for a kind without one)."""
    book = runbook_for(kind)
    return f"/admin/runbooks/{book.kind}" if book else "/admin/runbooks/"
