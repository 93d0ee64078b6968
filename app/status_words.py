"""What each status is called in the person's language: on a page's badges and tabs, and inside the sentences the
services compose about a row (why a retry skipped it, what an audit entry says became of it)."""

from flask_babel import lazy_gettext as _l

#: Each delivery, inbound event, endpoint and source status (and each status tab), by its stored value.
STATUS_LABELS = {
    "pending": _l("pending"), "sending": _l("sending"), "succeeded": _l("succeeded"), "failed": _l("failed"),
    "cancelled": _l("cancelled"), "received": _l("received"), "processing": _l("processing"),
    "processed": _l("processed"), "ignored": _l("ignored"), "enabled": _l("enabled"), "paused": _l("paused"),
    "disabled": _l("disabled"), "all": _l("all"), "scheduled": _l("scheduled"), "resolved": _l("resolved"),
}

#: What each attempt error class is called on a page, beside the error text the attempt stored (in English: it is
#: the receiver's or the network's own words, or the record of them). The English label is the class's value.
ERROR_LABELS = {
    "timeout": _l("timeout"), "connection": _l("connection"), "tls": _l("tls"), "http": _l("http"),
    "blocked": _l("blocked"), "config": _l("config"), "worker_lost": _l("worker_lost"),
}


def status_word(status):
    """A status (an enum member or its value) as a lazy word; an unknown one as its value."""
    value = getattr(status, "value", status)
    return STATUS_LABELS.get(value, value)


def error_label(error_class):
    """An attempt's error class (an ErrorClass or its value) in the page's language; an unknown one as its value."""
    value = getattr(error_class, "value", error_class)
    return str(ERROR_LABELS.get(value, value))


def state_change(state, name, reason=None):
    """What setting an endpoint's or a source's state did, as a lazy message: "paused <name>: <reason>"."""
    value = getattr(state, "value", state)
    done = {"enabled": _l("enabled %(name)s", name=name), "paused": _l("paused %(name)s", name=name),
            "disabled": _l("disabled %(name)s", name=name)}[value]
    return _l("%(done)s: %(reason)s", done=done, reason=reason) if reason else done
