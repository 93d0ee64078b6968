"""System pages: the overview (the home page) with its charts, the System page, the audit log."""
