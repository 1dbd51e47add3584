"""Running the work deliveries ask for: the two workers, the child processes that check
untrusted content, the periodic work and the reconciler that catches up after an outage."""
