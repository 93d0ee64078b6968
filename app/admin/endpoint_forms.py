"""The endpoint form: text fields a person types, turned into the settings the service validates."""

from wtforms import Form, IntegerField, SelectField, StringField, TextAreaField, URLField
from wtforms.validators import DataRequired, Optional

from app.credentials.masking import MASK
from app.errors import InvalidInput


class EndpointForm(Form):
    url = URLField("URL", validators=[DataRequired()])
    name = StringField("Name", validators=[Optional()])
    description = TextAreaField("Description", validators=[Optional()])
    event_types = StringField("Event types", description="Comma-separated: order.created, order.* — empty for all")
    signing = SelectField("Signing", choices=["standard", "shared-secret", "hmac-sha256"], default="standard")
    headers = TextAreaField("Custom headers", description="One per line: Name: value. Values are kept secret: "
                            "leave a masked value as it is to keep it, or type a new one to replace it.")
    timeout_seconds = IntegerField("Timeout (seconds, 1-30)", default=10)
    max_attempts = IntegerField("Max attempts", default=8)
    retry_schedule = StringField("Retry schedule override", description="Seconds between attempts, e.g. 5,300,1800")
    rate_limit_per_second = IntegerField("Rate limit (per second)", validators=[Optional()])
    max_in_flight = IntegerField("Worker slots at most", validators=[Optional()],
                                 description="How many workers may send to this endpoint at once; empty for the "
                                             "default. Keeps a slow partner from holding up the others.")


def _split(text):
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def parse_headers(text):
    """Lines of "Name: value" to a dict (a value left masked keeps the stored one: see rules.keep_masked)."""
    headers = {}
    for number, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise InvalidInput(f"headers, line {number}: write it as Name: value", field="headers")
        headers[name.strip()] = value.strip()
    return headers


def format_headers(names):
    """Header names as the form's text, each value masked: a value is replaced, never read back."""
    return "\n".join(f"{name}: {MASK}" for name in names)


def settings_from(form):
    """The service's settings from a submitted form; raises InvalidInput for text it cannot read."""
    try:
        schedule = [float(v) for v in _split(form.retry_schedule.data)] or None
    except ValueError:
        raise InvalidInput("retry schedule: write seconds separated by commas", field="retry_schedule") from None
    return {
        "url": form.url.data, "name": form.name.data or None, "description": form.description.data or None,
        "event_types": _split(form.event_types.data) or None, "signing": form.signing.data,
        "headers": parse_headers(form.headers.data), "timeout_seconds": form.timeout_seconds.data,
        "max_attempts": form.max_attempts.data, "retry_schedule": schedule,
        "rate_limit_per_second": form.rate_limit_per_second.data, "max_in_flight": form.max_in_flight.data,
    }


def fill(form, endpoint):
    """Show an endpoint's settings in the form."""
    form.url.data, form.name.data, form.description.data = endpoint.url, endpoint.name, endpoint.description
    form.event_types.data = ", ".join(endpoint.event_types or [])
    form.signing.data, form.headers.data = endpoint.signing.value, format_headers(endpoint.header_names)
    form.timeout_seconds.data, form.max_attempts.data = endpoint.timeout_seconds, endpoint.max_attempts
    form.retry_schedule.data = ",".join(f"{v:g}" for v in endpoint.retry_schedule or [])
    form.rate_limit_per_second.data = endpoint.rate_limit_per_second
    form.max_in_flight.data = endpoint.max_in_flight
