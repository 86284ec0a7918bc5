"""Benchmark pages: the form and past runs; one run with its progress, table and Chart.js charts.

Both read the database only (pools, jobs); the run happens in the job (storage/benchmark_tasks.py).
"""
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView

from core.generic import ObjectDetailView
from core.models import Job
from core.permissions import restrict
from hosts.models import Host
from virt.errors import VirtError

from . import benchmark, benchmark_services
from .benchmark_forms import BenchmarkForm
from .benchmark_tasks import StorageBenchmark
from .models import StoragePool
from .views import add_virt_error

RUNS_SHOWN = 20


def benchmark_jobs(user):
    return restrict(Job.objects.filter(kind=StorageBenchmark.kind).select_related("user", "host"), user)


def hosts_without_shell(user):
    """[(host, reason)] for the hosts the benchmark cannot run on."""
    refusals = ((host, benchmark.shell_refusal(host)) for host in restrict(Host.objects.order_by("name"), user))
    return [(host, reason) for host, reason in refusals if reason]


class BenchmarkView(FormView):
    template_name = "storage/benchmark.html"
    form_class = BenchmarkForm

    def get_form_kwargs(self):
        pools = StoragePool.objects.filter(type__in=benchmark.FILE_POOL_TYPES).select_related("host")
        kwargs = {**super().get_form_kwargs(), "pools": restrict(pools, self.request.user)}
        pool_id = self.request.GET.get("pool", "")
        if pool_id.isdigit() and len(pool_id) < 19:
            kwargs["initial"] = {**kwargs.get("initial", {}), "pool": int(pool_id)}
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["runs"] = benchmark_jobs(self.request.user).order_by("-created")[:RUNS_SHOWN]
        context["runs_kind"] = StorageBenchmark.kind  # "All runs": the job list, filtered to this kind
        context["no_shell"] = hosts_without_shell(self.request.user)
        return context

    def form_valid(self, form):
        try:
            job = benchmark_services.start_benchmark(form.cleaned_data["pool"], form.spec(), user=self.request.user)
        except VirtError as exc:
            field = getattr(exc, "field", None)
            field = {"size": "size_mib"}.get(field, field)
            if field in form.fields:
                form.add_error(field, exc.message)
            else:
                add_virt_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Benchmark started: job #%(job)s.") % {"job": job.pk})
        return redirect("storage:benchmark_detail", pk=job.pk)


def chart_data(runs):
    """What static/js/benchmark_chart.js draws: kinds on the x axis, one bar series per run and workload."""
    kinds = [kind for kind in benchmark.KINDS if any(r["kind"] == kind for run in runs for r in run.result.get(
        "results", []))]
    series = []
    for run in runs:
        by_key = {(r["kind"], r["workload"]): r for r in run.result.get("results", [])}
        for workload in run.result.get("spec", {}).get("workloads", []):
            label = str(benchmark.WORKLOAD_LABELS.get(workload, workload))
            if len(runs) > 1:
                label = f"{label} (#{run.pk})"
            rows = [by_key.get((kind, workload)) for kind in kinds]
            series.append({
                "label": label,
                "iops": [row["iops"] if row else None for row in rows],
                "mibps": [round(row["bandwidth"] / 2**20, 1) if row else None for row in rows],
                "p99": [row["latency_us"].get("99") if row else None for row in rows],
            })
    return {"labels": [str(benchmark.KIND_LABELS[kind]) for kind in kinds], "series": series,
            "titles": {"iops": _("IOPS (higher is better)"), "mibps": _("MiB/s (higher is better)"),
                       "p99": _("99th percentile latency, µs (lower is better)")}}


class BenchmarkDetailView(ObjectDetailView):
    template_name = "storage/benchmark_detail.html"
    context_object_name = "run"
    queryset = Job.objects.filter(kind=StorageBenchmark.kind).select_related("user", "host")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = self.object
        others = benchmark_jobs(self.request.user).filter(status=Job.Status.SUCCEEDED).exclude(pk=run.pk)
        compare_id = self.request.GET.get("compare", "")
        compare = others.filter(pk=int(compare_id)).first() if compare_id.isdigit() and len(compare_id) < 19 else None
        context.update(others=others.order_by("-created")[:RUNS_SHOWN], compare=compare,
                       rows=self._rows(run), kind_labels=benchmark.KIND_LABELS)
        if run.result.get("results"):
            context["chart"] = chart_data([run, compare] if compare else [run])
        return context

    @staticmethod
    def _rows(run):
        return [{**row, "kind_label": benchmark.KIND_LABELS.get(row["kind"], row["kind"]),
                 "workload_label": benchmark.WORKLOAD_LABELS.get(row["workload"], row["workload"]),
                 "mibps": round(row["bandwidth"] / 2**20, 1)} for row in run.result.get("results", [])]
