"""Exporting the library as BibTeX and CSL-JSON, and importing it back unchanged."""

import json

import pytest

from articles.models import BIBLIOGRAPHIC_FIELDS, Study
from articles.study_export import to_bibtex, to_csl_json
from articles.study_import import import_records, read

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(make_study):
    make_study(
        "cherkin2009",
        authors="Cherkin DC, Sherman KJ, Avins AL, et al.",
        title="A randomized trial comparing acupuncture, simulated acupuncture, and usual care",
        journal="Arch Intern Med",
        year=2009,
        volume="169",
        issue="9",
        pages="858-866",
        doi="10.1001/archinternmed.2009.65",
        pmid="19433697",
    )
    make_study(
        "muller2019",
        authors="Müller J, García-Pérez JL, Ødegård K",
        title="Pooled trials of dry needling & what 100% of “sham” means",
        journal="Reviews in Made-Up Medicine",
        year=2019,
    )
    make_study(
        "guidance2016",
        authors="Example Health Institute Guideline Group",
        title="Guidance on long-term low back pain",
        journal="Example Health Institute",
        year=None,
        study_type="guideline",
        url="https://example.org/guidance",
    )


def bibliography():
    return sorted(
        tuple(getattr(study, name) for name in BIBLIOGRAPHIC_FIELDS)
        for study in Study.objects.all()
    )


@pytest.mark.parametrize(("export", "name"), [(to_bibtex, "x.bib"), (to_csl_json, "x.json")])
def test_round_trip_into_an_empty_library_gives_the_same_studies(library, export, name):
    before = bibliography()
    text = export(Study.objects.all())
    Study.objects.all().delete()
    records, errors = read(name, text)
    assert errors == []
    report = import_records(records)
    assert len(report.created) == 3 and not report.duplicates
    assert bibliography() == before


def test_csl_json_lists_authors_by_family_and_initials(library):
    items = {item["id"]: item for item in json.loads(to_csl_json(Study.objects.all()))}
    assert items["cherkin2009"]["author"][:2] == [
        {"family": "Cherkin", "given": "DC"},
        {"family": "Sherman", "given": "KJ"},
    ]
    assert items["cherkin2009"]["author"][-1] == {"literal": "others"}
    assert items["guidance2016"]["type"] == "report" and "issued" not in items["guidance2016"]


def test_bibtex_entries_use_the_library_keys(library):
    text = to_bibtex(Study.objects.all())
    assert "@article{cherkin2009," in text and "@techreport{guidance2016," in text
    assert "Cherkin, DC and Sherman, KJ and Avins, AL and others" in text
