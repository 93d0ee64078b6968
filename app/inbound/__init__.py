"""Inbound webhooks: receive a provider's request, verify it over its raw bytes, store it once, process it later."""
