"""Work primitives both pipelines share: leases (token, "still mine", take-expired, early tolerance), the recovery
sweep and its registry of kinds, the retry backoff, and the result of an operation on many rows."""
