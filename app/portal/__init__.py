"""The partner portal: scoped links (links), what a link's session may read (scope) and do (actions)."""
