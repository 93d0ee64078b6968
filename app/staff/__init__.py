"""Staff: users and roles, settings people change, and the limits on what they may do."""
