"""The command layer: one grammar, one handler per verb, platform-neutral replies."""
