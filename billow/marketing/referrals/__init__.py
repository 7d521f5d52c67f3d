"""The referral (partner) program: programs and rules, partners and their links, promo codes and
clicks, attributed referrals, rewards accrued daily from the referrals' charges, payouts on the
1st (reference §2.2)."""
