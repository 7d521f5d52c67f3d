"""Promotions (automatic discounts) and promo codes."""
