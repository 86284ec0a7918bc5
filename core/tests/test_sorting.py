"""Every list page sorts by every column it shows, both ways, and its list API by the same keys.

The columns are read from each page's table header, so a column added without a sort link fails here.
"""
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from lxml import html

from core.generic import sortable_columns
from core.testing.views import assert_sorted, field_value

pytestmark = pytest.mark.django_db

# List page -> (its list API, a filter of its filter set, to see header links keep it).
LISTS = {
    "hosts:host_list": ("api-hosts:host-list", {"search": "-"}),
    "instances:instance_list": ("api-instances:instance-list", {"search": "a"}),
    "instances:instancetemplate_list": ("api-templates:instancetemplate-list", {"search": "template"}),
    "networks:network_list": ("api-networks:network-list", {"search": "e"}),
    "storage:storagepool_list": ("api-storage:storagepool-list", {"search": "/"}),
    "storage:volume_list": ("api-storage:volume-list", {"search": "/"}),
    "core:job_list": ("api-core:job-list", {"status": "running"}),
    "audit:auditentry_list": ("api-audit:auditentry-list", {"search": "test"}),
}
BAD_KEYS = ("password", "pk,password", "-", ",", ",,,", "name__password", "x" * 3000, "\x00", "name;drop table")


@pytest.fixture
def rows(fleet_rows):
    fleet_rows()  # at least two rows in every list, with unequal and equal values


def header_cells(response):
    """(label, sort link or None) of each data column of the page's table: not the select-all box, nor an
    unlabelled or visually hidden (actions) column."""
    table = html.fromstring(response.content).xpath("//table[thead]")[0]
    cells = []
    for th in table.xpath("./thead//th"):
        hidden = th.xpath(".//*[contains(@class, 'visually-hidden')]")
        label = th.text_content().strip()
        if th.xpath(".//input") or not label or (hidden and hidden[0].text_content().strip() == label):
            continue
        links = th.xpath(".//a/@href")
        cells.append((label, links[0] if links else None))
    return cells


@pytest.mark.parametrize("page", LISTS)
def test_it_offers_a_sort_link_on_every_column_keeping_filters_and_page_size(admin_client, rows, page):
    _api, params = LISTS[page]
    response = admin_client.get(reverse(page), {**params, "per_page": 7})
    assert response.status_code == 200
    columns = response.context["sort_keys"]
    cells = header_cells(response)
    assert len(cells) >= 3, cells
    unsortable = [label for label, link in cells if link is None]
    assert not unsortable, f"{page}: columns without a sort link: {unsortable}"
    for label, link in cells:
        query = parse_qs(urlsplit(link).query)
        assert query["ordering"][0].lstrip("-") in columns, (label, link)
        assert query["per_page"] == ["7"] and all(query[key] == [value] for key, value in params.items()), link
        assert "page" not in query, link  # a new order starts on page 1
    assert len({link for _label, link in cells}) == len(cells)  # each column its own key


@pytest.mark.parametrize("page", LISTS)
def test_it_sorts_the_page_by_every_column_both_ways(admin_client, rows, page):
    columns = admin_client.get(reverse(page)).context["sort_keys"]
    for key, field in columns.items():
        for sign in ("", "-"):
            response = admin_client.get(reverse(page), {"ordering": sign + key, "per_page": 1000})
            assert response.status_code == 200 and response.context["ordering"] == sign + key
            objects = list(response.context["page_obj"])
            assert len(objects) >= 2, (page, key)
            assert_sorted([field_value(obj, field) for obj in objects], bool(sign), f"{page} ordering={sign}{key}")
            # Equal values keep a stable order (pk, in the sort's direction: core/sorting.py): pages never skip
            # or repeat rows.
            values = [field_value(obj, field) for obj in objects]
            for before, after, value_before, value_after in zip(objects, objects[1:], values, values[1:]):
                if value_before == value_after:
                    assert (before.pk > after.pk) if sign else (before.pk < after.pk), (page, key, value_before)


@pytest.mark.parametrize("page", LISTS)
def test_it_sorts_the_api_list_by_the_same_keys_both_ways(api, admin_client, rows, page):
    api_name, _params = LISTS[page]
    columns = admin_client.get(reverse(page)).context["sort_keys"]
    view = admin_client.get(reverse(page)).context["view"]
    for key, field in columns.items():
        for sign in ("", "-"):
            response = api.get(reverse(api_name), {"ordering": sign + key, "limit": 1000})
            assert response.status_code == 200, (api_name, key, response.content)
            ids = [row["id"] for row in response.json()["results"]]
            found = view.filterset_class({"ordering": sign + key}, queryset=view.get_queryset()).qs.in_bulk(ids)
            assert_sorted([field_value(found[pk], field) for pk in ids], bool(sign), f"{api_name} {sign}{key}")


@pytest.mark.parametrize("page", LISTS)
def test_it_ignores_a_sort_key_the_page_does_not_declare(admin_client, rows, page):
    default = [obj.pk for obj in admin_client.get(reverse(page), {"per_page": 1000}).context["page_obj"]]
    for bad in BAD_KEYS:
        response = admin_client.get(reverse(page), {"ordering": bad, "per_page": 1000})
        assert response.status_code == 200 and not response.context["filter"].errors, bad
        assert [obj.pk for obj in response.context["page_obj"]] == default, bad
        assert response.context["ordering"] == ""


@pytest.mark.parametrize("page", LISTS)
def test_it_answers_400_naming_ordering_for_an_undeclared_key_in_the_api(api, page):
    api_name, _params = LISTS[page]
    for bad in ("password", "pk,password", "-", "name__password", "x" * 3000):  # "," is no ordering (below)
        response = api.get(reverse(api_name), {"ordering": bad})
        assert response.status_code == 400 and "ordering" in response.json(), (api_name, bad)


@pytest.mark.parametrize("page", LISTS)
def test_it_takes_empty_sort_keys_in_the_api_as_no_order(api, page):
    api_name, _params = LISTS[page]
    default = [row["id"] for row in api.get(reverse(api_name)).json()["results"]]
    for empty in (",", ",,,", ""):
        response = api.get(reverse(api_name), {"ordering": empty})
        assert response.status_code == 200 and [row["id"] for row in response.json()["results"]] == default


def test_it_declares_the_same_keys_for_a_page_and_its_api(admin_client):
    from django.urls import resolve

    for page, (api_name, _params) in LISTS.items():
        page_view = resolve(reverse(page)).func.view_class
        api_view = resolve(reverse(api_name)).func.cls
        assert sortable_columns(page_view.filterset_class) == sortable_columns(api_view.filterset_class), page
