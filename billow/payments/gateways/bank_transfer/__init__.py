"""Bank transfer: an invoice-style method; staff mark payments paid."""
