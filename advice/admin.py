"""Advice contacts are not in Django's admin (administrators read no contact); only the clinic's topic list is."""

from advice.models import AdviceTopic
from advice.services import clinic_install_advice_topics
from kast.admin import LabelledTabularInline, clinic_part_add


class AdviceTopicInline(LabelledTabularInline):
    model = AdviceTopic
    extra = 0
    fields = ["position", "name", "active"]
    can_delete = False  # topics already used are taken out of use, never deleted


clinic_part_add(position=30, inlines=[AdviceTopicInline], install=clinic_install_advice_topics)
