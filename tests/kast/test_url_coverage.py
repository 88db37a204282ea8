"""No view can be added without deciding who may use it."""

from __future__ import annotations

import sys
import types

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.http import HttpResponse
from django.test import override_settings
from django.urls import include, path

from kast.access import undeclared_urls


def test_every_url_of_the_project_has_an_access_rule():
    assert undeclared_urls() == []


def _unprotected_view(request):
    return HttpResponse("secret")


@pytest.fixture
def urlconf_with_unprotected_view():
    """The project's URLs plus one view nobody put in the role table."""
    module = types.ModuleType("tests_unprotected_urls")
    module.urlpatterns = [
        path("forgotten/", _unprotected_view, name="forgotten_report"),
        path("", include("kast.urls")),
    ]
    sys.modules[module.__name__] = module
    yield module.__name__
    del sys.modules[module.__name__]


def test_coverage_check_fails_for_an_unprotected_view(urlconf_with_unprotected_view):
    assert undeclared_urls(urlconf_with_unprotected_view) == ["forgotten/ (forgotten_report)"]


def test_manage_py_check_fails_for_an_unprotected_view(urlconf_with_unprotected_view):
    with override_settings(ROOT_URLCONF=urlconf_with_unprotected_view), pytest.raises(SystemCheckError) as error:
        call_command("check")
    assert "forgotten/ (forgotten_report)" in str(error.value)


def test_an_unprotected_view_is_refused_at_run_time(client, therapist, urlconf_with_unprotected_view):
    client.force_login(therapist)
    with override_settings(ROOT_URLCONF=urlconf_with_unprotected_view):
        response = client.get("/forgotten/")
    assert response.status_code == 403
    assert b"secret" not in response.content
