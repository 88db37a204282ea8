"""Retention holds and the list of removed records, in the administrators' tool. Codes only, no client content."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from archive import services
from archive.forms import RetentionHoldForm
from archive.models import RemovalRecord, RetentionHold


@admin.register(RetentionHold)
class RetentionHoldAdmin(admin.ModelAdmin):
    list_display = ["record_code", "reason", "placed_by", "placed_at"]
    list_select_related = ["client", "placed_by"]
    search_fields = ["client__code"]
    readonly_fields = ["record_code", "placed_by", "placed_at"]

    @admin.display(description=_("record"), ordering="client__code")
    def record_code(self, hold: RetentionHold) -> str:
        return hold.client.code

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:  # a new hold names its record; an existing one only changes its reason
            kwargs["form"] = RetentionHoldForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["code", "reason"] if obj is None else ["record_code", "reason", "placed_by", "placed_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        services.retention_hold_save(actor=request.actor, hold=obj)

    def delete_model(self, request, obj):
        services.retention_hold_lift(actor=request.actor, hold=obj)

    def delete_queryset(self, request, queryset):
        for hold in queryset:
            services.retention_hold_lift(actor=request.actor, hold=hold)


@admin.register(RemovalRecord)
class RemovalRecordAdmin(admin.ModelAdmin):
    """Read only: what retention removed, and when (PostgreSQL refuses changes anyway)."""

    list_display = ["code", "kind", "clinic", "last_entry", "removed_at", "total", "joint_sessions_kept"]
    list_filter = ["clinic", "kind"]
    search_fields = ["code"]
    date_hierarchy = "removed_at"

    @admin.display(description=_("rows removed"))
    def total(self, record: RemovalRecord) -> int:
        return record.total

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
