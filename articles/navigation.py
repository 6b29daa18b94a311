"""In-page navigation for an article page, added to the body HTML that `articles.body.parse`
rendered (and each revision stores):

- every citation link gets an anchor just before it, ``<span id="cite-N-K">`` for the K-th
  place reference N is cited, so each reference can link back to where it is cited;
- the links of a grouped marker read in ascending order ("1,2,3", not "2,1,3");
- section headings get ids, from which the page builds its table of contents.

The citation links keep exactly the form the page promises (``<sup><a href="#ref-N">N</a>
</sup>``). Done on the page rather than in the parser so that revisions already stored get the
same navigation. The patterns below match only what the parser writes: authors cannot put raw
HTML in a body, so nothing an author types can look like them. Pure: no database, no Django.
"""

import html
import re
from collections import defaultdict
from dataclasses import dataclass

_SEPARATOR = "<sup>,</sup>"
_NUMBER = re.compile(r'<sup><a href="#ref-(\d+)">\d+</a></sup>')
# One marker: its links joined by separators (the group is what gets sorted).
_GROUP = re.compile(
    r'<sup><a href="#ref-\d+">\d+</a></sup>(?:<sup>,</sup><sup><a href="#ref-\d+">\d+</a></sup>)*'
)
_HEADING = re.compile(r"<h([2-6])>(.*?)</h\1>", re.DOTALL)
_SUP = re.compile(r"<sup>.*?</sup>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Heading:
    """A section heading in the body: its anchor id, plain text and level (2 to 6)."""

    id: str
    text: str
    level: int


@dataclass(frozen=True)
class PageBody:
    """The body HTML with anchors, its headings, and where each reference is cited."""

    html: str
    headings: tuple[Heading, ...]
    cited_at: dict[int, tuple[str, ...]]

    def sections(self) -> tuple[Heading, ...]:
        """The top-level (``<h2>``) sections: what a table of contents lists."""
        return tuple(heading for heading in self.headings if heading.level == 2)


def prepare(body_html: str) -> PageBody:
    """Add citation anchors, sort grouped citations and give headings ids."""
    cited_at: dict[int, list[str]] = defaultdict(list)

    def anchored(group: re.Match) -> str:
        numbers = sorted(int(number) for number in _NUMBER.findall(group.group()))
        links = []
        for number in numbers:
            anchor = f"cite-{number}-{len(cited_at[number]) + 1}"
            cited_at[number].append(anchor)
            links.append(
                f'<span class="cite-anchor" id="{anchor}"></span>'
                f'<sup><a href="#ref-{number}">{number}</a></sup>'
            )
        return _SEPARATOR.join(links)

    body_html = _GROUP.sub(anchored, body_html)
    headings: list[Heading] = []
    taken: set[str] = set()

    def with_id(match: re.Match) -> str:
        level, inner = int(match.group(1)), match.group(2)
        text = " ".join(html.unescape(_TAG.sub("", _SUP.sub("", inner))).split())
        base = "section-" + (_NOT_SLUG.sub("-", text.lower()).strip("-")[:60].strip("-") or "x")
        anchor, number = base, 2
        while anchor in taken:
            anchor, number = f"{base}-{number}", number + 1
        taken.add(anchor)
        headings.append(Heading(id=anchor, text=text, level=level))
        return f'<h{level} id="{anchor}">{inner}</h{level}>'

    body_html = _HEADING.sub(with_id, body_html)
    return PageBody(
        html=body_html,
        headings=tuple(headings),
        cited_at={number: tuple(anchors) for number, anchors in cited_at.items()},
    )
