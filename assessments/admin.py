"""Instruments in the administrators' tool: a draft version is edited here; a published one only read.

Answers are client data and are not registered here.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from assessments.models import Instrument, InstrumentVersion, Item
from assessments.services import version_copy, version_publish


class ItemInline(admin.TabularInline):
    model = Item
    extra = 0
    fields = [
        "position",
        "code",
        "section",
        "kind",
        "text",
        "text_en",
        "scale",
        "choices",
        "min_value",
        "max_value",
        "higher_is_better",
        "target_groups",
    ]

    def has_add_permission(self, request, obj=None):
        return obj is None or not obj.is_published

    def has_change_permission(self, request, obj=None):
        return obj is None or not obj.is_published

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.is_published


@admin.register(InstrumentVersion)
class InstrumentVersionAdmin(admin.ModelAdmin):
    list_display = ["instrument", "number", "published_at"]
    list_filter = ["instrument"]
    inlines = [ItemInline]
    actions = ["copy_as_new_version", "publish"]

    readonly_fields = ["published_at"]

    # A published version is shown, never saved: even an unchanged save would be an UPDATE, which
    # PostgreSQL refuses for it (the trigger), so the admin does not offer one.
    def has_change_permission(self, request, obj=None):
        return obj is None or not obj.is_published

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.is_published

    @admin.action(description=_("Copy as a new draft version"))
    def copy_as_new_version(self, request, queryset):
        for version in queryset:
            copy = version_copy(version=version)
            self.message_user(request, _("Draft version %(number)s made.") % {"number": copy.number})

    @admin.action(description=_("Publish (final: it can no longer change)"))
    def publish(self, request, queryset):
        for version in queryset.filter(published_at__isnull=True):
            version_publish(version=version)
        self.message_user(request, _("Published."), messages.SUCCESS)


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
