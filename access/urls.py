from django.urls import path

from . import views

app_name = "access"
urlpatterns = [
    path("users/", views.UserListView.as_view(), name="user_list"),
    path("users/add/", views.UserFormView.as_view(), name="user_add"),
    path("users/<int:pk>/edit/", views.UserFormView.as_view(), name="user_edit"),
    path("users/<int:pk>/delete/", views.UserDeleteView.as_view(), name="user_delete"),
    path("groups/", views.GroupListView.as_view(), name="group_list"),
    path("groups/add/", views.GroupFormView.as_view(), name="group_add"),
    path("groups/<int:pk>/edit/", views.GroupFormView.as_view(), name="group_edit"),
    path("groups/<int:pk>/delete/", views.GroupDeleteView.as_view(), name="group_delete"),
    path("grants/", views.GrantListView.as_view(), name="grant_list"),
    path("grants/add/", views.GrantCreateView.as_view(), name="grant_add"),
    path("grants/<int:pk>/edit/", views.GrantCreateView.as_view(), name="grant_edit"),
    path("grants/<int:pk>/delete/", views.GrantDeleteView.as_view(), name="grant_delete"),
]
