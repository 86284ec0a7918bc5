"""A frame's VMs packed into bytes: one fixed-size record per VM, sorted by instance id. Pure.

A record is the instance id (int32) and the six VM values as float32, NaN where a value is unknown:
28 bytes a VM a point, so one VM's point can be found by binary search without decoding the frame.
"""
import math
import struct

VM_FIELDS = ("cpu_percent", "memory_kib", "disk_read_bps", "disk_write_bps", "net_rx_bps", "net_tx_bps")
RECORD = struct.Struct("<i" + "f" * len(VM_FIELDS))
_ID = struct.Struct("<i")


def _float(value):
    return math.nan if value is None else float(value)


def _value(number):
    return None if math.isnan(number) else number


def encode(points):
    """{instance id: {field: value or None}} -> bytes."""
    out = bytearray(RECORD.size * len(points))
    for index, instance_id in enumerate(sorted(points)):
        values = points[instance_id]
        RECORD.pack_into(out, index * RECORD.size, instance_id, *(_float(values.get(f)) for f in VM_FIELDS))
    return bytes(out)


def decode(blob):
    """bytes -> {instance id: {field: value or None}}."""
    return {record[0]: dict(zip(VM_FIELDS, map(_value, record[1:]))) for record in RECORD.iter_unpack(blob)}


def find(blob, instance_id):
    """One VM's values in a frame, or None if the frame has no record of it: a binary search."""
    low, high = 0, len(blob) // RECORD.size
    while low < high:
        middle = (low + high) // 2
        found = _ID.unpack_from(blob, middle * RECORD.size)[0]
        if found == instance_id:
            return dict(zip(VM_FIELDS, map(_value, RECORD.unpack_from(blob, middle * RECORD.size)[1:])))
        if found < instance_id:
            low = middle + 1
        else:
            high = middle
    return None


def mean(values):
    """The mean of the known values, or None if none is known."""
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def average(blobs):
    """The per-VM, per-field mean of several frames' VMs (a rollup): bytes in, bytes out."""
    columns = {}
    for blob in blobs:
        for instance_id, values in decode(blob).items():
            slot = columns.setdefault(instance_id, {field: [] for field in VM_FIELDS})
            for field in VM_FIELDS:
                slot[field].append(values[field])
    return encode({i: {field: mean(v) for field, v in slot.items()} for i, slot in columns.items()})
