"""Fixtures for the client-record tests, on top of the personas in tests/conftest.py."""

from __future__ import annotations

import pytest

from tests.factories import open_first_period


@pytest.fixture
def case(client_record):
    """`client_record` as registration leaves it: period 1 at contact, and the family map's centre."""
    return open_first_period(client_record)
