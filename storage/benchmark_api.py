"""/api/storage/benchmarks/: start a benchmark (202 + job) and read past runs (jobs with their results)."""
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers

from core.api.serializers import JobSerializer
from core.api.views import BaseViewSet, accepted
from core.filters import JobFilterSet
from core.models import Job

from . import benchmark, benchmark_services
from .api.serializers import IdField
from .benchmark_tasks import StorageBenchmark
from .models import StoragePool

_DEFAULTS = benchmark.BenchmarkSpec()


class BenchmarkCreateSerializer(serializers.Serializer):
    pool = IdField(queryset=StoragePool.objects.all(), help_text="a running dir, fs or netfs pool")
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=list(benchmark.KINDS)), allow_empty=False,
                                 max_length=len(benchmark.KINDS), default=list(_DEFAULTS.kinds))
    workloads = serializers.ListField(child=serializers.ChoiceField(choices=list(benchmark.WORKLOADS)),
                                     allow_empty=False, max_length=len(benchmark.WORKLOADS),
                                     default=list(_DEFAULTS.workloads))
    block_size = serializers.ChoiceField(choices=list(benchmark.BLOCK_SIZES), default=_DEFAULTS.block_size)
    iodepth = serializers.IntegerField(default=_DEFAULTS.iodepth, help_text=f"1 to {benchmark.IODEPTH_MAX}")
    size = serializers.IntegerField(default=_DEFAULTS.size, help_text=(
        f"bytes of each test volume, whole MiB, {benchmark.SIZE_MIN} to {benchmark.SIZE_MAX}"))
    runtime = serializers.IntegerField(default=_DEFAULTS.runtime, help_text=(
        f"seconds per run at most, {benchmark.RUNTIME_MIN} to {benchmark.RUNTIME_MAX}"))


class BenchmarkViewSet(BaseViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin):
    """Storage benchmarks: fio on raw/qcow2, thin/thick volumes of a pool. Each run is a job; its `result` holds
    `results`: one entry per kind and workload with iops, bandwidth (bytes/s) and latency_us percentiles."""

    queryset = Job.objects.filter(kind=StorageBenchmark.kind).select_related("user")
    filterset_class = JobFilterSet

    def get_serializer_class(self):
        return BenchmarkCreateSerializer if self.action == "create" else JobSerializer

    @extend_schema(request=BenchmarkCreateSerializer, responses={202: JobSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        pool = data.pop("pool")
        job = benchmark_services.start_benchmark(pool, benchmark.BenchmarkSpec(**data), user=request.user)
        return accepted(request, job)
