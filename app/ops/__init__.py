"""Running Hookyard in production: health, metrics, heartbeats, periodic work, retention, alert rules, digest."""
