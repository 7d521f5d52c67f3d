"""The support center: departments, tickets, messages, attachments, SLA, canned replies, the
mail gateway (reference §1.19)."""
