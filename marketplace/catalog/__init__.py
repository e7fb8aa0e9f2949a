"""The catalogue: beats, their credits and tags, the beat lifecycle, search and browse."""
