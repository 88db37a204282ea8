"""The clinic's partner organisations for outreach, kept on the clinic's admin page (kast.admin)."""

from kast.admin import LabelledTabularInline, clinic_part_add
from outreach.models import Partner


class PartnerInline(LabelledTabularInline):
    model = Partner
    extra = 0
    fields = ["position", "name", "active"]
    can_delete = False  # partners named on activities are taken out of use, never deleted


# After the referral destinations (clients.admin); a new clinic starts with an empty list: partners are local.
clinic_part_add(position=30, inlines=[PartnerInline])
