"""REST API v1.

Placeholder so the layout of DESIGN.md section 2 and its import contracts exist from day one;
the app is filled in by its own issue.
"""
