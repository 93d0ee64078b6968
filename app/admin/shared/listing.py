"""What the two live lists share (the sync monitor and the Inbound page): the filter parsed once a request, page
and tab URLs that keep it, paging read from the query string, and row actions answered with the row itself when
htmx asks (it then polls until what was asked for lands) or with a redirect back."""

from flask import g, redirect, request

from app.admin.shared.common import whole_number
from app.auth.access import has_role, local_url
from app.models import Role

#: Arguments the filter form owns; the tabs and pager keep the others.
_PAGING = ("page", "page_size")


class StaffListMixin:
    """Mixed into a list view that defines parse_filter(args), tabs, tab_arguments and a _row(row_id, watch)."""

    #: The list page's endpoint (a ModelView's is index_view).
    list_endpoint = ".index"
    page_size = 20
    page_size_options = (20, 50, 100)
    #: The quick status tabs, in order: (key, query-string arguments).
    tabs = ()
    #: The query-string arguments a tab sets (the others are kept).
    tab_arguments = ("status",)

    def parse_filter(self, args):
        raise NotImplementedError

    def current_filter(self):
        """The filter in the query string, parsed once a request."""
        key = f"{self.endpoint}_filter"
        if key not in g:
            setattr(g, key, self.parse_filter(request.args))
        return g.get(key)

    def can_operate(self):
        return has_role(Role.OPERATOR)

    def paging(self):
        """(page, per_page) from the query string; a bad value is reported on the page and the default used."""
        per_page = whole_number("page_size", self.page_size, self.page_size_options)
        return whole_number("page", 1), per_page

    def url_with(self, **changes):
        """This page's URL with some query arguments changed (None drops one); paging restarts unless given."""
        args = {k: v for k, v in request.args.items() if k not in _PAGING or k in changes}
        args.update(changes)
        return self.get_url(self.list_endpoint, **{k: v for k, v in args.items() if v not in (None, "")})

    def page_url(self, number):
        """The list URL for page number, keeping the filters."""
        return self.url_with(page=number)

    def tab_url(self, tab):
        """The list URL for a tab, keeping the other filters."""
        wanted = dict(self.tabs)[tab]
        return self.url_with(**{name: wanted.get(name) for name in self.tab_arguments}, page=None)

    def back_to_list(self):
        """Redirect to where the person came from on this site (the form's or the query's url), else the list."""
        return redirect(local_url(request.form.get("url") or request.args.get("url"), self.get_url(self.list_endpoint)))

    def answer(self, row_id):
        """A row action's answer: the row, watching what was asked for, to htmx; else a redirect back."""
        if request.headers.get("HX-Request"):
            return self._row(row_id, watch=True)
        return self.back_to_list()
