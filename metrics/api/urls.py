from django.urls import path

from . import views

app_name = "api-metrics"
urlpatterns = [
    path("hosts/<int:pk>/", views.HostSeriesView.as_view(), name="host_series"),
    path("instances/<int:pk>/", views.InstanceSeriesView.as_view(), name="instance_series"),
]
