"""``billow.usage``: meters, raw usage records, ingestion and rollups (issue 14)."""
