"""Marketing: segments (saved customer filters), deal scores, and what builds on them."""
