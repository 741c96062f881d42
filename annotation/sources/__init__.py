"""Bucket sources: S3 (or S3-compatible) prefixes whose new objects become items on each sync."""
