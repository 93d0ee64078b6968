"""What an operation on many rows reports: the ids it changed and why it left the others alone."""

from dataclasses import dataclass, field
from typing import ClassVar

from flask_babel import lazy_gettext as _l

from app.errors import IllegalTransition, NotFound, english
from app.stored_text import joined

#: The verbs of an outcome's summary, by the English verb the services pass.
VERBS = {"retried": _l("retried"), "replayed": _l("replayed"), "cancelled": _l("cancelled"),
         "resolved": _l("resolved"), "sent": _l("sent"), "marked processed": _l("marked processed")}


class SkipReason(str):
    """Why an operation left a row alone. It is its English text (what counts are kept under, and what the API,
    bulk jobs and audit entries store), and carries the same reason as a lazy message, `text`, for the console.

    Build one from a lazy message: `SkipReason(_l("is %(status)s; ...", status=status_word(status)))`.
    """

    text: object

    def __new__(cls, message):
        reason = super().__new__(cls, english(message))
        reason.text = message
        return reason


def reason_text(reason):
    """A skip reason's message for a page: a SkipReason's lazy text, or a plain string as it is (one read back from
    storage)."""
    return getattr(reason, "text", reason)


@dataclass
class OperationResult:
    """Which ids an operation changed and why it left the others alone (a delivery operation's, by default)."""

    #: The noun a summary counts, singular and plural; a subclass names its own rows.
    NOUN: ClassVar[tuple] = (_l("delivery"), _l("deliveries"))

    changed: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)  # id -> reason (a SkipReason)

    def skipped_by_reason(self):
        """Return {reason: count} for the skipped ids."""
        counts = {}
        for reason in self.skipped.values():
            counts[reason] = counts.get(reason, 0) + 1
        return counts

    def summary(self, verb):
        """Describe the outcome in one sentence, as a lazy message (str() it in the page's language, or audit it)."""
        text = _l("%(verb)s %(count)s %(noun)s", verb=VERBS.get(verb, verb), count=len(self.changed),
                  noun=self.NOUN[0] if len(self.changed) == 1 else self.NOUN[1])
        if self.skipped:
            reasons = [_l("%(count)s %(reason)s", count=n, reason=reason_text(reason))
                       for reason, n in self.skipped_by_reason().items()]
            text = _l("%(done)s; skipped %(count)s (%(reasons)s)", done=text, count=len(self.skipped),
                      reasons=joined(reasons))
        return text


def the_one(outcome, row_id, load, noun, missing):
    """The row an operation on one row changed (load(row_id)); NotFound when there was none (its skip reason is
    missing), IllegalTransition saying why it was not changed otherwise. noun is a lazy word ("delivery")."""
    if outcome.changed:
        return load(row_id)
    reason = outcome.skipped[row_id]
    if reason == missing:
        raise NotFound(_l("no %(noun)s with id %(id)s", noun=noun, id=row_id))
    raise IllegalTransition(_l("%(noun)s %(id)s %(reason)s", noun=noun, id=row_id, reason=reason_text(reason)))
