from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo and load-test data (`seed_demo`, `bench`): development and tests only, never in production settings.

    On the roof: it imports the product apps, and no product module imports it (tests/demo/test_development_only.py).
    No verbose name to translate: it has no models, so no page ever shows it.
    """

    name = "demo"
