"""The figures' period: at most ten years, never ending before it starts; a field error, not a 500 or a slow page."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _

from figures.forms import MAX_PERIOD_YEARS

pytestmark = pytest.mark.django_db

TOO_LONG = _("A period is at most %(years)s years. Choose a later start or an earlier end.") % {
    "years": MAX_PERIOD_YEARS
}


@pytest.mark.parametrize(
    ("start", "end", "error"),
    [
        ("2016-01-01", "2026-01-01", TOO_LONG),  # ten years and a day
        ("2026-03-01", "2062-03-01", TOO_LONG),  # a typing error in the year
        ("2025-03-01", "2025-02-01", _("The end date cannot be before the start date.")),
    ],
)
def test_a_period_too_long_or_backwards_is_a_field_error(client, manager, start, end, error):
    client.force_login(manager)

    response = client.get(reverse("figures:dashboard"), {"period": "custom", "start": start, "end": end})

    assert response.status_code == 400
    assert response.context["form"].errors == {"end": [error]}
    assert "figures" not in response.context


def test_ten_years_to_the_day_are_counted(client, manager):
    client.force_login(manager)

    response = client.get(
        reverse("figures:dashboard"), {"period": "custom", "start": "2016-01-01", "end": "2025-12-31"}
    )

    assert response.status_code == 200
    assert response.context["form"].bounds == (datetime.date(2016, 1, 1), datetime.date(2025, 12, 31))
