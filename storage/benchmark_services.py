"""Starting a storage benchmark (storage/benchmark.py says what it measures): shared by the page and the API."""
from core import jobs
from virt.errors import Unsupported

from . import benchmark
from .benchmark_tasks import storage_benchmark


def start_benchmark(pool, spec, user=None):
    """Check everything, then queue the benchmark job on the pool's host; the Job. A refusal queues nothing."""
    if not isinstance(spec, benchmark.BenchmarkSpec):
        spec = benchmark.BenchmarkSpec(**spec)
    benchmark.check_pool(pool, spec)
    refusal = benchmark.shell_refusal(pool.host)
    if refusal:
        raise Unsupported(refusal)
    return jobs.enqueue(storage_benchmark, user=user, target=pool, host=pool.host, pool_id=pool.pk,
                        spec=spec.as_dict())
