"""Standard tests of BaseViewSet routes (core/api/views.py): an app's test module configures, and inherits them.

    class TestHostAPI(APIViewSetTests):
        list_url_name = "api-hosts:host-list"
        filters = HOST_FILTERS          # the same ({query}, {str(obj)}) pairs as the page's ListViewTests

    class TestHostRefreshAPI(APIActionTests):
        url_name = "api-hosts:host-refresh"

Fixtures as in core/testing/views.py: `objects` (at least two) for the viewset, `obj` for an action.
"""
import pytest
from django.test import Client
from django.urls import resolve, reverse
from rest_framework.request import Request

from core.generic import sortable_columns

from .views import assert_sorted, field_value, missing_pk, row_state

BAD_IDS = ("abc", "-1", "1.5", "9" * 30, str(2**63))


def url_with_id(name, pk):
    """reverse() for any id text, including ones the route's pattern refuses (they must 404 too)."""
    return reverse(name, args=["ID"]).replace("/ID/", f"/{pk}/")


class APIViewSetTests:
    """A viewset's list and detail: token or session, the page's filters and sortable columns, paging, 404."""

    pytestmark = pytest.mark.django_db
    list_url_name = ""  # "api-hosts:host-list"; the detail route is the same with "-detail"
    filters = ()

    @pytest.fixture
    def objects(self):
        raise NotImplementedError("an API test needs an `objects` fixture making at least two objects")

    @property
    def detail_url_name(self):
        return self.list_url_name.removesuffix("-list") + "-detail"

    def viewset(self):
        return resolve(reverse(self.list_url_name)).func.cls

    def get(self, api, **params):
        response = api.get(reverse(self.list_url_name), params)
        assert response.status_code == 200, response.content
        return response.json()

    def names(self, body):
        ids = [row["id"] for row in body["results"]]
        found = self.viewset().queryset.model.objects.in_bulk(ids)
        return [str(found[pk]) for pk in ids]

    def test_it_refuses_anonymous_callers(self, client, objects):
        assert client.get(reverse(self.list_url_name)).status_code == 401
        assert client.get(reverse(self.detail_url_name, args=[objects[0].pk])).status_code == 401

    def test_it_lists_every_object(self, api, objects):
        body = self.get(api, limit=1000)
        assert body["count"] >= len(objects) and set(self.names(body)) >= {str(obj) for obj in objects}

    def test_it_filters_as_its_page_does(self, api, objects):
        for params, expected in self.filters:
            assert set(self.names(self.get(api, limit=1000, **params))) == set(expected), params

    def test_it_pages_in_a_stable_order(self, rf, admin_user, objects):
        request = Request(rf.get(reverse(self.list_url_name)))
        request.user = admin_user
        view = self.viewset()(request=request, action="list", format_kwarg=None, args=(), kwargs={})
        assert view.get_queryset().ordered  # else limit/offset pages skip and repeat rows

    def test_it_sorts_by_every_sortable_column_both_ways(self, api, objects):
        viewset = self.viewset()
        model = viewset.queryset.model
        columns = sortable_columns(viewset.filterset_class(queryset=model.objects.none()))
        for key, field in columns.items():
            for sign in ("", "-"):
                ids = [row["id"] for row in self.get(api, ordering=sign + key, limit=1000)["results"]]
                # Through the filter set, as the API: a computed column is annotated (core/sorting.py).
                found = viewset.filterset_class({"ordering": sign + key}, queryset=viewset.queryset).qs.in_bulk(ids)
                assert_sorted([field_value(found[pk], field) for pk in ids], bool(sign), f"ordering={sign}{key}")

    def test_it_refuses_to_sort_by_an_undeclared_column(self, api, objects):
        response = api.get(reverse(self.list_url_name), {"ordering": "pk,password"})
        assert response.status_code == 400 and "ordering" in response.json()

    def test_it_pages_with_limit_and_offset(self, api, objects):
        first = self.get(api, limit=1)
        assert len(first["results"]) == 1 and first["count"] >= 2 and "offset=1" in first["next"]
        second = self.get(api, limit=1, offset=1)
        assert second["results"][0]["id"] != first["results"][0]["id"]
        assert len(self.get(api, limit=10**9)["results"]) == first["count"]  # capped, not an error

    def test_it_answers_404_for_missing_and_malformed_ids(self, api, objects):
        for pk in (missing_pk(type(objects[0])), *BAD_IDS):
            assert api.get(url_with_id(self.detail_url_name, pk)).status_code == 404, pk


class APIActionTests:
    """An action route (BaseViewSet.object_actions): POST only, login and CSRF for sessions, 404, its answer."""

    pytestmark = pytest.mark.django_db
    url_name = ""  # "api-hosts:host-refresh"
    status = 202  # 202 + job for long work; 200 + the object otherwise

    @pytest.fixture
    def obj(self):
        raise NotImplementedError("an API action test needs an `obj` fixture")

    def assert_done(self, obj, response):
        """What the action must have done (override)."""

    def url(self, pk):
        return url_with_id(self.url_name, pk)

    def test_it_refuses_anonymous_callers(self, client, obj):
        before = row_state(obj)
        assert client.post(self.url(obj.pk)).status_code == 401
        assert row_state(obj) == before

    def test_it_accepts_post_only(self, api, obj):
        before = row_state(obj)
        for method in ("get", "put", "patch", "delete"):
            assert getattr(api, method)(self.url(obj.pk)).status_code == 405, method
        assert row_state(obj) == before

    def test_it_needs_a_csrf_token_with_a_session(self, admin_user, obj):
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(admin_user)
        before = row_state(obj)
        assert strict.post(self.url(obj.pk)).status_code == 403
        assert row_state(obj) == before

    def test_it_answers_404_for_missing_and_malformed_ids(self, api, obj):
        before = row_state(obj)
        for pk in (missing_pk(type(obj)), *BAD_IDS):
            assert api.post(self.url(pk)).status_code == 404, pk
        assert row_state(obj) == before

    def test_it_acts(self, api, obj):
        response = api.post(self.url(obj.pk))
        assert response.status_code == self.status, response.content
        if self.status == 202:
            job_id = response.json()["id"]
            assert response["Location"].endswith(reverse("api-core:job-detail", args=[job_id]))
        self.assert_done(obj, response)
