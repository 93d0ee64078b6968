"""Read models of the staff console that span both pipelines (the overview's outbound and inbound cards)."""
