"""The study library as BibTeX and CSL-JSON, for reviewers' reference managers.

Both formats carry what `articles.study_import` reads back, so exporting and importing into
an empty library gives the same studies (authors, title, journal, year, volume, issue, pages,
DOI, PMID, URL). Authors are stored in AMA style ("Cherkin DC, Sherman KJ, et al."); they are
written as family name plus initials, and "et al." as BibTeX's "others".
"""

import json

import bibtexparser
from bibtexparser import Library as BibLibrary
from bibtexparser.model import Entry, Field

from .models import StudyType
from .study_import import ET_AL, split_ama_name

BIBTEX_TYPES = {StudyType.GUIDELINE: "techreport", StudyType.AGENCY: "misc"}
CSL_TYPES = {StudyType.GUIDELINE: "report", StudyType.AGENCY: "webpage"}


def author_names(study) -> list[tuple[str, str]]:
    """(family, initials) per author; ('', ET_AL) where the list was cut short."""
    names = []
    for part in study.authors.split(", "):
        part = part.strip()
        if not part:
            continue
        names.append(("", ET_AL) if part == ET_AL else split_ama_name(part))
    return names


def _bibtex_name(family: str, given: str) -> str:
    if given == ET_AL:
        return "others"
    family = latex(family)
    # Braces keep a group author ("Example Health Group") from being split into names.
    family = "{" + family + "}" if " " in family and not given else family
    return f"{family}, {given}" if given else family


_LATEX_SPECIAL = str.maketrans(
    {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$",
     "#": r"\#", "_": r"\_"}
)  # fmt: skip


def latex(value: str) -> str:
    """Escape what BibTeX readers would otherwise take as LaTeX (a % starts a comment)."""
    return value.translate(_LATEX_SPECIAL)


def to_bibtex(studies) -> str:
    library = BibLibrary()
    for study in studies:
        fields = {
            "author": " and ".join(_bibtex_name(*name) for name in author_names(study)),
            "title": "{" + latex(study.title) + "}",
            "journal" if study.study_type not in BIBTEX_TYPES else "institution": study.journal,
            "year": str(study.year or ""),
            "volume": study.volume,
            "number": study.issue,
            "pages": study.pages,
            "doi": study.doi,
            "pmid": study.pmid,
            "url": study.url,
        }
        library.add(
            Entry(
                BIBTEX_TYPES.get(study.study_type, "article"),
                study.key,
                [
                    Field(name, value if name in ("author", "title") else latex(value))
                    for name, value in fields.items()
                    if value
                ],
            )
        )
    return bibtexparser.write_string(library)


def csl_item(study) -> dict:
    authors = [
        {"literal": "others"} if given == ET_AL else {"family": family, "given": given}
        for family, given in author_names(study)
    ]
    item = {
        "id": study.key,
        "type": CSL_TYPES.get(study.study_type, "article-journal"),
        "title": study.title,
        "author": authors,
        "container-title": study.journal,
        "issued": {"date-parts": [[study.year]]} if study.year else None,
        "volume": study.volume,
        "issue": study.issue,
        "page": study.pages,
        "DOI": study.doi,
        "PMID": study.pmid,
        "URL": study.url,
    }
    return {name: value for name, value in item.items() if value}


def to_csl_json(studies) -> str:
    return json.dumps([csl_item(study) for study in studies], ensure_ascii=False, indent=2)


FORMATS = {
    "bibtex": (to_bibtex, "application/x-bibtex; charset=utf-8", "bib"),
    "csl-json": (to_csl_json, "application/vnd.citationstyles.csl+json; charset=utf-8", "json"),
}
