"""Reading reference-manager and PubMed files into the study library.

Formats, chosen by file extension (or, failing that, by the first characters):

- BibTeX (`.bib`), read with bibtexparser; LaTeX accents are decoded.
- RIS (`.ris`), read with rispy, one record (``TY`` … ``ER``) at a time.
- PubMed MEDLINE (`.nbib`, or `.txt` starting with ``PMID-``): a small parser below, since
  the tagged format is simple and the library for it is unmaintained. PubMed's E-utilities
  return the same format, so the DOI/PMID look-up (`articles.study_lookup`) reuses it.
- CSL-JSON (`.json`), as Zotero and Pandoc write it: a list of items (or one item).

`read(name, text)` returns `Record`s and `RecordError`s (each naming the file, the line or
record number, and the reason) and never raises for bad input. `import_records` turns
records into `Study` rows: each gets a key (first author's surname plus year, a letter on
collision), duplicates of the library or of earlier records are reported and skipped, and
imported studies get no type and no finding; a reviewer sets them (PubMed's publication
types become a suggestion).
"""

import codecs
import json
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePath

import bibtexparser
import rispy
from bibtexparser import middlewares
from bibtexparser.model import DuplicateBlockKeyBlock
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from pylatexenc.latex2text import LatexNodes2Text

from .models import Study, StudyType, normalise_doi, normalise_pmid

logger = logging.getLogger(__name__)
# bibtexparser logs a warning per malformed block; the import reports each one itself.
logging.getLogger("bibtexparser").setLevel(logging.ERROR)

# PubMed publication types that suggest a study type, strongest evidence first.
PUBLICATION_TYPE_SUGGESTIONS = (
    ("Practice Guideline", StudyType.GUIDELINE),
    ("Guideline", StudyType.GUIDELINE),
    ("Consensus Development Conference", StudyType.GUIDELINE),
    ("Systematic Review", StudyType.SYSTEMATIC_REVIEW),
    ("Meta-Analysis", StudyType.SYSTEMATIC_REVIEW),
    ("Randomized Controlled Trial", StudyType.RCT),
    ("Pragmatic Clinical Trial", StudyType.RCT),
    ("Observational Study", StudyType.COHORT),
    ("Case Reports", StudyType.CASE_SERIES),
    ("Review", StudyType.EXPERT_OPINION),
    ("Editorial", StudyType.EXPERT_OPINION),
)

# AMA style lists up to six authors; beyond that, the first three and "et al."
AMA_MAX_AUTHORS = 6
ET_AL = "et al."


@dataclass
class Record:
    """One reference read from a file, not yet in the library."""

    source: str
    position: str
    authors: list[str] = field(default_factory=list)  # AMA style: "Cherkin DC"
    title: str = ""
    journal: str = ""
    year: int | None = None
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    url: str = ""
    publication_types: list[str] = field(default_factory=list)

    def suggested_study_type(self) -> str:
        types = {name.casefold() for name in self.publication_types}
        for name, study_type in PUBLICATION_TYPE_SUGGESTIONS:
            if name.casefold() in types:
                return study_type
        return ""

    def authors_text(self) -> str:
        names = [name for name in self.authors if name != ET_AL]
        truncated = len(names) < len(self.authors) or len(names) > AMA_MAX_AUTHORS
        if len(names) > AMA_MAX_AUTHORS:
            names = names[:3]
        return ", ".join([*names, ET_AL] if truncated and names else names)

    def as_dict(self) -> dict:
        """Plain data, for keeping parsed records in a session between preview and confirm."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class RecordError:
    """A record that could not be read or imported, and why, in words for staff."""

    source: str
    position: str
    reason: str

    def __str__(self):
        return f"{self.source}, {self.position}: {self.reason}"


class RecordProblem(ValueError):
    """Raised by the per-format readers for one bad record."""


# ---- names -------------------------------------------------------------------------------

_TRANSLITERATE = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "ł": "l"})
_TRANSLITERATE.update(str.maketrans({"Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th"}))


def initials(given: str) -> str:
    """'Daniel C.' → 'DC'; 'Jean-Pierre' → 'JP'; 'DC' (already initials) stays."""
    given = given.strip()
    if re.fullmatch(r"[A-Z]{1,4}", given):
        return given
    parts = [part for part in re.split(r"[\s.\-]+", given) if part]
    return "".join(part[0].upper() for part in parts)


def ama_name(family: str, given: str = "") -> str:
    family = " ".join(family.split())
    letters = initials(given)
    return f"{family} {letters}" if letters else family


def split_ama_name(name: str) -> tuple[str, str]:
    """'van der Berg JK' → ('van der Berg', 'JK'); a name without initials is all family."""
    family, _, last = name.rpartition(" ")
    if family and re.fullmatch(r"[A-Z]{1,4}", last):
        return family, last
    return name, ""


def ascii_slug(text: str) -> str:
    return slugify(text.translate(_TRANSLITERATE)).replace("-", "")


def normalise_title(title: str) -> str:
    """Case, accents, punctuation and spacing ignored: for recognising the same paper."""
    text = unicodedata.normalize("NFKD", title.translate(_TRANSLITERATE)).casefold()
    # The accents NFKD splits off go, not become spaces ("Réduction" is "reduction").
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^\w\s]|_", " ", text).split())


def parse_year(value) -> int | None:
    """The first four-digit year in `value` ('2009', '2009 May 11', '2009///'), or None.
    Raises RecordProblem for text that holds no plausible year."""
    if value in (None, ""):
        return None
    match = re.search(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)", str(value))
    if match is None:
        raise RecordProblem(f"the year “{value}” is not a year")
    return int(match.group(1))


def clean_pages(value: str) -> str:
    return re.sub(r"\s*[-\u2013\u2014]+\s*", "-", value.strip())


def clean_pmid(value) -> str:
    value = normalise_pmid(str(value or ""))
    if value and not value.isdigit():
        raise RecordProblem(f"the PMID “{value}” is not digits only")
    return value


def decode_reference_file(data: bytes) -> tuple[str, str]:
    """The text of an uploaded reference file and the encoding it was read in.

    UTF-8 (with or without a byte-order mark) and UTF-16 with its mark (EndNote's "Unicode"
    export) are read as they say; anything else that is not UTF-8 is read as Windows-1252,
    which older exports use, and the caller tells the user so.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data.decode("utf-8-sig", errors="replace"), "UTF-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:  # five bytes Windows-1252 leaves undefined
        return data.decode("latin-1"), "Latin-1"


# ---- formats -----------------------------------------------------------------------------


def read(name: str, text: str) -> tuple[list[Record], list[RecordError]]:
    """Records and errors from one file's text; the format from `name`'s extension."""
    reader = READERS.get(PurePath(name).suffix.lower()) or sniff(text)
    if reader is None:
        return [], [
            RecordError(
                name,
                "line 1",
                "not a format the library reads (BibTeX .bib, RIS .ris, PubMed .nbib/.txt, "
                "CSL-JSON .json)",
            )
        ]
    return reader(name, text)


def sniff(text: str):
    start = text.lstrip("\ufeff \t\r\n")[:10]
    if start.startswith("@"):
        return read_bibtex
    if start.startswith("TY  -"):
        return read_ris
    if start.startswith("PMID-"):
        return read_medline
    if start[:1] in "[{":
        return read_csl_json
    return None


# Identifiers that reference managers leave only in the record's link.
DOI_LINK = re.compile(r"^https?://(?:dx\.|www\.)?doi\.org/", re.IGNORECASE)
PUBMED_LINK = re.compile(r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)(\d+)")


def _finish(record: Record) -> Record:
    record.title = " ".join(record.title.split())
    if not record.title:
        raise RecordProblem("it has no title")
    link = record.url.strip()
    if not record.doi and DOI_LINK.match(link):
        record.doi = link
    if not record.pmid and (found := PUBMED_LINK.search(link)):
        record.pmid = found.group(1)
    record.doi = normalise_doi(record.doi)
    record.pmid = clean_pmid(record.pmid)
    record.pages = clean_pages(record.pages)
    return record


def read_bibtex(name: str, text: str) -> tuple[list[Record], list[RecordError]]:
    library = bibtexparser.parse_string(
        text,
        # Names are split before LaTeX is decoded, so a braced group author stays whole;
        # the decoding middleware leaves split names alone, so they are decoded below.
        append_middleware=[
            middlewares.SeparateCoAuthors(),
            middlewares.SplitNameParts(),
            middlewares.LatexDecodingMiddleware(),
        ],
    )
    records: list[Record] = []
    errors: list[RecordError] = []
    for block in library.failed_blocks:
        error = getattr(block, "error", None)
        detail = getattr(error, "abort_reason", "") or str(error or "")
        reason = "it could not be parsed" + (f": {detail.strip()}" if detail.strip() else "")
        if type(block) is DuplicateBlockKeyBlock:
            reason = f"the entry key “{block.key}” is used twice in the file"
        # The splitter gives every block its (0-based) start line.
        errors.append(RecordError(name, f"line {(block.start_line or 0) + 1}", reason))
    for entry in library.entries:
        position = f"line {(entry.start_line or 0) + 1}"
        fields = {key.lower(): value for key, value in entry.fields_dict.items()}

        def value(*keys, fields=fields):
            for key in keys:
                if key in fields and isinstance(fields[key].value, str):
                    return fields[key].value.replace("{", "").replace("}", "").strip()
            return ""

        try:
            authors = []
            people = fields.get("author") or fields.get("editor")
            for person in people.value if people else []:
                family = _latex_text(" ".join([*person.von, *person.last]))
                if family.casefold() == "others" and not person.first:
                    authors.append(ET_AL)
                elif family:
                    authors.append(ama_name(family, _latex_text(" ".join(person.first))))
            pmid = value("pmid")
            if not pmid and value("eprinttype").casefold() == "pubmed":
                pmid = value("eprint")
            record = Record(
                source=name,
                position=position,
                authors=authors,
                title=value("title"),
                journal=value("journal", "journaltitle", "booktitle", "publisher", "institution"),
                year=parse_year(value("year") or value("date")),
                volume=value("volume"),
                issue=value("number", "issue"),
                pages=value("pages"),
                doi=value("doi"),
                pmid=pmid,
                url=value("url"),
            )
            records.append(_finish(record))
        except RecordProblem as problem:
            errors.append(RecordError(name, position, str(problem)))
    errors.sort(key=lambda error: int(error.position.split()[-1]))
    return records, errors


def _latex_text(value: str) -> str:
    return LatexNodes2Text().latex_to_text(value).strip()


_RIS_LINE = re.compile(r"^([A-Z][A-Z0-9])  -( (.*))?$")


def read_ris(name: str, text: str) -> tuple[list[Record], list[RecordError]]:
    """Each TY … ER record parsed on its own, so one bad record spoils nothing else."""
    records: list[Record] = []
    errors: list[RecordError] = []
    chunk: list[str] = []
    start: int | None = None
    lines = text.lstrip("\ufeff").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip() and start is None:
            continue
        if start is not None and line.startswith("TY  -"):
            # A new record while one is open: that one lacks its "ER  -" line. Reported, and
            # this record is read on its own instead of being lost inside it.
            errors.append(
                RecordError(name, f"line {start}", "the record has no closing “ER  -” line")
            )
            chunk, start = [], None
        if start is None:
            start = number
        chunk.append(line)
        if line.startswith("ER  -"):
            _read_ris_record(name, start, chunk, records, errors)
            chunk, start = [], None
    if start is not None:
        errors.append(RecordError(name, f"line {start}", "the record has no closing “ER  -” line"))
    return records, errors


def _read_ris_record(name, start, chunk, records, errors):
    position = f"line {start}"
    if not chunk[0].startswith("TY  -"):
        errors.append(RecordError(name, position, "the record does not start with “TY  -”"))
        return
    for offset, line in enumerate(chunk):
        if line.strip() and not _RIS_LINE.match(line.rstrip()):
            errors.append(
                RecordError(name, f"line {start + offset}", f"not a RIS tag line: “{line[:40]}”")
            )
            return
    try:
        (entry,) = rispy.loads("\n".join(chunk) + "\n")
    except Exception as exc:  # rispy raises bare IOError/ValueError subclasses
        errors.append(RecordError(name, position, f"it could not be parsed ({exc})"))
        return
    try:
        authors = []
        for person in entry.get("authors") or entry.get("first_authors") or []:
            family, _, given = person.partition(",")
            authors.append(ama_name(family, given))
        pages = entry.get("start_page", "")
        if entry.get("end_page"):
            pages = f"{pages}-{entry['end_page']}"
        accession = normalise_pmid(str(entry.get("accession_number", "")))
        urls = entry.get("urls") or []
        record = Record(
            source=name,
            position=position,
            authors=authors,
            title=entry.get("title") or entry.get("primary_title") or "",
            journal=entry.get("secondary_title")
            or entry.get("journal_name")
            or entry.get("alternate_title3")
            or entry.get("alternate_title1")
            or entry.get("alternate_title2")
            or entry.get("publisher")
            or "",
            year=parse_year(entry.get("year") or entry.get("date")),
            volume=str(entry.get("volume", "")),
            issue=str(entry.get("number", "")),
            pages=pages,
            doi=entry.get("doi", ""),
            pmid=accession if accession.isdigit() else "",
            url=urls[0] if urls else "",
        )
        records.append(_finish(record))
    except RecordProblem as problem:
        errors.append(RecordError(name, position, str(problem)))


_MEDLINE_LINE = re.compile(r"^([A-Z0-9]{1,4})\s*- (.*)$")


def parse_medline(text: str) -> list[tuple[int, list[tuple[str, str]], str]]:
    """(start line, [(tag, value)], problem) per record; tags in file order, continuation
    lines joined. `problem` is empty for a well-formed record, else names the bad line."""
    results: list[tuple[int, list[tuple[str, str]], str]] = []
    tags: list[tuple[str, str]] = []
    start: int | None = None
    problem = ""
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not line.strip():
            if start is not None:
                results.append((start, tags, problem))
            tags, start, problem = [], None, ""
            continue
        if start is None:
            start = number
        match = _MEDLINE_LINE.match(line)
        if match:
            tags.append((match.group(1), match.group(2).strip()))
        elif line.startswith("      ") and tags:
            tag, value = tags[-1]
            tags[-1] = (tag, f"{value} {line.strip()}")
        elif not problem:
            problem = f"line {number} is not a MEDLINE tag line (“{line[:40]}”)"
    if start is not None:
        results.append((start, tags, problem))
    return results


def medline_record(name: str, position: str, tags: list[tuple[str, str]]) -> Record:
    def first(tag):
        return next((value for key, value in tags if key == tag), "")

    doi = ""
    for tag in ("LID", "AID"):
        for key, value in tags:
            if key == tag and value.endswith("[doi]"):
                doi = doi or value.removesuffix("[doi]").strip()
    authors = [value for key, value in tags if key == "AU"]
    if not authors:
        authors = [value for key, value in tags if key == "CN"]  # a group author
    record = Record(
        source=name,
        position=position,
        authors=authors,
        title=first("TI").rstrip("."),
        journal=first("TA") or first("JT"),
        year=parse_year(first("DP")),
        volume=first("VI"),
        issue=first("IP"),
        pages=first("PG"),
        doi=doi,
        pmid=first("PMID"),
        publication_types=[value for key, value in tags if key == "PT"],
    )
    if not record.pmid:
        raise RecordProblem("it has no PMID line")
    return _finish(record)


def read_medline(name: str, text: str) -> tuple[list[Record], list[RecordError]]:
    records: list[Record] = []
    errors: list[RecordError] = []
    for start, tags, problem in parse_medline(text):
        position = f"line {start}"
        if problem:
            errors.append(RecordError(name, position, problem))
            continue
        try:
            records.append(medline_record(name, position, tags))
        except RecordProblem as error:
            errors.append(RecordError(name, position, str(error)))
    return records, errors


def read_csl_json(name: str, text: str) -> tuple[list[Record], list[RecordError]]:
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        return [], [RecordError(name, f"line {exc.lineno}", f"not valid JSON ({exc.msg})")]
    items = data if isinstance(data, list) else [data]
    records: list[Record] = []
    errors: list[RecordError] = []
    for number, item in enumerate(items, start=1):
        position = f"record {number}"
        try:
            records.append(csl_record(name, position, item))
        except RecordProblem as problem:
            errors.append(RecordError(name, position, str(problem)))
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
            # A field of the wrong shape (a year not nested in "date-parts", a null name):
            # this item is reported, the rest of the file still imports.
            logger.info("CSL-JSON %s %s unreadable: %r", name, position, exc)
            errors.append(RecordError(name, position, "a field has the wrong form for CSL-JSON"))
    return records, errors


def _text(value) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return "" if value is None else str(value).strip()


def csl_record(name: str, position: str, item) -> Record:
    if not isinstance(item, dict):
        raise RecordProblem("it is not a CSL-JSON item (an object)")
    authors = []
    for person in item.get("author") or []:
        if not isinstance(person, dict):
            raise RecordProblem("an author is not an object with family and given names")
        if person.get("literal"):
            authors.append(ET_AL if person["literal"] in ("others", ET_AL) else person["literal"])
        elif person.get("family"):
            family = " ".join(filter(None, [person.get("non-dropping-particle"), person["family"]]))
            authors.append(ama_name(family, person.get("given", "")))
    issued = item.get("issued") or {}
    year = None
    if isinstance(issued, dict):
        parts = issued.get("date-parts") or [[]]
        year = parse_year(parts[0][0] if parts and parts[0] else issued.get("raw"))
    return _finish(
        Record(
            source=name,
            position=position,
            authors=authors,
            title=_text(item.get("title")),
            journal=_text(item.get("container-title") or item.get("publisher")),
            year=year,
            volume=_text(item.get("volume")),
            issue=_text(item.get("issue")),
            pages=_text(item.get("page")),
            doi=_text(item.get("DOI")),
            pmid=_text(item.get("PMID")),
            url=_text(item.get("URL")),
        )
    )


READERS = {
    ".bib": read_bibtex,
    ".bibtex": read_bibtex,
    ".ris": read_ris,
    ".nbib": read_medline,
    ".medline": read_medline,
    ".json": read_csl_json,
}
# Any other extension (a PubMed ".txt" export, say) is recognised by its first characters.


# ---- into the library ----------------------------------------------------------------------


class LibraryIndex:
    """The library's DOIs, PMIDs, titles and keys, to recognise duplicates and free keys."""

    def __init__(self, studies=None):
        self.by_doi, self.by_pmid, self.by_title, self.keys = {}, {}, {}, set()
        rows = (
            Study.objects.values_list("key", "doi", "pmid", "title", "year")
            if studies is None
            else [(s.key, s.doi, s.pmid, s.title, s.year) for s in studies]
        )
        for key, doi, pmid, title, year in rows:
            self.add(key, doi, pmid, title, year)

    def add(self, key, doi, pmid, title, year):
        self.keys.add(key)
        if doi:
            self.by_doi.setdefault(doi.lower(), key)
        if pmid:
            self.by_pmid.setdefault(pmid, key)
        self.by_title.setdefault((normalise_title(title), year), key)

    def duplicate_of(self, record: Record) -> tuple[str, str] | None:
        """(existing key, what matched) when the library already holds this record."""
        if record.doi and record.doi.lower() in self.by_doi:
            return self.by_doi[record.doi.lower()], "DOI"
        if record.pmid and record.pmid in self.by_pmid:
            return self.by_pmid[record.pmid], "PMID"
        title = (normalise_title(record.title), record.year)
        if title in self.by_title:
            return self.by_title[title], "title and year"
        return None

    def new_key(self, record: Record) -> str:
        """First author's surname plus year (`cherkin2009`); `b`, `c`, … on collision."""
        first = next((name for name in record.authors if name != ET_AL), "")
        family, given = split_ama_name(first)
        # A group author ("Example Health Institute Guideline Group") gives its first word.
        stem = ascii_slug(family if given else family.split(" ")[0]) if first else ""
        if not stem:
            words = [ascii_slug(word) for word in record.title.split()]
            stem = next((word for word in words if len(word) > 3), "") or "study"
        stem = stem[:60] + (str(record.year) if record.year else "nd")
        key, letter = stem, ord("a")
        while key in self.keys:
            letter += 1
            key = stem + (chr(letter) if letter <= ord("z") else str(letter - ord("a")))
        return key


@dataclass
class Duplicate:
    record: Record
    existing_key: str
    matched_by: str

    def __str__(self):
        return (
            f"{self.record.source}, {self.record.position}: duplicate of {self.existing_key} "
            f"(same {self.matched_by}), skipped"
        )


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do)."""

    created: list[Study] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    dry_run: bool = False
    rolled_back: bool = False

    def summary(self) -> str:
        verb = "would be created" if self.dry_run or self.rolled_back else "created"
        text = (
            f"{len(self.created)} {verb}, {len(self.duplicates)} duplicate(s) skipped, "
            f"{len(self.errors)} error(s)."
        )
        if self.rolled_back:
            text += " Nothing was imported (--atomic and there were errors)."
        elif self.dry_run:
            text += " Dry run: nothing was saved."
        return text


def study_from(record: Record, key: str) -> Study:
    return Study(
        key=key,
        authors=record.authors_text() or "[No author listed]",
        title=record.title,
        journal=record.journal,
        year=record.year,
        volume=record.volume,
        issue=record.issue,
        pages=record.pages,
        doi=record.doi,
        pmid=record.pmid,
        url=record.url,
        publication_types=record.publication_types,
        suggested_study_type=record.suggested_study_type(),
        # No type and no finding: a reviewer sets them.
        study_type="",
        finding="",
    )


def import_records(records, errors=(), *, dry_run=False, atomic=False) -> ImportReport:
    """Add `records` to the library. `errors` are the readers' errors, carried into the
    report (with `atomic`, any error means nothing is saved)."""
    report = ImportReport(errors=list(errors), dry_run=dry_run)
    index = LibraryIndex()
    planned = []
    for record in records:
        duplicate = index.duplicate_of(record)
        if duplicate:
            report.duplicates.append(Duplicate(record, *duplicate))
            continue
        study = study_from(record, index.new_key(record))
        try:
            study.full_clean(validate_constraints=False)
        except ValidationError as invalid:
            reason = "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in invalid.message_dict.items()
            )
            report.errors.append(RecordError(record.source, record.position, reason))
            continue
        index.add(study.key, study.doi, study.pmid, study.title, study.year)
        planned.append((record, study))
    if atomic and report.errors:
        report.rolled_back = True
        report.created = [study for _record, study in planned]
        return report
    if dry_run:
        report.created = [study for _record, study in planned]
        return report
    with transaction.atomic():
        for record, study in planned:
            try:
                # A savepoint each, so a row another user added meanwhile fails alone.
                with transaction.atomic():
                    study.save()
            except IntegrityError:
                if atomic:
                    raise
                report.errors.append(
                    RecordError(record.source, record.position, "added meanwhile by someone else")
                )
            else:
                report.created.append(study)
    return report


def records_from_dicts(rows: list[dict]) -> list[Record]:
    return [Record(**row) for row in rows]


def errors_from_dicts(rows: list[dict]) -> list[RecordError]:
    return [RecordError(**row) for row in rows]
