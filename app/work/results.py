"""What an operation on many rows reports: the ids it changed and why it left the others alone."""

from dataclasses import dataclass, field
from typing import ClassVar

from app.errors import IllegalTransition, NotFound


@dataclass
class OperationResult:
    """Which ids an operation changed and why it left the others alone (a delivery operation's, by default)."""

    #: The noun a summary counts, singular and plural; a subclass names its own rows.
    NOUN: ClassVar[tuple] = ("delivery", "deliveries")

    changed: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)  # id -> reason

    def skipped_by_reason(self):
        """Return {reason: count} for the skipped ids."""
        counts = {}
        for reason in self.skipped.values():
            counts[reason] = counts.get(reason, 0) + 1
        return counts

    def summary(self, verb):
        """Describe the outcome in one sentence for a person."""
        text = f"{verb} {len(self.changed)} {self.NOUN[0] if len(self.changed) == 1 else self.NOUN[1]}"
        if self.skipped:
            reasons = "; ".join(f"{n} {reason}" for reason, n in self.skipped_by_reason().items())
            text += f"; skipped {len(self.skipped)} ({reasons})"
        return text


def the_one(outcome, row_id, load, noun, missing):
    """The row an operation on one row changed (load(row_id)); NotFound when there was none (its skip reason is
    missing), IllegalTransition saying why it was not changed otherwise."""
    if outcome.changed:
        return load(row_id)
    reason = outcome.skipped[row_id]
    if reason == missing:
        raise NotFound(f"no {noun} with id {row_id}")
    raise IllegalTransition(f"{noun} {row_id} {reason}")
