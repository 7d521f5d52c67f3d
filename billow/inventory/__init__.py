"""Dedicated-server inventory (issue 18): component models with their specs, stock per
location, ready servers, suppliers and deliveries, and the one compatibility check."""
