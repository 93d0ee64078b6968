"""Example inbound handler, off by default: a fulfilled Shopify order becomes one `product.sold` message per line
item, delivered by Hookyard to every endpoint subscribed to product.sold (a warranty system, a stock counter).

Turn it on in every process (web and worker) with

    INBOUND_HANDLER_MODULES=docs.examples.shopify_product_sold

and a Shopify source receiving the orders/fulfilled topic. Copy it into your own package to change it.

It runs inside the transaction that records the processing: the messages exist if and only if the event is
marked processed. Each message's idempotency key names the order and the line item, so a retry, a replay or a
second delivery of the same order (Shopify sends one per webhook subscription) never sells a product twice.
"""

from app.delivery.messages import send_messages
from app.errors import InvalidInput
from app.inbound.handlers import inbound_handler

#: The outbound event type each line item becomes.
EVENT_TYPE = "product.sold"


@inbound_handler("shopify", "orders/fulfilled")
def send_product_sold(event, order):
    """Send one product.sold message per line item of a fulfilled order; idempotent per order and line item."""
    if not order or "id" not in order:
        raise InvalidInput("an orders/fulfilled webhook without an order object cannot be sold")  # final: no retry
    messages = [product_sold(order, index, line) for index, line in enumerate(order.get("line_items") or [])]
    if messages:
        send_messages(messages)


def product_sold(order, index, line):
    """The keywords of send_message for one line item."""
    line_id = line.get("id", index)
    return {
        "event_type": EVENT_TYPE,
        "payload": {
            "order_id": order["id"], "order_number": order.get("order_number"), "line_item_id": line_id,
            "product_id": line.get("product_id"), "variant_id": line.get("variant_id"), "sku": line.get("sku"),
            "title": line.get("title"), "quantity": line.get("quantity"), "price": line.get("price"),
            "currency": order.get("currency"), "customer_email": order.get("email"),
            "fulfilled_at": order.get("updated_at"),
        },
        "reference": str(order.get("order_number") or order["id"]),
        "idempotency_key": f"shopify:product.sold:{order['id']}:{line_id}",
    }
