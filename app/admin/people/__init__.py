"""People pages: staff accounts, API keys, the settings admins change, a person's own preferences."""
