"""Time-driven work: reminder delivery, digests at local time, stalled and quiet alerts."""
