"""Instruments in the administrators' tool: a draft version is edited here; a published one only read.

Answers are client data and are not registered here.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from assessments.models import Instrument, InstrumentVersion, Item
from assessments.services import version_copy, version_dropped_codes, version_publish
from kast.admin import LabelledTabularInline


class ItemInline(LabelledTabularInline):
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
        drafts = list(queryset.filter(published_at__isnull=True).select_related("instrument"))
        dropping = [(version, codes) for version in drafts if (codes := version_dropped_codes(version))]
        confirmed = request.POST.get("confirm_dropping") == "yes"
        if dropping and not confirmed:
            # As Django's own "delete selected": a page that names what would be lost and asks again. Nothing is
            # published until the administrator confirms, so a version that silently empties a row of Tables 1
            # and 2 cannot slip through.
            context = {
                **self.admin_site.each_context(request),
                "title": _("Publish a version that leaves out counted questions?"),
                "opts": self.model._meta,
                "dropping": dropping,
                "drafts": drafts,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/assessments/instrumentversion/publish_confirmation.html", context)
        for version in drafts:
            version_publish(version=version, dropping_reported=confirmed)
        self.message_user(request, _("Published."), messages.SUCCESS)
        return None


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
