"""The embedded demo: seeds a realistic provider and serves the app (``billow demo``)."""
