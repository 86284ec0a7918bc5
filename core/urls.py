from django.urls import include, path

from . import views
from .actions import JOB_ACTIONS
from .generic import action_urls
from .models import Job

app_name = "core"
urlpatterns = [
    path("jobs/", views.JobListView.as_view(), name="job_list"),
    path("jobs/<int:pk>/", views.JobDetailView.as_view(), name="job_detail"),
    path("jobs/", include(action_urls(Job, JOB_ACTIONS))),
    path("health/banner/", views.HealthBannerView.as_view(), name="health_banner"),
]
