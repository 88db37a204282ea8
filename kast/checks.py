"""System check: `manage.py check` (and runserver) fail when a URL has no access rule."""

from django.core.checks import Error, register

from kast.access import undeclared_urls


@register()
def every_url_has_an_access_rule(app_configs, **kwargs):
    return [
        Error(
            f"URL {url} has no access rule.",
            hint="Add its name to URL_RULES in kast/access.py (or PUBLIC, if it truly is).",
            id="kast.E001",
        )
        for url in undeclared_urls()
    ]
