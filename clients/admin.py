"""Client records are deliberately not in Django's admin: administrators read no client content.

Only the clinic's list of referral destinations is kept here, on the clinic's admin page (kast.admin)."""

from clients.models import ReferralDestination
from clients.services import clinic_install_referral_destinations
from kast.admin import LabelledTabularInline, clinic_part_add


class ReferralDestinationInline(LabelledTabularInline):
    model = ReferralDestination
    extra = 0
    fields = ["position", "name", "is_other", "active"]
    can_delete = False  # destinations already referred to are taken out of use, never deleted


# After the fees and the note themes (sessions.admin); a new clinic starts with the usual destinations.
clinic_part_add(position=20, inlines=[ReferralDestinationInline], install=clinic_install_referral_destinations)
