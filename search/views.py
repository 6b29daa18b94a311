"""The search page patients use: `/search/?q=`."""

from django.core.paginator import Paginator
from django.views.generic import TemplateView

from .engines import Results
from .text import MAX_QUERY_LENGTH, Query

# Ten results a page keep the page short on a phone and the snippets (the costly part) few.
RESULTS_PER_PAGE = 10


class SearchView(TemplateView):
    """Ranked results for `q` over live articles and the study library; works without JS."""

    template_name = "search/results.html"

    def get_context_data(self, **kwargs):
        query = Query.parse(self.request.GET.get("q", ""))
        page = Paginator(Results(query), RESULTS_PER_PAGE).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            query=query,
            page_obj=page,
            hits=page.object_list,
            max_query_length=MAX_QUERY_LENGTH,
            **kwargs,
        )
