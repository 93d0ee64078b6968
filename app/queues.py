"""The broker's queue names, in one place both the web app and the workers read (it imports nothing)."""

#: Outbound deliveries: one message per delivery attempt.
WEBHOOKS = "webhooks"
#: Inbound events waiting for their handlers, apart from deliveries so a burst of either never starves the other.
INBOUND = "inbound"
#: Bulk jobs (retry, replay and resend over many deliveries).
JOBS = "jobs"
#: Alert notifications (email and webhook).
ALERTS = "alerts"
#: Every queue the workers consume, in the order pages and metrics list them.
ALL = (WEBHOOKS, INBOUND, JOBS, ALERTS)
