"""Handlers: code in the host app that acts on verified inbound events.

    from app.inbound.handlers import inbound_handler

    @inbound_handler("shopify", "orders/fulfilled")
    def register_warranty(event, payload):
        ...

A handler gets the InboundEvent and its body parsed as JSON (None when the body is not a JSON object), inside the
app context and inside the transaction that records the processing: what it writes with db.session commits with
the event's new status, or not at all. An exception marks the event failed and retries it on the retry schedule;
a HookyardError (app.errors) is final. A handler may run more than once for one event (a retry, a replay): make
what it sends idempotent.

The modules that hold handlers are named in INBOUND_HANDLER_MODULES; create_app imports them in every process.
"""

import importlib

from app.models.inbound import Provider

#: Every registered handler: {(provider value, topic or "*"): [function, ...]}, in registration order.
INBOUND_HANDLERS = {}
#: The topic that matches every topic of a provider.
ANY_TOPIC = "*"


def inbound_handler(provider, topic=ANY_TOPIC):
    """Register the decorated function for provider's events of topic ("*": every topic); return it unchanged."""
    provider = Provider(provider.value if isinstance(provider, Provider) else provider).value
    if not isinstance(topic, str) or not topic:
        raise ValueError("an inbound handler needs a topic, or '*' for every topic")

    def register(function):
        functions = INBOUND_HANDLERS.setdefault((provider, topic), [])
        if function not in functions:
            functions.append(function)
        return function

    return register


def handlers_for(provider, topic):
    """Return the handlers of an event: those of its exact topic, then those of every topic."""
    provider = provider.value if isinstance(provider, Provider) else provider
    exact = INBOUND_HANDLERS.get((provider, topic), []) if topic and topic != ANY_TOPIC else []
    return [*exact, *INBOUND_HANDLERS.get((provider, ANY_TOPIC), [])]


def remove_handler(function):
    """Unregister function wherever it was registered (tests, a host app reconfiguring)."""
    for functions in INBOUND_HANDLERS.values():
        while function in functions:
            functions.remove(function)


def load_handler_modules(names):
    """Import each named module so its @inbound_handler functions register (a module already imported is kept)."""
    for name in names:
        importlib.import_module(name)
