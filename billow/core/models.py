"""core has no tables of its own; abstract bases other apps build on live in ``audit``."""
