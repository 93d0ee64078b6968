"""The attempt pipeline: claim a delivery, sign it, send it, record the attempt, decide what comes next."""
