from django.urls import path

from . import views

app_name = "hosts"
urlpatterns = [
    path("", views.HostListView.as_view(), name="host_list"),
    path("add/", views.HostFormView.as_view(), name="host_add"),
    path("<int:pk>/", views.HostDetailView.as_view(), name="host_detail"),
    path("<int:pk>/edit/", views.HostFormView.as_view(), name="host_edit"),
    path("<int:pk>/delete/", views.HostDeleteView.as_view(), name="host_delete"),
    path("<int:pk>/refresh/", views.host_refresh, name="host_refresh"),
]
