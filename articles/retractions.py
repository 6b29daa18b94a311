"""Reading the Retraction Watch database (the CSV Crossref distributes) against the library.

The file has tens of thousands of rows and the library a few hundred studies, so the library's
DOIs and PMIDs are loaded into two dicts once and the CSV is streamed row by row: memory stays
flat and only matching rows touch the database. Each match goes through
`articles.study_changes.record_notice`, which records the notice once per Retraction Watch
record, marks a retraction, and flags the live articles citing the study.
"""

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from .models import (
    DOI_START,
    NoticeNature,
    NoticeSource,
    Study,
    StudyNotice,
    normalise_doi,
    normalise_pmid,
)
from .study_changes import record_notice

REQUIRED_COLUMNS = ("Record ID", "OriginalPaperDOI", "OriginalPaperPubMedID", "RetractionNature")
COLUMNS = (
    *REQUIRED_COLUMNS,
    "RetractionDate",
    "RetractionDOI",
    "RetractionPubMedID",
    "Reason",
)
# Other spellings of a column seen in copies of the database (after the usual tidying of case,
# spaces and punctuation, see `_column_key`).
COLUMN_ALIASES = {
    "originalpaperpmid": "OriginalPaperPubMedID",
    "retractionpmid": "RetractionPubMedID",
    "nature": "RetractionNature",
}
NATURES = {
    "retraction": NoticeNature.RETRACTION,
    "correction": NoticeNature.CORRECTION,
    "expression of concern": NoticeNature.EXPRESSION_OF_CONCERN,
    "reinstatement": NoticeNature.REINSTATEMENT,
}
# Placeholders the database uses for "no identifier".
NO_VALUE = {"", "0", "unavailable", "na", "n/a", "none"}


class RetractionFileError(ValueError):
    """The file is not in the Retraction Watch layout; nothing was read."""


@dataclass
class RetractionReport:
    rows: int = 0
    matched: int = 0
    recorded: int = 0
    already_known: int = 0
    retracted: list[str] = field(default_factory=list)
    flagged_articles: int = 0
    flagged_answers: int = 0
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would be recorded" if self.dry_run else "recorded"
        return (
            f"{self.rows} row(s) read, {self.matched} about studies in the library: "
            f"{self.recorded} notice(s) {verb}, {self.already_known} already known; "
            f"{len(self.retracted)} study(ies) newly retracted; "
            f"{self.flagged_articles} live article(s) and {self.flagged_answers} patient "
            "answer(s) flagged for review; "
            f"{len(self.errors)} error(s)."
        )


def parse_notice_date(value: str) -> date | None:
    """'2023-01-27', '1/27/2023 0:00' or '27/01/2023' (as seen in exports), else None."""
    value = (value or "").strip()
    if not value:
        return None
    text = value.split(" ")[0]
    for layout in ("%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, layout).date()
        except ValueError:
            continue
    return None


def readable_reason(value: str) -> str:
    """'+Duplication of Data;+Error in Analyses;' → 'Duplication of Data; Error in Analyses'."""
    return "; ".join(part.strip().lstrip("+") for part in value.split(";") if part.strip())


# Where one identifier ends and the next begins in a cell that holds several: a separator
# followed by the start of a DOI (';' alone is not enough: old SICI DOIs contain one).
NEXT_DOI = re.compile(rf"[;,\s]+(?=(?:https?://\S*?|doi:?\s*)?{DOI_START})", re.IGNORECASE)


def _identifiers(value: str, *, doi: bool) -> list[str]:
    """The DOIs (lower case, bare) or PMIDs (digits) in one cell, which may hold several."""
    parts = NEXT_DOI.split(value or "") if doi else re.split(r"[;,\s]+", value or "")
    found = []
    for part in parts:
        part = part.strip()
        if part.lower() in NO_VALUE:
            continue
        found.append(normalise_doi(part).lower() if doi else normalise_pmid(part))
    return found


def _column_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", (name or "").lower())


def _rows(lines: Iterable[str]) -> tuple[list[str], Iterable[dict]]:
    """The file's columns, and its rows keyed by the canonical column names.

    Tolerates what copies of the file pick up on the way: a byte-order mark, tabs instead of
    commas, and headers in another case or with spaces ("Original Paper DOI")."""
    lines = iter(lines)
    first = next(lines, "").lstrip("\ufeff")
    dialect = csv.excel_tab if first.count("\t") > first.count(",") else csv.excel
    header = next(csv.reader([first], dialect=dialect), [])
    canonical = {_column_key(name): name for name in COLUMNS}
    canonical.update(COLUMN_ALIASES)
    names = [canonical.get(_column_key(name), name.strip()) for name in header]
    # Where the file starts each row with its Record ID (as Retraction Watch's does), a line
    # starting with a number begins a new row even inside a quote left open by mistake.
    numbered = bool(names) and names[0] == "Record ID"

    def rows():
        for number, text, closed in _records(lines, numbered, start=2):
            if not closed:
                yield (
                    number,
                    None,
                    ("a quote is not closed, so this row was skipped (the rows after it are read)"),
                )
                continue
            try:
                values = next(csv.reader([text], dialect=dialect), [])
            except csv.Error as error:  # a field over the csv module's size limit, say
                yield number, None, f"this row cannot be read as CSV ({error})"
                continue
            if not values:
                continue  # a blank line, which csv.DictReader skips too
            row = dict.fromkeys(COLUMNS, "")
            row.update(zip(names, values, strict=False))
            yield number, row, None

    return names, rows()


_ROW_START = re.compile(r"\s*\d+\s*[,\t]")


def _records(lines: Iterable[str], numbered: bool, start: int):
    """(first line number, text, quotes closed) for each CSV row, which a quoted field may
    spread over several lines. A quote never closed ends at the next line that starts a row
    (`numbered` files), or at the end of the file, and is reported rather than let swallow
    the rows after it."""
    pending: list[str] = []
    quotes = 0
    first = start
    for number, line in enumerate(lines, start=start):
        if pending and numbered and _ROW_START.match(line):
            yield first, "".join(pending), False
            pending, quotes = [], 0
        if not pending:
            first = number
        pending.append(line)
        quotes += line.count('"')
        if quotes % 2 == 0:
            yield first, "".join(pending), True
            pending, quotes = [], 0
    if pending:
        yield first, "".join(pending), False


def import_retractions(lines, *, by=None, dry_run=False) -> RetractionReport:
    """Match each row of a Retraction Watch CSV (an iterable of text lines) against the
    library by the original paper's DOI or PMID, and record what it says."""
    columns, reader = _rows(lines)
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise RetractionFileError(
            "This is not a Retraction Watch CSV: it lacks the column(s) " + ", ".join(missing) + "."
        )
    by_doi, by_pmid = {}, {}
    for pk, doi, pmid in Study.objects.values_list("pk", "doi", "pmid"):
        if doi:
            by_doi[doi.lower()] = pk
        if pmid:
            by_pmid[pmid] = pk
    known = set(
        StudyNotice.objects.filter(source=NoticeSource.RETRACTION_WATCH).values_list(
            "study_id", "source_id"
        )
    )
    report = RetractionReport(dry_run=dry_run)
    for number, row, problem in reader:
        report.rows += 1
        if problem:
            report.errors.append(f"line {number}: {problem}")
            continue
        pks = {
            by_doi[doi] for doi in _identifiers(row["OriginalPaperDOI"], doi=True) if doi in by_doi
        }
        pks |= {
            by_pmid[pmid]
            for pmid in _identifiers(row["OriginalPaperPubMedID"], doi=False)
            if pmid in by_pmid
        }
        if not pks:
            continue
        report.matched += 1
        nature = NATURES.get(" ".join((row["RetractionNature"] or "").split()).lower())
        record_id = (row["Record ID"] or "").strip()
        if nature is None or not record_id:
            report.errors.append(
                f"line {number}: "
                + (
                    f"unknown RetractionNature “{row['RetractionNature']}”"
                    if nature is None
                    else "no Record ID"
                )
            )
            continue
        for pk in sorted(pks):
            if (pk, record_id) in known:
                report.already_known += 1
                continue
            known.add((pk, record_id))
            report.recorded += 1
            if dry_run:
                continue
            study = Study.objects.get(pk=pk)
            was_retracted = study.is_retracted
            notice_dois = _identifiers(row.get("RetractionDOI", ""), doi=True)
            notice_pmids = _identifiers(row.get("RetractionPubMedID", ""), doi=False)
            _notice, flags = record_notice(
                study,
                nature=nature,
                source=NoticeSource.RETRACTION_WATCH,
                source_id=record_id,
                notice_on=parse_notice_date(row.get("RetractionDate", "")),
                notice_doi=notice_dois[0] if notice_dois else "",
                notice_pmid=notice_pmids[0] if notice_pmids else "",
                reason=readable_reason(row.get("Reason") or ""),
                by=by,
            )
            if study.is_retracted and not was_retracted:
                report.retracted.append(study.key)
            report.flagged_articles += sum(1 for flag in flags if flag.answer_id is None)
            report.flagged_answers += sum(1 for flag in flags if flag.answer_id is not None)
    return report
