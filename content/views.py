"""Views outside the page tree: the site search."""

from __future__ import annotations

from urllib.parse import urlencode

from django.shortcuts import render

from .forms import SearchForm
from .selectors import search_public_pages


def search(request):
    form = SearchForm(request.GET or None)
    results = None
    if form.is_valid():
        results = search_public_pages(
            query=form.cleaned_data["q"], page_number=request.GET.get("page")
        )
    return render(
        request,
        "content/search.html",
        {
            "form": form,
            "results": results,
            "query": form.data.get("q", ""),
            "page_prefix": urlencode({"q": form.cleaned_data["q"]}) + "&" if results else "",
        },
    )
