from instances.models import Instance


def records_of(host):
    """The host's rows as inventory records (what virt.inventory.collect returns), to edit and apply back."""
    return [{"uuid": str(row["uuid"]), **{f: row[f] for f in Instance.SYNCED_FIELDS}}
            for row in Instance.objects.filter(host=host).values("uuid", *Instance.SYNCED_FIELDS)]
