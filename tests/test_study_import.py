"""Importing studies from BibTeX, RIS, PubMed MEDLINE and CSL-JSON files."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from articles import workflow
from articles.models import Study, StudyType
from articles.study_import import import_records, initials, normalise_title, read

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"


def run(*files, **options):
    out, err = StringIO(), StringIO()
    try:
        call_command(
            "import_studies", *[str(DATA / f) for f in files], stdout=out, stderr=err, **options
        )
    except CommandError as error:
        return out.getvalue(), err.getvalue() + str(error)
    return out.getvalue(), err.getvalue()


def test_bibtex_imports_good_records_and_reports_the_rest():
    out, err = run("library.bib")
    assert "3 created, 1 duplicate(s) skipped, 2 error(s)." in out
    assert sorted(Study.objects.values_list("key", flat=True)) == [
        "hartwell2011",
        "hartwell2011b",
        "muller2019",
    ]
    trial = Study.objects.get(key="hartwell2011")
    assert trial.authors == "Hartwell NJ, Okafor S, et al."
    assert (trial.journal, trial.volume, trial.issue, trial.pages) == (
        "Journal of Invented Trials",
        "12",
        "3",
        "101-110",
    )
    assert (trial.doi, trial.pmid) == ("10.5555/jit.2011.0101", "21000001")
    assert "library.bib, line 29: duplicate of hartwell2011 (same DOI)" in out
    assert "library.bib, line 37: it could not be parsed" in err
    assert "library.bib, line 42: the year “last spring” is not a year" in err


def test_unicode_authors_are_kept_and_keys_are_ascii():
    run("library.bib")
    review = Study.objects.get(key="muller2019")
    assert review.authors == "Müller J, García-Pérez JL, Ødegård K"
    assert review.doi == "10.5555/RMM.2019.77"  # the doi.org prefix is dropped


def test_imported_studies_have_no_type_or_finding_and_patients_do_not_see_them(client):
    run("library.bib")
    trial = Study.objects.get(key="hartwell2011")
    assert trial.study_type == "" and trial.finding == ""
    assert client.get("/evidence/hartwell2011/").status_code == 404
    assert "hartwell2011" not in client.get("/evidence/").content.decode()


def test_ris_records_each_checked_on_their_own():
    out, err = run("library.ris")
    assert "3 created, 1 duplicate(s) skipped, 2 error(s)." in out
    assert "library.ris, line 33: not a RIS tag line" in err
    assert "library.ris, line 45: the record has no closing “ER  -” line" in err
    # Same title (ignoring punctuation and case) and year as the first record.
    assert "library.ris, line 25: duplicate of hartwell2011 (same title and year)" in out
    report = Study.objects.get(key="tanaka2016")
    assert report.journal == "Example Safety Board"
    assert report.url == "https://example.org/reports/safety-2016"


def test_medline_keeps_publication_types_as_a_suggestion():
    out, err = run("library.nbib")
    assert "3 created, 1 duplicate(s) skipped, 2 error(s)." in out
    assert "duplicate of hartwell2011 (same DOI)" not in out
    assert "library.nbib, line 38: duplicate of hartwell2011 (same PMID)" in out
    assert "library.nbib, line 43: line 45 is not a MEDLINE tag line" in err
    assert "library.nbib, line 49: it has no PMID line" in err
    trial = Study.objects.get(pmid="21000001")
    assert trial.title == "Needling versus waiting list for chronic neck pain: a randomised trial"
    assert trial.suggested_study_type == StudyType.RCT and trial.study_type == ""
    review = Study.objects.get(pmid="31000002")
    assert review.publication_types == ["Journal Article", "Meta-Analysis", "Systematic Review"]
    assert review.suggested_study_type == StudyType.SYSTEMATIC_REVIEW
    guideline = Study.objects.get(pmid="27000003")
    assert guideline.suggested_study_type == StudyType.GUIDELINE
    assert guideline.authors == "Example Health Institute Guideline Group"
    assert guideline.key == "example2016"


def test_csl_json_reports_record_numbers():
    out, err = run("library.json")
    assert "3 created, 1 duplicate(s) skipped, 2 error(s)." in out
    assert "library.json, record 3: duplicate of hartwell2011 (same title and year)" in out
    assert "library.json, record 4: it has no title" in err
    assert "library.json, record 5: the PMID “PMC12345” is not digits only" in err
    assert Study.objects.filter(key="hartwell2011b", journal="Example Health Institute").exists()


def test_a_second_file_finds_duplicates_of_the_first_and_of_the_library():
    run("library.bib")
    out, _err = run("library.json", "library.nbib")
    assert "duplicate of hartwell2011 (same DOI)" in out
    # The MEDLINE review has a DOI the BibTeX one had, with different case.
    assert "library.nbib, line 17: duplicate of muller2019 (same DOI)" in out
    assert Study.objects.filter(doi__iexact="10.5555/rmm.2019.77").count() == 1


def test_dry_run_saves_nothing():
    out, _err = run("library.json", dry_run=True)
    assert "3 would be created" in out and "Dry run" in out
    assert not Study.objects.exists()


def test_atomic_imports_nothing_when_a_record_is_bad():
    out, err = run("library.json", atomic=True)
    assert "Nothing was imported" in out
    assert "could not be imported" in err
    assert not Study.objects.exists()


def test_atomic_imports_everything_when_all_is_well(tmp_path):
    good = tmp_path / "good.json"
    good.write_text('[{"title": "A clean record", "author": [{"family": "Ng", "given": "Al"}]}]')
    call_command("import_studies", str(good), atomic=True, stdout=StringIO())
    assert Study.objects.get().key == "ng" + "nd"


def test_unreadable_files_are_refused_clearly(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_studies", str(tmp_path / "missing.bib"), stdout=StringIO())
    odd = tmp_path / "notes.txt"
    odd.write_text("just some notes")
    with pytest.raises(CommandError, match="1 record"):
        call_command("import_studies", str(odd), stdout=StringIO(), stderr=StringIO())


def test_existing_study_is_never_overwritten(make_study):
    make_study("cherkin2009", title="Kept as it was", doi="10.5555/JIT.2011.0101", year=2009)
    report = import_records(*read("library.json", (DATA / "library.json").read_text()))
    assert [(d.existing_key, d.matched_by) for d in report.duplicates] == [("cherkin2009", "DOI")]
    assert Study.objects.get(key="cherkin2009").title == "Kept as it was"


def test_a_study_without_type_or_finding_blocks_approval(make_article, make_study):
    imported = make_study(study_type="", finding="")
    article = make_article(body=f"Needling helped [@{imported.key}].", status="in_review")
    problems = workflow.evidence_problems(article.draft)
    assert [p.code for p in problems if p.code == "undescribed_study"] == ["undescribed_study"]
    assert imported.key in str(problems)


@settings(max_examples=20, deadline=None)
@given(st.text(max_size=300))
def test_readers_never_raise_on_any_text(text):
    for name in ("x.bib", "x.ris", "x.nbib", "x.json", "x.txt"):
        records, errors = read(name, text)
        assert all(record.title for record in records)
        assert all(error.reason for error in errors)


@given(
    st.text(alphabet=st.characters(categories=["L", "Zs", "P"], max_codepoint=0xFF), max_size=80)
)
@settings(max_examples=60, deadline=None)
def test_title_normalisation_ignores_case_and_punctuation(title):
    assert normalise_title(title.upper() + ".") == normalise_title(title.lower())


def test_initials():
    assert initials("Daniel C.") == "DC"
    assert initials("Jean-Pierre") == "JP"
    assert initials("DC") == "DC"
    assert initials("Émile") == "É"


def test_identifiers_left_in_links_or_labelled_are_found():
    ris = (
        "TY  - JOUR\n"
        "AU  - Ibarra, Lucia\n"
        "TI  - Cupping for shoulder stiffness: a pilot trial\n"
        "JF  - Journal of Invented Trials\n"
        "PY  - 2018///\n"
        "AN  - PMID: 29000003\n"
        "UR  - https://dx.doi.org/10.5555/JIT.2018.0303\n"
        "ER  - \n"
    )
    bibtex = (
        "@article{x, author = {Nakamura, Kenji}, title = {Moxibustion and knee pain},"
        " journal = {Reviews in Made-Up Medicine}, year = {2020},"
        " url = {https://pubmed.ncbi.nlm.nih.gov/32000004/}}\n"
    )
    (cupping,), ris_errors = read("export.ris", ris)
    (moxa,), bib_errors = read("export.bib", bibtex)
    assert ris_errors == bib_errors == []
    assert (cupping.doi, cupping.pmid) == ("10.5555/JIT.2018.0303", "29000003")
    assert (moxa.doi, moxa.pmid) == ("", "32000004")


@pytest.mark.parametrize(
    ("encoding", "note"), [("utf-16", ""), ("cp1252", "not UTF-8; read as Windows-1252")]
)
def test_files_in_other_encodings_are_read_and_the_user_told(tmp_path, encoding, note):
    path = tmp_path / "export.bib"
    text = "@article{a, author={Müller, Jörg}, title={Café “études” of pain}, year={2020}}\n"
    path.write_bytes(text.encode(encoding))  # Python's UTF-16 starts with the mark
    out, err = StringIO(), StringIO()
    call_command("import_studies", str(path), stdout=out, stderr=err)
    study = Study.objects.get()
    assert (study.authors, study.title) == ("Müller J", "Café “études” of pain")
    assert note in err.getvalue()
    assert ("not UTF-8" in err.getvalue()) == bool(note)


@pytest.mark.parametrize(
    "item",
    [
        {"title": "A trial", "issued": {"date-parts": [2009]}},
        {"title": "A trial", "author": [{"family": "Smith", "given": None}]},
        {"title": "A trial", "author": [{"family": 12}]},
    ],
)
def test_a_csl_json_item_of_the_wrong_shape_is_reported_and_the_rest_imported(item):
    records, errors = read("zotero.json", json.dumps([item, {"title": "Good one"}]))
    assert [record.title for record in records] == ["Good one"]
    assert [(error.position, error.reason) for error in errors] == [
        ("record 1", "a field has the wrong form for CSL-JSON")
    ]


def test_a_title_with_an_accent_inside_a_word_is_the_same_paper(make_study):
    make_study("smith2009", title="Reduction of neck pain by needling", year=2009, doi="", pmid="")
    records, errors = read(
        "refs.bib",
        "@article{x,\n author={Smith, John},\n title={R\\'eduction of neck pain by needling},\n"
        " year={2009},\n journal={J}\n}\n",
    )
    assert records and not errors
    assert normalise_title("Réduction") == normalise_title("Reduction") == "reduction"
    report = import_records(records)
    assert [duplicate.existing_key for duplicate in report.duplicates] == ["smith2009"]
    assert Study.objects.count() == 1


def test_a_ris_record_without_its_er_line_is_reported_and_the_next_one_read():
    text = (
        "TY  - JOUR\nTI  - Needling for neck pain\nPY  - 2009\n"
        "TY  - JOUR\nTI  - Needling for knee pain\nPY  - 2010\nER  - \n"
    )
    records, errors = read("refs.ris", text)
    assert [record.title for record in records] == ["Needling for knee pain"]
    assert [(error.position, error.reason) for error in errors] == [
        ("line 1", "the record has no closing “ER  -” line")
    ]
