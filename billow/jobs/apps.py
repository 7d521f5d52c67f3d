from django.apps import AppConfig


class JobsConfig(AppConfig):
    """An app only so that the Huey consumer's ``tasks`` autodiscovery finds ``jobs/tasks.py``
    (the periodic schedule); no models."""

    name = "billow.jobs"
    label = "jobs"
