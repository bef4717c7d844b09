"""Marketing: segments, deal scores, tiers and campaigns."""
