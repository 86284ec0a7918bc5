"""A frame's packed VMs: encode, decode, find one VM, average several frames."""
import math

import pytest

from metrics import frames

POINT = {"cpu_percent": 12.5, "memory_kib": 262144.0, "disk_read_bps": None, "disk_write_bps": 4096.0,
         "net_rx_bps": 0.0, "net_tx_bps": 1.5}


def test_it_round_trips_points_with_unknown_values():
    blob = frames.encode({7: POINT, 3: {field: None for field in frames.VM_FIELDS}})
    assert len(blob) == 2 * frames.RECORD.size == 56
    decoded = frames.decode(blob)
    assert decoded[7] == POINT
    assert decoded[3] == {field: None for field in frames.VM_FIELDS}


@pytest.mark.parametrize("wanted", [1, 2, 50, 99, 100])
def test_it_finds_one_vm_by_binary_search(wanted):
    blob = frames.encode({i: {**POINT, "cpu_percent": float(i)} for i in range(1, 101)})
    assert frames.find(blob, wanted)["cpu_percent"] == wanted


@pytest.mark.parametrize("missing", [0, 101, -5, 2**31 - 1])
def test_it_finds_nothing_for_a_vm_not_in_the_frame(missing):
    assert frames.find(frames.encode({i: POINT for i in range(1, 101)}), missing) is None
    assert frames.find(b"", missing) is None


def test_it_averages_known_values_per_vm_and_field():
    first = frames.encode({1: {**POINT, "cpu_percent": 10.0, "disk_read_bps": None}, 2: POINT})
    second = frames.encode({1: {**POINT, "cpu_percent": 30.0, "disk_read_bps": 100.0}})
    averaged = frames.decode(frames.average([first, second]))
    assert averaged[1]["cpu_percent"] == 20.0
    assert averaged[1]["disk_read_bps"] == 100.0  # the unknown value is left out, not counted as 0
    assert averaged[2] == POINT  # a VM in one frame only keeps its values
    assert frames.average([]) == b""


def test_it_stores_values_as_float32():
    value = frames.decode(frames.encode({1: {"memory_kib": 16 * 1024 * 1024 + 1}}))[1]["memory_kib"]
    assert math.isclose(value, 16 * 1024 * 1024, rel_tol=1e-6)
