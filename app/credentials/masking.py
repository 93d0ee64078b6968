"""What a secret shows wherever it could be seen: pages, API answers, audit entries, attempt and event records.

Two policies: outbound headers are an allow-list (only the product's own headers show; every custom value is a
secret), inbound headers a deny-list (a provider's headers show unless their name says credential).
"""

import re

#: Shown in place of an outbound header value; sent back unchanged (form or API), it keeps the stored value. It is
#: longer than SECRET_MASK on purpose: forms and API clients send it back, and changing it would break them.
MASK = "••••••••"
#: Shown in place of a credential: an inbound credential header, a secret in a handler's traceback, a secret's
#: body in whsec_••••a1b2.
SECRET_MASK = "••••"
#: The only outbound headers whose values are shown: the product's own, which carry no credential. Every custom
#: header value, the signature and the shared secret are masked in pages, API answers, audit entries and attempt
#: records.
SHOWN_HEADERS = frozenset({"content-type", "user-agent", "webhook-id", "webhook-timestamp"})
#: Inbound header names whose values are credentials: signatures, tokens, authorization, cookies.
CREDENTIAL = re.compile(r"signature|hmac|token|authorization|cookie|secret|api[-_]?key|password", re.IGNORECASE)


def mask_outbound_headers(headers):
    """Return outbound headers as they may be shown, audited or recorded: every value masked except SHOWN_HEADERS'."""
    return {name: value if name.lower() in SHOWN_HEADERS else MASK for name, value in (headers or {}).items()}


def is_credential(name, also=frozenset()):
    """Tell whether an inbound header's value is a credential; also holds more lowercase names to mask."""
    return bool(CREDENTIAL.search(name)) or name.lower() in also


def mask_secret(secret):
    """Show enough of a secret to recognise it and nothing to use: whsec_••••a1b2."""
    prefix = "whsec_" if secret.startswith("whsec_") else ""
    return f"{prefix}{SECRET_MASK}{secret[-4:]}"
