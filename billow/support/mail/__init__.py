"""Support by email: signed Reply-To tokens, parsing inbound mail, the SMTP/LMTP gateway."""
