"""Rendered pages read as HTML trees (lxml), so tests assert what a reader sees, not how the
markup happens to be spelt."""

from django.http import HttpResponse
from lxml import html
from lxml.html import HtmlElement


def tree(source: HttpResponse | str | bytes) -> HtmlElement:
    """The parsed document of a response (or of an HTML string)."""
    if isinstance(source, HttpResponse):
        source = source.content
    return html.document_fromstring(source)


def text(element: HtmlElement) -> str:
    """The element's text as a reader sees it: entities decoded, whitespace collapsed."""
    return " ".join(element.text_content().split())


def page_text(source: HttpResponse | str | bytes) -> str:
    """The text of a page's body as a reader sees it."""
    return text(tree(source).body)


def texts(element: HtmlElement, xpath: str) -> list[str]:
    """The text of every element the XPath expression finds, in document order."""
    return [text(found) for found in element.xpath(xpath)]


def row_values(element: HtmlElement, header: str) -> list[str]:
    """The cells of every table row whose row header (`<th>`) reads `header`."""
    return [
        " ".join(text(cell) for cell in row.xpath("./td"))
        for row in element.xpath("//tr[th and td]")
        if text(row.xpath("./th")[0]) == header
    ]


def row_value(element: HtmlElement, header: str) -> str:
    """The cells of the one table row whose header reads `header` (fails if not exactly one)."""
    (value,) = row_values(element, header)
    return value


def citation_links(element: HtmlElement) -> list[str]:
    """The targets of the numbered citation links (`<sup><a href="#ref-N">N</a></sup>`), in
    order, checking that each link's number matches its target."""
    links = element.xpath("//sup/a[starts-with(@href, '#ref-')]")
    for link in links:
        assert link.get("href") == f"#ref-{text(link)}", html.tostring(link)
    return [link.get("href").removeprefix("#") for link in links]
