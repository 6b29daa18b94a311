"""Importing the Retraction Watch CSV: notices recorded, studies retracted, articles flagged."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from articles.models import NoticeNature, ReviewFlag, Study, StudyNotice, normalise_doi
from articles.retractions import RetractionFileError, import_retractions, readable_reason

pytestmark = pytest.mark.django_db
CSV = Path(__file__).parent / "data" / "retraction_watch.csv"


@pytest.fixture
def trial(make_study):
    return make_study("hartwell2011", doi="10.5555/jit.2011.0101", pmid="21000001")


@pytest.fixture
def review(make_study):
    return make_study("muller2019", pmid="31000002")


@pytest.fixture
def guideline(make_study):
    return make_study("guidance2016", doi="10.5555/guideline.2016", study_type="guideline")


@pytest.fixture
def muddled(make_study):
    return make_study("lo2019", doi="10.5555/concern.1")


@pytest.fixture
def live(make_article, trial, review, guideline, muddled, reviewer):
    return make_article(
        body="Needling helped necks [@hartwell2011]. Shoulders too [@muller2019].",
        reviewer=reviewer,
    )


def run(**options):
    out, err = StringIO(), StringIO()
    call_command("import_retractions", str(CSV), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def notice_text(client, article):
    html = client.get(article.get_absolute_url()).content.decode()
    found = re.search(r'<div class="notice danger retraction-notice".*?</div>', html, re.S)
    return re.sub(r"<[^>]+>", " ", found.group(0)) if found else None


def test_retraction_marks_the_study_flags_the_article_and_patients_see_a_notice(
    client, live, trial, reviewer
):
    assert notice_text(client, live) is None
    out, err = run()
    assert "6 row(s) read, 4 about studies in the library: 3 notice(s) recorded" in out
    assert "1 study(ies) newly retracted; 2 live article(s) and 0 patient answer(s) flagged" in out
    assert "line 6: unknown RetractionNature “Withdrawn for reasons”" in err

    trial.refresh_from_db()
    assert trial.is_retracted
    assert (
        "2023-03-14" in trial.retraction_note
        and "10.5555/jit.2023.retract" in trial.retraction_note
    )
    notice = StudyNotice.objects.get(study=trial)
    assert (notice.nature, notice.notice_pmid, notice.source_id) == (
        NoticeNature.RETRACTION,
        "37000001",
        "90001",
    )
    assert notice.reason == "Concerns/Issues About Data; Duplication of Image"

    flags = {flag.reason for flag in ReviewFlag.objects.filter(article=live)}
    assert flags == {"study_retracted", "study_corrected"}
    live.refresh_from_db()
    assert live.id in {a.id for a in type(live).objects.review_due_now()}
    assert "Please read this first" in notice_text(client, live)


def test_a_correction_does_not_retract(live, review):
    run()
    review.refresh_from_db()
    assert not review.is_retracted
    assert review.notices.get().nature == NoticeNature.CORRECTION


def test_expression_of_concern_on_an_uncited_study_is_recorded_without_flags(live, guideline):
    run()
    guideline.refresh_from_db()
    assert guideline.notices.get().nature == NoticeNature.EXPRESSION_OF_CONCERN
    assert not guideline.is_retracted
    assert not ReviewFlag.objects.filter(study=guideline).exists()


def test_running_again_records_nothing_twice(live):
    run()
    out, _err = run()
    assert "0 notice(s) recorded, 3 already known" in out
    assert StudyNotice.objects.count() == 3
    assert ReviewFlag.objects.count() == 2


def test_dry_run_changes_nothing(live, trial):
    out, _err = run(dry_run=True)
    assert "3 notice(s) would be recorded" in out
    trial.refresh_from_db()
    assert not trial.is_retracted and not StudyNotice.objects.exists()


def test_a_file_in_another_layout_is_refused(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("doi,title\n10.1/x,Something\n")
    with pytest.raises(CommandError, match="lacks the column"):
        call_command("import_retractions", str(other), stdout=StringIO())
    with pytest.raises(RetractionFileError):
        import_retractions(StringIO(""))


def test_reason_is_made_readable():
    assert readable_reason("+Error in Data;+Plagiarism;") == "Error in Data; Plagiarism"
    assert readable_reason("") == ""


def test_unmatched_rows_touch_nothing(make_study):
    study = make_study(doi="10.1/unrelated")
    report = import_retractions(CSV.open(newline=""))
    assert (report.rows, report.matched, report.recorded) == (6, 0, 0)
    assert not Study.objects.get(pk=study.pk).is_retracted


def test_notices_show_on_the_study_admin_page(client, live, trial, reviewer):
    run()
    client.force_login(reviewer)
    html = client.get(f"/admin/articles/study/{trial.pk}/change/").content.decode()
    assert "Retraction Watch database (90001)" in html
    assert "10.5555/jit.2023.retract" in html


def test_a_copy_with_tabs_spaced_headers_and_other_identifier_forms_matches_the_same_studies(
    trial, review, guideline
):
    # As a spreadsheet might save it: a byte-order mark, tabs, headers with spaces, the PMID
    # as a number with a decimal point, a labelled DOI with a full stop, two DOIs in one cell.
    header = [
        "Record ID", "Title", "Retraction Date", "Retraction DOI", "Retraction PubMed ID",
        "Original Paper DOI", "Original Paper PubMed ID", "Retraction Nature", "Reason",
    ]  # fmt: skip
    rows = [
        ["91001", "Neck trial", "2023-03-14", "", "", "", "PMID: 21000001", "Retraction", ""],
        ["91002", "Shoulders", "2024-02-01", "", "", "", "31000002.0", " correction ", ""],
        [
            "91003",
            "Guidance",
            "2024-05-05",
            "",
            "",
            "doi: 10.9999/other; DOI 10.5555/GUIDELINE.2016.",
            "0",
            "Expression of Concern",
            "",
        ],
    ]
    text = "\ufeff" + "\n".join("\t".join(row) for row in [header, *rows]) + "\n"
    report = import_retractions(StringIO(text))
    assert (report.rows, report.matched, report.recorded, report.errors) == (3, 3, 3, [])
    assert report.retracted == ["hartwell2011"]
    assert review.notices.get().nature == NoticeNature.CORRECTION
    assert guideline.notices.get().nature == NoticeNature.EXPRESSION_OF_CONCERN


def test_identifiers_are_read_however_they_are_written(make_study):
    study = make_study(doi="https://dx.doi.org/10.1016/S0140-6736(20)30183-5.", pmid="PMID: 42")
    assert (study.doi, study.pmid) == ("10.1016/S0140-6736(20)30183-5", "42")


@given(
    prefix=st.sampled_from(["", "https://doi.org/", "http://dx.doi.org/", "doi:", "DOI ", " "]),
    registrant=st.from_regex(r"[0-9]{4,9}", fullmatch=True),
    suffix=st.from_regex(
        r"[A-Za-z0-9_/:<>-]([A-Za-z0-9._/:;<>-]*[A-Za-z0-9_/<>-])?", fullmatch=True
    ),
    after=st.sampled_from(["", ".", " ", ";", ","]),
)
def test_normalise_doi_finds_the_doi_whatever_wraps_it(prefix, registrant, suffix, after):
    doi = f"10.{registrant}/{suffix}"
    assert normalise_doi(prefix + doi + after) == doi


HEADER = "Record ID,OriginalPaperDOI,OriginalPaperPubMedID,RetractionNature,Reason\n"


def test_a_quote_left_open_is_reported_and_the_rows_after_it_still_read(make_study):
    make_study("a2020", doi="10.5555/a")
    make_study("b2021", doi="10.5555/b")
    text = (
        HEADER
        + '1,10.5555/zzz,,Retraction,"unclosed reason\n'
        + "".join(f"{n},10.5555/x{n},,Correction,some reason\n" for n in range(2, 6000))
        + '7000,10.5555/a,,Retraction,"Fake data,\nsee the notice"\n'  # a real two-line field
        + "7001,10.5555/b,,Retraction,Fake images\n"
    )
    report = import_retractions(StringIO(text))
    assert report.errors == [
        "line 2: a quote is not closed, so this row was skipped (the rows after it are read)"
    ]
    assert Study.objects.get(key="a2020").is_retracted
    assert Study.objects.get(key="b2021").is_retracted
    assert report.rows == 6001


def test_a_quote_left_open_in_a_file_without_record_ids_first_is_reported(make_study):
    make_study("a2020", doi="10.5555/a")
    header = "OriginalPaperDOI,Record ID,OriginalPaperPubMedID,RetractionNature\n"
    report = import_retractions(
        StringIO(header + '"10.5555/zzz,1,,Retraction\n10.5555/a,2,,Retraction\n')
    )
    assert report.errors == [
        "line 2: a quote is not closed, so this row was skipped (the rows after it are read)"
    ]


def test_a_nul_byte_in_a_row_does_not_stop_the_import(make_study):
    make_study("a2020", doi="10.5555/a")
    import_retractions(
        StringIO(HEADER + "1,10.5555/zzz,,Retraction,bad\x00byte\n2,10.5555/a,,Retraction,x\n")
    )
    assert Study.objects.get(key="a2020").is_retracted
