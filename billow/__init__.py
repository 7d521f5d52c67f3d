"""Billow: billing and automation for hosting and cloud providers."""
