"""Rates from two samples' counters."""
from metrics import rates


def vm(uuid="u1", **counters):
    base = {"uuid": uuid, "vcpus": 2, "memory_kib": 1000, "cpu_time_ns": 0, "disk_read_bytes": 0,
            "disk_write_bytes": 0, "net_rx_bytes": 0, "net_tx_bytes": 0}
    return {**base, **counters}


def test_it_makes_rates_per_second_and_cpu_percent_of_the_vcpus():
    point = rates.vm_point(vm(), vm(cpu_time_ns=5 * 10**9, disk_read_bytes=10_000, net_tx_bytes=500), 10)
    assert point["cpu_percent"] == 25.0  # 5 s of CPU in 10 s on 2 vCPUs
    assert point["disk_read_bps"] == 1000 and point["net_tx_bps"] == 50 and point["disk_write_bps"] == 0
    assert point["memory_kib"] == 1000


def test_it_gives_no_rate_without_a_previous_sample_or_after_a_counter_reset():
    assert rates.vm_point(None, vm(cpu_time_ns=10**9), 0)["cpu_percent"] is None
    reset = rates.vm_point(vm(cpu_time_ns=10**10, disk_read_bytes=500), vm(cpu_time_ns=10**9, disk_read_bytes=9), 10)
    assert reset["cpu_percent"] is None and reset["disk_read_bps"] is None  # the VM restarted


def test_it_gives_no_rate_for_unknown_counters():
    point = rates.vm_point(vm(cpu_time_ns=None), vm(cpu_time_ns=None, disk_read_bytes=None), 10)
    assert point["cpu_percent"] is None and point["disk_read_bps"] is None


def test_it_keys_points_by_instance_id_and_skips_vms_without_a_row():
    previous = {"taken": 100.0, "vms": [vm("a"), vm("b")]}
    current = {"taken": 110.0, "vms": [vm("a", net_rx_bytes=1000), vm("b"), vm("new")]}
    points = rates.points(previous, current, {"a": 1, "b": 2})
    assert set(points) == {1, 2} and points[1]["net_rx_bps"] == 100


def test_it_makes_host_cpu_percent_and_memory_in_use():
    previous = {"host": {"cpu_times": {"kernel": 0, "user": 0, "idle": 0, "iowait": 0}}}
    current = {"host": {"memory_total_kib": 1000, "memory_free_kib": 250,
                        "cpu_times": {"kernel": 10, "user": 30, "idle": 60, "iowait": 0}}}
    assert rates.host_point(previous, current) == {"cpu_percent": 40.0, "memory_total_kib": 1000,
                                                   "memory_used_kib": 750}
    assert rates.host_point(None, {"host": {"memory_total_kib": 0}})["memory_used_kib"] is None
