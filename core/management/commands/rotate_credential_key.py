"""Re-encrypt every stored credential with the current key (VIRTDECK_ENCRYPTION_KEY, or the one derived from
VIRTDECK_SECRET_KEY), reading each with the current or an earlier key (the *_FALLBACKS settings).
docs/security.md has the whole procedure. Secrets are never printed: only counts, and model, row and field of
a value no key could read."""
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.crypto import EncryptedTextField, Undecryptable


def encrypted_fields():
    for model in apps.get_models():
        names = [f.name for f in model._meta.get_fields() if isinstance(f, EncryptedTextField)]
        if names:
            yield model, names


class Command(BaseCommand):
    help = "Re-encrypt stored credentials with the current credential key."

    def handle(self, *args, **options):
        rewritten, unreadable = 0, []
        with transaction.atomic():
            for model, names in encrypted_fields():
                for row in model._base_manager.only("pk", *names).iterator():
                    lost = [n for n in names if isinstance(getattr(row, n), Undecryptable)]
                    unreadable += [f"{model._meta.label} {row.pk} {n}" for n in lost]
                    keep = [n for n in names if n not in lost and getattr(row, n)]
                    if keep:
                        row.save(update_fields=keep)  # get_prep_value encrypts with the current key
                        rewritten += len(keep)
        self.stdout.write(f"re-encrypted {rewritten} stored credentials with the current key")
        if unreadable:
            raise CommandError("no key reads these (left as they are; add the key they were written with to "
                               "VIRTDECK_ENCRYPTION_KEY_FALLBACKS and run again): " + ", ".join(unreadable))
