"""What every bench script does first: Django on a fresh database of its own under its bench directory."""
import os
import shutil


def fresh_database(bench_dir, database_url=None, *, keep_files=False, allow_test_driver=False):
    """Settings pointed at `bench_dir` (never the dev or a production database), emptied, migrated.

    `database_url`: a database of the bench's own instead of SQLite under `bench_dir` (bench/fleet.py's private
    PostgreSQL), which the caller has emptied.
    `keep_files`: remove only the SQLite database and the stored credentials, not the whole of `bench_dir`: for a
    bench that has put files there already, or whose directory holds other benches' (var/bench).
    `allow_test_driver`: the bench registers test-driver hosts."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "virtdeck.settings"
    os.environ["VIRTDECK_STATE_DIR"] = str(bench_dir)
    os.environ["VIRTDECK_RUN_DIR"] = str(bench_dir / "run")
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "VIRTDECK_DEBUG"):
        os.environ.pop(name, None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    if allow_test_driver:
        os.environ["VIRTDECK_ALLOW_TEST_DRIVER"] = "1"
    if keep_files:
        bench_dir.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            (bench_dir / f"virtdeck.sqlite3{suffix}").unlink(missing_ok=True)
        shutil.rmtree(bench_dir / "credentials", ignore_errors=True)
    else:
        shutil.rmtree(bench_dir, ignore_errors=True)
        bench_dir.mkdir(parents=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
