"""GitHub: X-Hub-Signature-256 is "sha256=" + the hex HMAC-SHA256 of the raw body keyed by the hook's secret;
no timestamp. X-GitHub-Delivery names the event (a redelivery keeps it), X-GitHub-Event its type."""

from app.credentials.signatures import hex_signature
from app.inbound.providers.base import Verified, bad, equal, event_id, header, missing, optional

SIGNATURE, DELIVERY, EVENT, HOOK = "X-Hub-Signature-256", "X-GitHub-Delivery", "X-GitHub-Event", "X-GitHub-Hook-ID"
#: Body fields staff find an event by.
HANDLE_PATHS = ("pull_request.number", "issue.number", "repository.full_name")


def verify(source, secrets, headers, body, now):
    """Check the HMAC against every live secret."""
    given = header(headers, SIGNATURE)
    if given is None:
        raise missing(SIGNATURE)
    if not any(equal(hex_signature(secret, body), given) for secret in secrets):
        raise bad(SIGNATURE)
    return Verified(event_id(header(headers, DELIVERY), DELIVERY), optional(header(headers, HOOK)),
                    optional(header(headers, EVENT), 200))
