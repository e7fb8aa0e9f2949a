"""Price proposals: an artist proposes a price for a license of a beat, the seller accepts,
declines or counters, and an accepted proposal is paid through a private checkout."""
