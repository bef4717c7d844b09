"""Time-driven work: reminder delivery and digests (their own issue)."""
