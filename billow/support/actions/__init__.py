"""Support writes (STYLE §1), one module per concern, re-exported here:

- ``tickets``: opening a ticket, client messages, staff replies, internal notes;
- ``workflow``: assign, move, priority, merge, close, reopen, rate;
- ``abuse``: suspending a reported service for abuse in one step;
- ``billow.support.mail.inbound.receive_email``: mail in (a reply by token, or a new ticket).
"""

from billow.support.actions.abuse import suspend_service_for_abuse
from billow.support.actions.tickets import (
    add_internal_note,
    open_ticket,
    post_client_message,
    post_staff_reply,
)
from billow.support.actions.workflow import (
    assign_ticket,
    close_ticket,
    merge_tickets,
    move_ticket,
    rate_ticket,
    reopen_ticket,
    set_ticket_priority,
)

__all__ = [
    "add_internal_note",
    "assign_ticket",
    "close_ticket",
    "merge_tickets",
    "move_ticket",
    "open_ticket",
    "post_client_message",
    "post_staff_reply",
    "rate_ticket",
    "reopen_ticket",
    "set_ticket_priority",
    "suspend_service_for_abuse",
]
