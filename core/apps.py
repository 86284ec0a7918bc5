from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out
        from django.utils.translation import gettext

        from virt import i18n

        from .events import close_session_sockets

        # virt/ never imports Django: its messages follow the request's (or job's) language through this.
        i18n.install(gettext)

        user_logged_out.connect(close_session_sockets, dispatch_uid="core.close_session_sockets")
