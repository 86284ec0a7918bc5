from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from .events import close_session_sockets

        user_logged_out.connect(close_session_sockets, dispatch_uid="core.close_session_sockets")
