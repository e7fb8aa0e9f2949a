"""File storage behind one interface: a private local directory, or an S3-compatible bucket.

Nothing stored is public by itself: files are reached through signed, expiring URLs
(`url_for_key`) or through views that decide who may read them.
"""
