from django.apps import AppConfig


class DemoPlatformConfig(AppConfig):
    """Registers the demo loader command. The demo platform itself runs as its own process."""

    name = "demo_platform"
    verbose_name = "Demo platform"
