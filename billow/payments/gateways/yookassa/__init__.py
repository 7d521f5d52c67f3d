"""YooKassa (ЮKassa): payments API v3, saved payment methods, HTTP notifications."""
