from django.db import models


class Frame(models.Model):
    """One host at one sample (step 0) or averaged over one bucket (step = the bucket's seconds).

    The host's own values are columns; its running VMs are packed in `vms` (metrics/frames.py), one
    record each, so a sample of a host with 250 VMs is one row. See metrics/store.py for why.
    """

    host = models.ForeignKey("hosts.Host", on_delete=models.CASCADE, related_name="+")
    step = models.PositiveIntegerField()
    ts = models.BigIntegerField(help_text="epoch seconds: the sample's time, or the bucket's start")
    cpu_percent = models.FloatField(null=True)
    memory_used_kib = models.BigIntegerField(null=True)
    memory_total_kib = models.BigIntegerField(null=True)
    vms = models.BinaryField(default=b"")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["host", "step", "ts"], name="frame_unique_per_host_step")]
        ordering = ["ts"]


class SamplerState(models.Model):
    """A host's previous sample (counters, not rates): the next sample's rates need it. One row a host."""

    host = models.OneToOneField("hosts.Host", on_delete=models.CASCADE, primary_key=True, related_name="+")
    sample = models.JSONField()


class Residence(models.Model):
    """A host whose frames hold points of a VM: the VM's graph reads the frames of every host it lived on,
    so a migration (its row moves, keeping its pk) does not hide the points from before it.

    Written by the store when a host's frame first holds the VM (metrics.store.record); no database constraint
    on the VM so that a sample racing the VM's deletion never fails its frame (the ORM still cascades)."""

    instance = models.ForeignKey("instances.Instance", on_delete=models.CASCADE, db_constraint=False, related_name="+")
    host = models.ForeignKey("hosts.Host", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instance", "host"], name="residence_unique_per_host")]
