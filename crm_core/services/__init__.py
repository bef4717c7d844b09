"""Use cases: each takes a Ctx and typed arguments, checks access and writes the audit log."""
