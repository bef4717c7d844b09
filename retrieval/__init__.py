"""Questions about customers answered from the notes (the note index is its own issue)."""
