from django.urls import path

from . import views

app_name = "guide"
urlpatterns = [path("", views.ConceptsView.as_view(), name="concepts")]
