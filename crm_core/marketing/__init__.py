"""Marketing: segments (saved customer filters), and what builds on them."""
