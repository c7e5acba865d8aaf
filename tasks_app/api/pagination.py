"""Page-number pagination with a client-chosen page size, capped, that counts only when the
count is not already known from the page itself."""

from django.core.paginator import EmptyPage, PageNotAnInteger
from django.core.paginator import Paginator as DjangoPaginator
from rest_framework.pagination import PageNumberPagination

# What `count` means, in the schema of every paginated answer.
COUNT_DESCRIPTION = (
    "The number of results over all pages (exact, whichever page this is). Computed from "
    "the page itself when it is the last one; counted in the database only when the page "
    "is full."
)


class PageFirstPaginator(DjangoPaginator):
    """Django's paginator that reads the page before it counts.

    Issue 18: a task's three-row history spent a third of its time on `SELECT count(*)`.
    A page with fewer rows than the page size is the last one, so the count is the rows
    before it plus its own: no count query. Only a full page (more may follow) is counted,
    and `count` stays exact on every page. A page past the end is empty: 404, as before,
    without a count. `?page=last` counts first, as Django's paginator does.
    """

    def page(self, number):
        if self.orphans or "count" in self.__dict__:  # orphans move rows across pages
            return super().page(number)
        number = self._at_least_one(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        if len(rows) < self.per_page:
            self.count = bottom + len(rows)  # the last page: its rows tell the count
        return self._get_page(rows, number, self)

    def _at_least_one(self, number) -> int:
        """`validate_number` without its upper bound, which needs the count."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from error
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number


class Pagination(PageNumberPagination):
    """`?page=2&page_size=100`: at most 200 rows a page; 50 by default (PAGE_SIZE)."""

    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = PageFirstPaginator

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count"]["description"] = COUNT_DESCRIPTION
        return described
