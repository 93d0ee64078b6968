"""What people, jobs and the sweep do to deliveries: retry, cancel, bulk jobs, recovery."""
