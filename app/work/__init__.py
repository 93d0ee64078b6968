"""Work primitives both pipelines share (today: the result of an operation on many rows)."""
