"""The sandbox gateway: a hosted payment page inside Billow (demo and end-to-end tests)."""
