from instances.models import Instance


def records_of(host):
    """The host's rows as inventory records (what virt.inventory.collect returns), to edit and apply back."""
    return [{"uuid": str(row["uuid"]), **{f: row[f] for f in Instance.SYNCED_FIELDS}}
            for row in Instance.objects.filter(host=host).values("uuid", *Instance.SYNCED_FIELDS)]


def recounted_totals(host=None):
    """{(host id, state): {n, vcpus, memory}} counted from the VM rows (of `host`, or all): what the hosts' kept
    totals (instances/totals.py) must say."""
    from django.db.models import Count, Sum

    rows = Instance.objects.all() if host is None else Instance.objects.filter(host=host)
    return {(host_id, state): {"n": n, "vcpus": vcpus, "memory": memory} for host_id, state, n, vcpus, memory in
            rows.values_list("host_id", "state").annotate(n=Count("*"), vcpus=Sum("vcpus"),
                                                          memory=Sum("memory_kib")).order_by()}
