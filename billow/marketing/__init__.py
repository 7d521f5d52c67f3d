"""Marketing: promotions and promo codes (``promos``); bonus and referral programs sit beside it."""
