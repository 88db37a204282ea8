"""Authentication backend: Django's, loading the user's clinic in the same query (shown on every page)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class StaffBackend(ModelBackend):
    def get_user(self, user_id):
        user = get_user_model()._default_manager.select_related("clinic").filter(pk=user_id).first()
        # Django's check: an account deactivated now is out at its next request.
        return user if user is not None and self.user_can_authenticate(user) else None
