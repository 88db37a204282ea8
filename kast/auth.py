"""Authentication backend: Django's, loading the user's clinic in the same query (shown on every page); the
tokens of the password-reset links administrators start."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.tokens import PasswordResetTokenGenerator

if TYPE_CHECKING:
    from kast.models import User


class StaffBackend(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        user = get_user_model()._default_manager.select_related("clinic").filter(pk=user_id).first()
        # Django's check: an account deactivated now is out at its next request.
        return user if user is not None and self.user_can_authenticate(user) else None


class AccountResetTokenGenerator(PasswordResetTokenGenerator):
    """The one-time link of a password reset an administrator starts (kast.services.account_reset_start).

    Django's tokens end when the password changes (so a link works once), at the user's next login, and after
    PASSWORD_RESET_TIMEOUT. This one also ends when a newer reset is started: only the latest link works.
    """

    key_salt = "kast.auth.AccountResetTokenGenerator"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        from kast.models import LoginEvent

        latest = (
            LoginEvent.objects.filter(user=user, event=LoginEvent.Event.RESET_STARTED)
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        )
        return f"{super()._make_hash_value(user, timestamp)}{latest}"


account_reset_tokens = AccountResetTokenGenerator()
