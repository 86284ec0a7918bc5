from django.apps import AppConfig


class HostsConfig(AppConfig):
    name = "hosts"

    def ready(self):
        from pathlib import Path

        from django.conf import settings

        from virt import errors

        # libvirt names the key and certificate files virtdeck wrote (hosts.credentials.managed_params)
        # in its errors: messages show which file, never where it lives.
        errors.hide_paths_under(Path(settings.STATE_DIR) / "credentials", "[credentials]")
