"""The second factor in tests: a user's authenticator (a confirmed TOTP device) and the code it shows now."""

from __future__ import annotations

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from kast.models import User


def authenticator_for(user: User) -> TOTPDevice:
    """The user's authenticator app, named "default" as the setup wizard names it; made on first use."""
    device = TOTPDevice.objects.filter(user=user, name="default", confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="default", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    """What the app shows now, as the phone would compute it from the key."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"
