"""Typed, range-checked settings read from the environment: one Env row per variable, read by app.config.

A variable that is unset, or set to nothing but spaces, takes the row's default (a list's empty value is an empty
list). A value that does not parse, or lies outside the row's range, stops the process at start-up with a
ValueError naming the variable and what it accepts.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Spellings a boolean setting accepts, and what they mean; anything else is an error.
BOOLEANS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def env_bool(raw):
    """Parse 0/1/true/false/yes/no (any case)."""
    try:
        return BOOLEANS[raw.strip().lower()]
    except KeyError:
        raise ValueError(raw) from None


def number(raw):
    """Parse a finite decimal number (nan and inf are refused)."""
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError(raw)
    return value


def parse_list(raw, default=()):
    """Split a comma-separated setting into a list of stripped, non-empty items."""
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def text(raw):
    """Take the value as it is."""
    return raw


#: What each parser accepts, for error messages.
KINDS = {int: "a whole number", number: "a number", env_bool: "one of 0, 1, true, false, yes, no"}


@dataclass(frozen=True)
class Env:
    """One setting: its variable, parser, default, accepted range [low, high] and a one-line doc.

    default is a value, or a function of the Config being read (the rows above it are set) that returns one.
    key names the config key when it is not the variable; also lists variables read, in order, when it is unset.
    """

    name: str
    parse: Callable[[str], Any] = text
    default: Any = None
    low: float | None = None
    high: float | None = None
    doc: str = ""
    key: str | None = None
    also: tuple = ()

    @property
    def config_key(self):
        """The key of app.config this setting fills."""
        return self.key or self.name

    @property
    def variables(self):
        """The variables read, first set wins."""
        return (self.name, *self.also)

    def read(self, env, config):
        """Return this setting's value from env; raise ValueError naming the variable if it is not acceptable."""
        raw = next((env[name] for name in self.variables if env.get(name) is not None and env[name].strip()), None)
        if raw is None and self.parse is parse_list and env.get(self.name) is not None:
            raw = ""  # set to nothing: an empty list, not the default
        if raw is None:
            value = self.default(config) if callable(self.default) else self.default
            if self.parse is number:
                return float(value)
            return list(value) if isinstance(value, tuple) else value
        try:
            value = self.parse(raw)
        except ValueError as exc:
            if self.name in str(exc):
                raise  # the parser's own message names the variable already
            kind = KINDS.get(self.parse, "valid")
            raise ValueError(f"{self.name} must be {kind}{self.range()}, got {raw!r}") from None
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ValueError(f"{self.name} must be{self.range()}, got {raw.strip()}")
        return value

    def range(self):
        """Describe the accepted range: " from 1 to 30", " of at least 0" or nothing."""
        if self.low is not None and self.high is not None:
            return f" from {self.low:g} to {self.high:g}"
        if self.low is not None:
            return f" of at least {self.low:g}"
        return f" of at most {self.high:g}" if self.high is not None else ""
