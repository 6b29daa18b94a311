"""Fixtures for the screening tests (registered with `pytest_plugins` in each module)."""

import itertools
import uuid

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache

from screening.models import CLINICAL_STAFF_GROUP, Questionnaire

_numbers = itertools.count(1)

# Every answer in the live questionnaire (version 2) that raises no flag.
ROUTINE_ANSWERS = {
    "q_date_of_birth": "1985-06-15",
    "q_pain_location": ["lower_back"],
    "q_pain_duration": "over_12_weeks",
    "q_pain_now": "4",
    "q_pain_average": "5",
    "q_impact_daily": "6",
    "q_impact_sleep": "3",
    "q_tried": ["pharmacy_painkillers", "exercise"],
    "q_tried_notes": "Walking helps a little.",
    "q_bladder_bowel": "no",
    "q_saddle_numbness": "no",
    "q_leg_weakness": "no",
    "q_sexual_problems": "no",
    "q_fever_unwell": "no",
    "q_health_risks": "no",
    "q_sudden_severe": "no",
    "q_cancer_history": "no",
    "q_weight_loss": "no",
    "q_injury": "no",
    "q_night_pain": "no",
    "q_constant_worsening": "no",
    "q_morning_stiffness": "no",
    "q_implanted_device": "no",
    "q_bleeding": "no",
    "q_pregnant": "no",
    "q_seizures": "no",
    "q_skin_problem": "no",
    "q_needles_fainting": "no",
    "q_takes_medicines": "no",
    "q_anything_else": "",
}


@pytest.fixture
def screening_cache():
    """The rate limit lives in the cache: start each test with an empty one."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def questionnaire(db):
    """The live questionnaire: version 2, made active by the data migrations (v1 retired)."""
    return Questionnaire.objects.active().get()


@pytest.fixture
def intake_data(questionnaire):
    """A factory for a complete, valid POST for the active questionnaire."""

    def make(**overrides):
        data = {
            "token": str(uuid.uuid4()),
            "version": str(questionnaire.version),
            "website": "",
            "full_name": "Alex Example",
            "email": "alex@example.com",
            "phone": "01632 960123",
            "preferred_contact": "phone",
            "consent_contact": "on",
            "consent_privacy": "on",
            **ROUTINE_ANSWERS,
        }
        for key, value in overrides.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        return data

    return make


@pytest.fixture
def submit(client, intake_data, screening_cache):
    """Post a valid form (with overrides) through the public view; returns the response."""

    def post(**overrides):
        return client.post("/intake/", intake_data(**overrides))

    return post


@pytest.fixture
def make_staff(django_user_model):
    """A staff user in the named groups; groups the articles app owns are created if missing."""

    def make(*groups, superuser=False, permissions=(), **fields):
        username = f"screening-staff{next(_numbers)}"
        if superuser:
            return django_user_model.objects.create_superuser(username, password="pw")
        user = django_user_model.objects.create_user(
            username=username, password="pw", is_staff=True, **fields
        )
        for name in groups:
            user.groups.add(Group.objects.get_or_create(name=name)[0])
        for codename in permissions:
            user.user_permissions.add(Permission.objects.get(codename=codename))
        return user

    return make


@pytest.fixture
def clinician(make_staff):
    return make_staff(CLINICAL_STAFF_GROUP)


@pytest.fixture
def non_clinical_staff(make_staff):
    """Staff who must never see a submission, even with submission permissions granted by hand."""
    leaked = ["view_intakesubmission", "change_intakesubmission", "export_submission"]
    return {
        "author": make_staff("Authors", permissions=leaked),
        "reviewer": make_staff("Medical reviewers", permissions=leaked),
        "plain staff": make_staff(),
    }
