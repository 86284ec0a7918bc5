"""Standard tests of the generic pages (core/generic.py): an app's test module configures, and inherits them.

    class TestHostList(ListViewTests):
        url_name = "hosts:host_list"
        filters = [({"state": "up"}, {"small", "fleet"}), ({"search": "fle"}, {"fleet"})]

        @pytest.fixture
        def objects(self, make_host):
            return [make_host("small"), make_host("fleet")]

Objects are named by `str(obj)` in `filters`. Every class needs its fixture: `objects` (at least two) for
lists, `obj` (one) for the rest. Override `assert_done(obj, response)` to check what an action did.
"""
import pytest
from django.contrib.messages import get_messages
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from core.models import Job


def field_value(obj, field):
    """obj.host.name for field "host__name"; None past an empty relation (a job nobody started)."""
    for part in field.split("__"):
        obj = getattr(obj, part) if obj is not None else None
    return obj


def assert_sorted(values, descending, what):
    present = [value for value in values if value is not None]  # where NULLs go is the database's choice
    assert present == sorted(present, reverse=descending), f"{what}: {values}"


def missing_pk(model):
    return (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000


def row_state(obj):
    """What an action may change: the object's row and the jobs."""
    return type(obj).objects.filter(pk=obj.pk).values().first(), list(Job.objects.values_list("pk", flat=True))


def assert_refused_anonymous(response):
    assert response.status_code == 302 and response["Location"].startswith("/login/"), response


class ListViewTests:
    """An ObjectListView page: login, filters, every sortable column both ways, pages and their links."""

    pytestmark = pytest.mark.django_db
    url_name = ""
    filters = ()  # ({query}, {str(obj) expected}), through the same filter set as the API

    @pytest.fixture
    def objects(self):
        raise NotImplementedError("a list test needs an `objects` fixture making at least two objects")

    def get(self, client, **params):
        return client.get(reverse(self.url_name), params)

    def names(self, response):
        return [str(obj) for obj in response.context["page_obj"]]

    def test_it_refuses_anonymous_visitors(self, client, objects):
        assert_refused_anonymous(self.get(client))

    def test_it_lists_every_object(self, admin_client, objects):
        response = self.get(admin_client)
        assert response.status_code == 200
        assert set(self.names(response)) >= {str(obj) for obj in objects}

    def test_it_filters(self, admin_client, objects):
        for params, expected in self.filters:
            assert set(self.names(self.get(admin_client, per_page=500, **params))) == set(expected), params

    def test_it_pages_in_a_stable_order(self, admin_client, objects):
        assert self.get(admin_client).context["paginator"].object_list.ordered  # else pages skip and repeat rows

    def test_it_sorts_by_every_sortable_column_both_ways(self, admin_client, objects):
        columns = self.get(admin_client).context["sort_keys"]
        for key, field in columns.items():
            for sign in ("", "-"):
                response = self.get(admin_client, ordering=sign + key, per_page=500)
                assert response.status_code == 200 and not response.context["filter"].errors
                assert response.context["ordering"] == sign + key
                assert_sorted([field_value(obj, field) for obj in response.context["page_obj"]], bool(sign),
                              f"ordering={sign}{key}")

    def test_it_ignores_an_undeclared_sort_column(self, admin_client, objects):
        default = self.names(self.get(admin_client, per_page=500))
        for bad in ("pk,password", "password", "-", ",", "name__password", "x" * 5000, "%00", "name;drop"):
            response = self.get(admin_client, ordering=bad, per_page=500)
            assert response.status_code == 200 and not response.context["filter"].errors, bad
            assert self.names(response) == default and response.context["ordering"] == "", bad
        columns = self.get(admin_client).context["sort_keys"]
        if columns:  # a declared column beside an undeclared one: the declared one still sorts
            key = next(iter(columns))
            kept = self.get(admin_client, ordering=f"password,-{key}", per_page=500)
            assert kept.context["ordering"] == f"-{key}"
            assert self.names(kept) == self.names(self.get(admin_client, ordering=f"-{key}", per_page=500))

    def test_it_keeps_page_numbers_and_sizes_in_bounds(self, admin_client, objects):
        total = self.get(admin_client).context["paginator"].count
        assert total >= 2
        for page in ("abc", "", "0", "-1", "1.5", "%00"):
            response = self.get(admin_client, per_page=1, page=page)
            assert response.status_code == 200 and response.context["page_obj"].number == 1, page
        for page in (str(total + 5), "9" * 30):
            response = self.get(admin_client, per_page=1, page=page)
            assert response.status_code == 200 and response.context["page_obj"].number == total, page
        view = response.context["view"]
        for size in ("0", "-5", "abc", "9" * 5000):  # not a size: the one this user picked last (1, above) stands
            assert self.get(admin_client, per_page=size).context["paginator"].per_page == 1, size
        huge = self.get(admin_client, per_page=10**9).context["paginator"].per_page
        assert huge == view.max_paginate_by

    def test_it_keeps_filters_and_ordering_in_page_links(self, admin_client, objects):
        columns = self.get(admin_client).context["sort_keys"]
        params = {"per_page": 1, **({"ordering": next(iter(columns))} if columns else {})}
        content = self.get(admin_client, **params).content.decode()
        query = "&amp;".join(f"{key}={value}" for key, value in params.items())
        assert f'href="?{query}&amp;page=2"' in content


class DetailViewTests:
    """An ObjectDetailView page: login, the object, 404 for an id that is not one."""

    pytestmark = pytest.mark.django_db
    url_name = ""

    @pytest.fixture
    def obj(self):
        raise NotImplementedError("a detail test needs an `obj` fixture")

    def test_it_refuses_anonymous_visitors(self, client, obj):
        assert_refused_anonymous(client.get(reverse(self.url_name, args=[obj.pk])))

    def test_it_shows_the_object(self, admin_client, obj):
        response = admin_client.get(reverse(self.url_name, args=[obj.pk]))
        assert response.status_code == 200 and response.context["object"] == obj
        assert str(obj) in response.content.decode()

    def test_it_answers_404_for_a_missing_object(self, admin_client, obj):
        assert admin_client.get(reverse(self.url_name, args=[missing_pk(type(obj))])).status_code == 404


class ActionViewTests:
    """An ObjectActionView route: POST only, login and CSRF token needed, 404, a message, back to the page."""

    pytestmark = pytest.mark.django_db
    url_name = ""

    @pytest.fixture
    def obj(self):
        raise NotImplementedError("an action test needs an `obj` fixture")

    def assert_done(self, obj, response):
        """What the action must have done (override)."""

    def url(self, obj):
        return reverse(self.url_name, args=[obj.pk if isinstance(obj, Model) else obj])

    def test_it_refuses_anonymous_visitors(self, client, obj):
        before = row_state(obj)
        assert_refused_anonymous(client.post(self.url(obj)))
        assert row_state(obj) == before

    def test_it_accepts_post_only(self, admin_client, obj):
        before = row_state(obj)
        for method in ("get", "put", "patch", "delete"):
            assert getattr(admin_client, method)(self.url(obj)).status_code == 405, method
        assert row_state(obj) == before

    def test_it_needs_a_csrf_token(self, admin_user, obj):
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(admin_user)
        before = row_state(obj)
        assert strict.post(self.url(obj)).status_code == 403
        assert row_state(obj) == before

    def test_it_answers_404_for_a_missing_object(self, admin_client, obj):
        before = row_state(obj)
        assert admin_client.post(self.url(missing_pk(type(obj)))).status_code == 404
        assert row_state(obj) == before

    def test_it_acts_says_so_and_goes_back(self, admin_client, obj):
        response = admin_client.post(self.url(obj))
        assert response.status_code == 302
        assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["success"]
        self.assert_done(obj, response)

    def test_it_goes_back_to_a_same_site_next_only(self, admin_client, obj):
        here = admin_client.post(self.url(obj), {"next": "/jobs/?status=queued"})
        assert here["Location"] == "/jobs/?status=queued"
        away = admin_client.post(self.url(obj), {"next": "https://evil.example/"})
        assert away["Location"].startswith("/") and "evil" not in away["Location"]

    def test_it_answers_htmx_with_a_redirect_header(self, admin_client, obj):
        response = admin_client.post(self.url(obj), headers={"HX-Request": "true"})
        assert response.status_code == 204 and response["HX-Redirect"].startswith("/")


class DeleteViewTests:
    """An ObjectDeleteView: login, a confirmation page, CSRF, 404; with `confirm_name`, the name typed first."""

    pytestmark = pytest.mark.django_db
    url_name = ""

    @pytest.fixture
    def obj(self):
        raise NotImplementedError("a delete test needs an `obj` fixture")

    def url(self, pk):
        return reverse(self.url_name, args=[pk])

    def confirmation(self, view, obj):
        return {"name": str(getattr(obj, view.confirm_field))} if view.confirm_name else {}

    def exists(self, obj):
        return type(obj).objects.filter(pk=obj.pk).exists()

    def test_it_refuses_anonymous_visitors(self, client, obj):
        assert_refused_anonymous(client.get(self.url(obj.pk)))
        assert_refused_anonymous(client.post(self.url(obj.pk), {"name": str(obj)}))
        assert self.exists(obj)

    def test_it_asks_first(self, admin_client, obj):
        response = admin_client.get(self.url(obj.pk))
        assert response.status_code == 200 and response.context["object"] == obj
        assert 'method="post"' in response.content.decode() and self.exists(obj)

    def test_it_needs_a_csrf_token(self, admin_user, admin_client, obj):
        view = admin_client.get(self.url(obj.pk)).context["view"]
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(admin_user)
        assert strict.post(self.url(obj.pk), self.confirmation(view, obj)).status_code == 403
        assert self.exists(obj)

    def test_it_answers_404_for_a_missing_object(self, admin_client, obj):
        assert admin_client.get(self.url(missing_pk(type(obj)))).status_code == 404
        assert admin_client.post(self.url(missing_pk(type(obj)))).status_code == 404
        assert self.exists(obj)

    def test_it_deletes_says_so_and_goes_to_the_list(self, admin_client, obj):
        view = admin_client.get(self.url(obj.pk)).context["view"]
        if view.confirm_name:
            for wrong in ({}, {"name": ""}, {"name": str(getattr(obj, view.confirm_field)).upper() + "x"}):
                response = admin_client.post(self.url(obj.pk), wrong)
                assert response.status_code == 200 and response.context["form"].errors and self.exists(obj)
        response = admin_client.post(self.url(obj.pk), self.confirmation(view, obj))
        assert response.status_code == 302 and response["Location"] == view.get_success_url()
        assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["success"]
        assert not self.exists(obj)
