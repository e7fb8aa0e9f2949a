"""Small helpers every feature uses: ids, clock, rate limits."""
