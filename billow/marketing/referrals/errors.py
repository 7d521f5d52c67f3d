"""Referral program refusals. Codes are stable; callers match on them.

- ``referral_template_needs_id``: a promo-code template without the ``@ID@`` macro.
- ``invalid_referral_program`` / ``invalid_referral_rule``: bad staff input (dates, amounts).
- ``referral_program_not_found`` / ``referral_partner_not_found``: no such active row.
- ``referral_click_url_mismatch``: the registered link does not match the program's website.
- ``referral_self``: a client cannot be its own referral.
- ``referral_exists``: the client already is a live referral (unlink first).
- ``referral_not_allowed``: the client's groups forbid the program.
- ``referral_not_linked``: unlink of a client that is no referral.
- ``referral_payout_not_awaiting``: confirm / reject of a payout that does not await staff.
- ``reason_required``: a staff change without a reason.
"""

from __future__ import annotations

from billow.core.errors import ConflictError, NotFoundError, ValidationError


class ReferralError(ValidationError):
    code = "referral_error"


class ReferralNotFoundError(NotFoundError):
    code = "referral_not_found"


class ReferralConflictError(ConflictError):
    code = "referral_conflict"
