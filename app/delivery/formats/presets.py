"""The partner presets: the body a partner's own webhook catcher or API takes best, made from one event.

Each preset is a function of the event's dict ({type, id, timestamp, reference, tags, data}) to a JSON object;
README ("Payload formats") says what each sends and why.
"""

from app.delivery.formats.sandbox import TemplateFailed

#: Where the convertkit preset looks for the subscriber's email address and first name, in this order.
EMAIL_PATHS = ("email", "email_address", "customer.email", "subscriber.email", "contact.email", "billing.email",
               "order.email", "order.customer.email")
FIRST_NAME_PATHS = ("first_name", "customer.first_name", "subscriber.first_name", "contact.first_name",
                    "billing.first_name", "billing_address.first_name", "order.customer.first_name")


def flatten(value, prefix="", separator="__"):
    """Nested objects as one level of keys joined by separator; lists and scalars are kept as they are."""
    if not isinstance(value, dict):
        return {prefix: value} if prefix else {"value": value}
    flat = {}
    for key, inner in value.items():
        name = f"{prefix}{separator}{key}" if prefix else str(key)
        if isinstance(inner, dict) and inner:
            flat.update(flatten(inner, name, separator))
        else:
            flat[name] = inner
    return flat


def make(event):
    """Make (Integromat): the same keys at the top for every event, the payload under data.

    A Make custom webhook learns its data structure from the requests it receives; one envelope for every event
    type means a scenario's mapping never breaks when another type arrives.
    """
    return dict(event)


def zapier(event):
    """Zapier: one flat object: the event's fields, then the payload's fields joined with "__", tags as text.

    A Catch Hook runs the Zap once per element when the body is a list, so it always gets one object; Zapier names
    nested fields with "__" and most actions take text, so tags arrive comma-separated.
    """
    return {"id": event["id"], "type": event["type"], "timestamp": event["timestamp"],
            "reference": event["reference"], "tags": ",".join(event["tags"]),
            **flatten(event["data"], "data")}


def _find(data, paths):
    for path in paths:
        value = data
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def convertkit(event):
    """ConvertKit (Kit) v4 "create a subscriber": email_address, first_name, and the payload's other scalar fields
    as text custom fields (Kit's custom fields hold text).

    Point the endpoint at https://api.kit.com/v4/subscribers with the API key in an X-Kit-Api-Key custom header.
    """
    data = event["data"] if isinstance(event["data"], dict) else {}
    email = _find(data, EMAIL_PATHS)
    if email is None:
        raise TemplateFailed("the convertkit format needs an email address in the payload, at one of: "
                             + ", ".join(EMAIL_PATHS))
    used = {path.replace(".", "_") for path in EMAIL_PATHS + FIRST_NAME_PATHS}
    fields = {name: _text(value) for name, value in flatten(data, separator="_").items()
              if name not in used and not isinstance(value, list | dict)}
    body = {"email_address": email, "state": "active", "fields": fields}
    first_name = _find(data, FIRST_NAME_PATHS)
    if first_name:
        body["first_name"] = first_name
    return body


def _text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


#: The presets by format name.
PRESETS = {"zapier": zapier, "make": make, "convertkit": convertkit}
