"""The note index and the answers drawn from it: indexing, upkeep, hybrid search, `ask`."""
