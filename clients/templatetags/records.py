"""Words of a record that depend on whose record it is."""

from __future__ import annotations

from django import template

from clients.models import Client, status_label

register = template.Library()


@register.filter
def status_of(status: str, record: Client) -> str:
    """`{{ change.to_status|status_of:client }}`: a status in the record's words ("In support" for a relative)."""
    return status_label(status, record.kind) if status else ""
