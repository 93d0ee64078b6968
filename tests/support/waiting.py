"""Wait for a condition, never for a fixed time: a test must pass on a busy machine."""

import time

#: The first pause between two polls; it grows to MAX_INTERVAL, so a quick condition is seen at once and
#: a slow one (a child process starting, a retry coming due) does not poll a database many times a second.
FIRST_INTERVAL = 0.01
#: The longest pause between two polls.
MAX_INTERVAL = 0.2


def wait_until(condition, timeout=10.0, message=None):
    """Poll condition until it returns something truthy and return that; fail after timeout seconds.

    message says what was awaited (a string), or is a callable returning the state to show when the wait
    fails (a process's log, the rows as they are): it is called only then.
    """
    deadline = time.monotonic() + timeout
    interval = FIRST_INTERVAL
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {_describe(condition, message)}")
        time.sleep(interval)
        interval = min(interval * 2, MAX_INTERVAL)


def _describe(condition, message):
    if message is None:
        return getattr(condition, "__qualname__", repr(condition))
    return message() if callable(message) else message
