from django.apps import AppConfig


class InstancesConfig(AppConfig):
    name = "instances"

    def ready(self):
        from . import migration_tasks  # noqa: F401 - registers the migration job's Celery task (not in tasks.py)
