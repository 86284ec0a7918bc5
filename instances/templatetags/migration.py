"""The migration job's figures for its page: the latest monitor sample and the convergence chart."""
from django import template

from ..migration_tasks import remaining_by_iteration

register = template.Library()
CHART_HEIGHT = 80
BAR_WIDTH = 28


@register.simple_tag
def migration_figures(job):
    """{"latest": the last progress sample or None, "bars": [{iteration, remaining, x, y, height}]}."""
    samples = [entry["data"] for entry in job.log if entry.get("message") == "progress" and entry.get("data")]
    points = job.result.get("remaining_by_iteration") or remaining_by_iteration(samples)
    peak = max((remaining for _iteration, remaining in points), default=0) or 1
    bars = []
    for index, (iteration, remaining) in enumerate(points):
        height = round(CHART_HEIGHT * remaining / peak)
        bars.append({"iteration": iteration, "remaining": remaining, "x": index * (BAR_WIDTH + 6),
                     "y": CHART_HEIGHT - height, "height": height, "width": BAR_WIDTH})
    return {"latest": samples[-1] if samples else None, "bars": bars,
            "chart_width": max(1, len(bars)) * (BAR_WIDTH + 6), "chart_height": CHART_HEIGHT}
