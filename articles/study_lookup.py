"""Filling in a study from its DOI (Crossref's REST API) or PMID (PubMed's E-utilities).

Both services ask callers to identify themselves: every request carries a User-Agent naming
this site and the contact address in `settings.CROSSREF_MAILTO`. Requests time out after a
few seconds (`LOOKUP_TIMEOUT_SECONDS`), so an offline server answers with a clear message
instead of hanging the admin. Tests replace `http_client` with one that serves recorded
responses.
"""

import re

import httpx
from django.conf import settings

from .models import DOI_IN_TEXT, NoticeNature, normalise_doi
from .study_import import Record, RecordProblem, ama_name, medline_record, parse_medline

CROSSREF_WORKS = "https://api.crossref.org/works/"
PUBMED_EFETCH = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/efetch.fcgi"

# Crossmark update types that matter to a clinic, as notice natures.
CROSSMARK_NATURES = {
    "retraction": NoticeNature.RETRACTION,
    "withdrawal": NoticeNature.RETRACTION,
    "removal": NoticeNature.RETRACTION,
    "correction": NoticeNature.CORRECTION,
    "corrigendum": NoticeNature.CORRECTION,
    "erratum": NoticeNature.CORRECTION,
    "expression_of_concern": NoticeNature.EXPRESSION_OF_CONCERN,
    "expression-of-concern": NoticeNature.EXPRESSION_OF_CONCERN,
}


class LookupFailed(Exception):
    """The look-up could not be done; the message says why, in words for staff."""


def user_agent() -> str:
    return f"ClinicCMS/1.0 (+{settings.SITE_URL}; mailto:{settings.CROSSREF_MAILTO})"


def http_client() -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(settings.LOOKUP_TIMEOUT_SECONDS),
        headers={"User-Agent": user_agent()},
        follow_redirects=True,
    )


def _get(url: str, params: dict, service: str) -> httpx.Response:
    try:
        with http_client() as client:
            response = client.get(url, params=params)
    except httpx.TimeoutException as exc:
        raise LookupFailed(
            f"{service} did not answer within {settings.LOOKUP_TIMEOUT_SECONDS:g} seconds. "
            "Try again later, or type the details in."
        ) from exc
    except httpx.HTTPError as exc:
        raise LookupFailed(
            f"Could not reach {service}: this server may be offline. "
            "Type the details in, or import a file instead."
        ) from exc
    return response


def crossref_work(doi: str) -> dict:
    """Crossref's metadata for a DOI (the `message` object)."""
    doi = normalise_doi(doi)
    if not DOI_IN_TEXT.fullmatch(doi):
        raise LookupFailed(f"“{doi}” is not a DOI (they start with 10. and a slash).")
    response = _get(CROSSREF_WORKS + doi, {"mailto": settings.CROSSREF_MAILTO}, "Crossref")
    if response.status_code == 404:
        raise LookupFailed(f"Crossref has no record of the DOI {doi}.")
    if response.status_code != 200:
        raise LookupFailed(f"Crossref answered with an error ({response.status_code}).")
    try:
        return response.json()["message"]
    except (ValueError, KeyError) as exc:
        raise LookupFailed("Crossref's answer could not be read.") from exc


def record_from_crossref(work: dict) -> Record:
    def first(name):
        value = work.get(name) or ""
        return value[0] if isinstance(value, list) and value else (value or "")

    parts = (work.get("issued") or work.get("published") or {}).get("date-parts") or [[None]]
    authors = [
        ama_name(person["family"], person.get("given", ""))
        if person.get("family")
        else person.get("name", "")
        for person in work.get("author") or []
    ]
    return Record(
        source="Crossref",
        position=f"DOI {work.get('DOI', '')}",
        authors=[name for name in authors if name],
        title=re.sub(r"<[^>]+>", "", first("title")),  # Crossref titles may carry JATS tags
        journal=first("short-container-title") or first("container-title") or first("publisher"),
        year=parts[0][0] if parts and parts[0] else None,
        volume=str(work.get("volume", "")),
        issue=str(work.get("issue", "")),
        pages=str(work.get("page", "")),
        doi=work.get("DOI", ""),
    )


def lookup_doi(doi: str) -> Record:
    return record_from_crossref(crossref_work(doi))


def lookup_pmid(pmid: str) -> Record:
    pmid = pmid.strip()
    if not pmid.isdigit():
        raise LookupFailed(f"“{pmid}” is not a PMID (digits only, e.g. 19433697).")
    params = {
        "db": "pubmed",
        "id": pmid,
        "rettype": "medline",
        "retmode": "text",
        "tool": "clinic-cms",
        "email": settings.CROSSREF_MAILTO,
    }
    response = _get(PUBMED_EFETCH, params, "PubMed")
    if response.status_code != 200:
        raise LookupFailed(f"PubMed answered with an error ({response.status_code}).")
    for _start, tags, problem in parse_medline(response.text):
        if not problem and dict(tags).get("PMID") == pmid:
            try:
                return medline_record("PubMed", f"PMID {pmid}", tags)
            except RecordProblem as exc:
                raise LookupFailed(f"PubMed's record for {pmid} is incomplete: {exc}.") from exc
    raise LookupFailed(f"PubMed has no record of the PMID {pmid}.")


def lookup(identifier: str) -> Record:
    """A DOI (10.…, or a doi.org link) or a PMID (digits), looked up where it is kept."""
    identifier = identifier.strip()
    if identifier.isdigit():
        return lookup_pmid(identifier)
    return lookup_doi(identifier)


def crossmark_updates(work: dict) -> list[dict]:
    """Notices about this work that Crossref knows (its `updated-by` relations), each as
    {nature, doi, date}; unknown update types are left out."""
    updates = []
    for update in work.get("updated-by") or []:
        nature = CROSSMARK_NATURES.get(str(update.get("type", "")).lower())
        if nature is None:
            continue
        parts = (update.get("updated") or {}).get("date-parts") or [[]]
        updates.append({"nature": nature, "doi": update.get("DOI", ""), "date": parts[0]})
    return updates
