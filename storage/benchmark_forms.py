"""The benchmark page's form: what storage.benchmark.BenchmarkSpec takes, in MiB and seconds."""
from django import forms
from django.utils.translation import gettext_lazy as _

from . import benchmark
from .forms import StyledForm
from .models import StoragePool

_DEFAULTS = benchmark.BenchmarkSpec()


class BenchmarkForm(StyledForm):
    pool = forms.ModelChoiceField(queryset=StoragePool.objects.none(), label=_("Pool"),
                                  help_text=_("A running pool of files (dir, fs, netfs) on a host virtdeck has a "
                                              "shell on. Test volumes are made there and removed afterwards."))
    kinds = forms.MultipleChoiceField(label=_("Volume kinds"), choices=list(benchmark.KIND_LABELS.items()),
                                      initial=list(_DEFAULTS.kinds), widget=forms.CheckboxSelectMultiple)
    workloads = forms.MultipleChoiceField(label=_("Workloads"), choices=list(benchmark.WORKLOAD_LABELS.items()),
                                          initial=list(_DEFAULTS.workloads), widget=forms.CheckboxSelectMultiple)
    block_size = forms.ChoiceField(label=_("Block size"), choices=[(key, key) for key in benchmark.BLOCK_SIZES],
                                   initial=_DEFAULTS.block_size)
    iodepth = forms.IntegerField(label=_("I/O depth"), min_value=1, max_value=benchmark.IODEPTH_MAX,
                                 initial=_DEFAULTS.iodepth)
    size_mib = forms.IntegerField(label=_("Size of each test volume (MiB)"), min_value=benchmark.SIZE_MIN // 2**20,
                                  max_value=benchmark.SIZE_MAX // 2**20, initial=_DEFAULTS.size // 2**20)
    runtime = forms.IntegerField(label=_("Longest run (seconds)"), min_value=benchmark.RUNTIME_MIN,
                                 max_value=benchmark.RUNTIME_MAX, initial=_DEFAULTS.runtime,
                                 help_text=_("Each run makes one pass over its volume and stops at this time."))

    def __init__(self, *args, pools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pool"].queryset = pools
        self.fields["pool"].label_from_instance = lambda pool: f"{pool.host.name} / {pool.name} ({pool.type})"
        for name in ("kinds", "workloads"):
            self.fields[name].widget.attrs["class"] = "form-check-input"

    def spec(self):
        data = self.cleaned_data
        return benchmark.BenchmarkSpec(kinds=data["kinds"], workloads=data["workloads"],
                                       block_size=data["block_size"], iodepth=data["iodepth"],
                                       size=data["size_mib"] * 2**20, runtime=data["runtime"])
