"""Inbound webhooks: sources, receiving and verifying, processing, replay and the staff's view of them."""
