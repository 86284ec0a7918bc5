"""The migration job's figures for its page: the latest monitor sample and the convergence chart's points."""
from django import template

from ..migration_tasks import remaining_by_iteration

register = template.Library()


@register.simple_tag
def migration_figures(job):
    """{"latest": the last progress sample or None, "points": [{"iteration", "remaining"}] (bytes of memory
    remaining at the end of each iteration), drawn by static/js/migration-chart.js}."""
    samples = [entry["data"] for entry in job.log if entry.get("message") == "progress" and entry.get("data")]
    points = job.result.get("remaining_by_iteration") or remaining_by_iteration(samples)
    return {"latest": samples[-1] if samples else None,
            "points": [{"iteration": iteration, "remaining": remaining} for iteration, remaining in points]}
