"""Inbound webhooks: sources, receiving and verifying over the raw bytes, storing once, processing later, replay."""
