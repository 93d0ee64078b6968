"""Outbound pages: the sync monitor with its rows and delivery log, endpoints, bulk jobs, messages, send an event."""
