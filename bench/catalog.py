"""What the event catalog costs at intake: a ~1 KB payload checked against its event type's schema.

    python bench/catalog.py [--rounds 20000]

Runs on a throw-away SQLite database (no services needed) and prints microseconds per payload, for two schemas:
"flat" (an order's dozen fields with a QR code pattern, what most event types look like) and "nested" (the same
order with five line items, each an object checked field by field). Figures:

- validate: jsonschema's compiled validator applied (best_match(iter_errors)): what a refusal costs, as it words it;
- fast yes: the fast check (app.delivery.schema_fast) saying a good payload is good;
- check: catalog_rules.check_payload as intake calls it within a request (the catalog's revisions already read);
- catalog read: the one query a request (or a whole batch) makes for the catalog's revisions, on SQLite;
- check_message +: how much check_message (every intake's checks) costs more for a catalogued type than for one
  outside the catalog.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jsonschema.exceptions import best_match  # noqa: E402

ORDER = {
    "type": "object", "required": ["order_id", "qr_code", "status"],
    "properties": {
        "order_id": {"type": "string", "pattern": r"^gid://shopify/Order/[0-9]+$"},
        "order_number": {"type": "integer", "minimum": 1},
        "qr_code": {"type": "string", "pattern": r"^[A-Z]{4}[0-9]{4}$"},
        "status": {"enum": ["created", "paid", "fulfilled", "cancelled"]},
        "email": {"type": "string", "maxLength": 254},
        "total": {"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$"},
        "currency": {"type": "string", "minLength": 3, "maxLength": 3},
        "note": {"type": "string", "maxLength": 2000},
        "shipping": {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "string"}}},
    },
}
ITEMS = {"type": "array", "maxItems": 100, "items": {
    "type": "object", "required": ["sku", "quantity"],
    "properties": {"sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1},
                   "price": {"type": "string"}}}}
NESTED = {**ORDER, "properties": {**ORDER["properties"], "line_items": ITEMS}}


def payload(nested):
    body = {"order_id": "gid://shopify/Order/5550001234", "order_number": 1001, "qr_code": "ABCD1234",
            "status": "paid", "email": "buyer@example.com", "total": "129.90", "currency": "EUR",
            "shipping": {"city": "Lyon", "zip": "69002"}, "note": ""}
    if nested:
        body["line_items"] = [{"sku": f"SKU-{i:04d}", "quantity": i + 1, "price": "25.98"} for i in range(5)]
    filler = 1024 - len(json.dumps(body))
    body["note"] = "x" * max(filler - 2, 0)
    return body


def per_call(fn, rounds):
    """Median of five runs of rounds calls, in microseconds per call."""
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(rounds):
            fn()
        runs.append((time.perf_counter() - started) / rounds * 1e6)
    return statistics.median(runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20000)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="hookyard-catalog-bench-")
    from app import create_app
    from app.audit import CLI
    from app.config import TestConfig
    from app.delivery import catalog, catalog_rules
    from app.delivery.message_rules import check_message
    from app.extensions import db

    app = create_app(TestConfig(database_url=f"sqlite:///{folder}/bench.db"))
    with app.app_context():
        db.create_all()
        for name, schema in (("order.flat", ORDER), ("order.nested", NESTED)):
            catalog.put_event_type(name, schema=schema, actor=CLI)
    with app.test_request_context():
        for name, nested in (("order.flat", False), ("order.nested", True)):
            body = payload(nested)
            fast, compiled = catalog_rules.validator(name, catalog_rules.current_catalog().revisions[name])
            assert best_match(compiled.iter_errors(body)) is None and fast(body)
            validate = per_call(lambda: best_match(compiled.iter_errors(body)), args.rounds // 10)  # noqa: B023
            quick = per_call(lambda: fast(body), args.rounds)  # noqa: B023
            check = per_call(lambda: catalog_rules.check_payload(name, body), args.rounds)  # noqa: B023
            read = per_call(lambda: (catalog_rules.forget_catalog(), catalog_rules.current_catalog()),
                            args.rounds // 10)
            with_catalog = per_call(lambda: check_message(name, body), args.rounds)  # noqa: B023
            without = per_call(lambda: check_message("order.outside", body), args.rounds)  # noqa: B023
            print(f"{name.split('.')[1]:>6}: {len(json.dumps(body))} B payload  validate {validate:6.1f} us  "
                  f"fast yes {quick:5.1f} us  check {check:6.1f} us  catalog read {read:6.1f} us per request  "
                  f"check_message +{with_catalog - without:6.1f} us ({without:.1f} us without a schema)")


if __name__ == "__main__":
    main()
