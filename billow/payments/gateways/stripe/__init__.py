"""Stripe: Checkout Sessions, saved payment methods (off-session PaymentIntents), refunds."""
