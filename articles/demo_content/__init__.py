"""Demo content for the clinic CMS, kept as plain data files.

- ``studies.json``: the study library (one object per study; ``study_type`` uses the
  project's codes; an unknown year, DOI or PMID is ``null``/``""``, never guessed).
- ``articles/*.md``: patient articles, each with a ``---`` front-matter block of
  ``key: value`` lines (slug, title, summary, topic, status, and ``published_days_ago``
  for published ones) followed by the Markdown body with ``[@key]`` citation markers.
- ``verdicts.json``: a clinician's verdicts on the claims of the in-review article.
- ``certainty.json``: the reviewer's rating of each claim (found by ``claim_contains`` in its
  article): what it is about (``kind``), GRADE ``certainty`` and the patient ``wording``,
  chosen claim by claim against the studies' facts, never from the study type.

Pure Python with no Django imports, so the tests can use it without a database and the
``demo`` management command can turn the data into model instances.
"""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARTICLES_DIR = HERE / "articles"


def load_studies() -> list[dict]:
    """Return the studies in ``studies.json``, in file order."""
    return json.loads((HERE / "studies.json").read_text(encoding="utf-8"))


def load_verdicts() -> list[dict]:
    """Return the reviewer verdicts in ``verdicts.json`` for the in-review article."""
    return json.loads((HERE / "verdicts.json").read_text(encoding="utf-8"))


def load_certainty() -> list[dict]:
    """Return the reviewer's certainty ratings in ``certainty.json``, one per claim."""
    return json.loads((HERE / "certainty.json").read_text(encoding="utf-8"))


def certainty_for(slug: str, claim_text: str, ratings: list[dict]) -> dict | None:
    """The rating in ``ratings`` for the claim of article ``slug`` with this text, or None."""
    return next(
        (
            rating
            for rating in ratings
            if rating["article"] == slug and rating["claim_contains"] in claim_text
        ),
        None,
    )


def parse_article(text: str) -> dict:
    """Split one article file into its front-matter fields plus ``body``.

    ``published_days_ago`` becomes an int, or None when absent.
    Raises ValueError when the front-matter block is missing or a line is malformed.
    """
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise ValueError("article must start with a '---' front-matter line")
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == "---")
    except StopIteration:
        raise ValueError("front matter is not closed with '---'") from None
    fields: dict = {}
    for line in lines[1:end]:
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise ValueError(f"bad front-matter line: {line!r}")
        fields[key.strip()] = value.strip()
    days = fields.get("published_days_ago")
    fields["published_days_ago"] = int(days) if days not in (None, "") else None
    fields["body"] = "\n".join(lines[end + 1 :]).strip() + "\n"
    return fields


def load_articles() -> list[dict]:
    """Return every ``articles/*.md`` file as a dict, sorted by file name."""
    return [
        parse_article(path.read_text(encoding="utf-8"))
        for path in sorted(ARTICLES_DIR.glob("*.md"))
    ]
