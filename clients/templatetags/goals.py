"""The goals card of a session's page, as a tag: the note page's view stays as it is (its own helper works on it),
and the card reads its goals through the client's selectors."""

from __future__ import annotations

from typing import Any

from django import template

from clients import selectors
from clients.models import Client
from sessions.models import TherapySession

register = template.Library()


@register.inclusion_tag("clients/_goal_card.html", takes_context=True)
def goal_card(context: dict[str, Any], session: TherapySession) -> dict[str, Any]:
    """Shown to those who see the record the session is logged on (not to a partner's therapist reading a couple
    session from the partner's record): the session page's own gate decided the session, this one the goals."""
    user = context["request"].user
    own = getattr(session, "own_record_visible", None)
    if own is None:
        own = Client.objects.visible_to(user).filter(pk=session.client_id).exists()
    if not own or session.client.is_relative:
        return {"card": None}
    card = selectors.goal_card(user, session.client, session)
    return {"card": card, "session": session, "csrf_token": context.get("csrf_token")}
