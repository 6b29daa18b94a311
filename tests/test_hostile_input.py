"""Property test: NUL bytes, undecodable bytes, lone surrogates (as their UTF-8 bytes) and huge
values in every query parameter and form field of every page, public and staff (each signed in
as the role that uses it), never give a 500.

The pages are found by walking the URL patterns; the forms by reading each page's HTML.
"""

import contextlib
from html.parser import HTMLParser
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.models import Study
from screening.models import IntakeSubmission

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# Raw pieces of an urlencoded value: a NUL, bytes that are not UTF-8, a lone surrogate as
# UTF-8 would encode it, a huge value, and ordinary text around them.
HOSTILE = st.lists(
    st.sampled_from(
        ["%00", "%FF%FE", "%ED%A0%80", "x" * 100_000, "%C0%AF", "a", "2024-01-01", "1", "-1"]
    ),
    min_size=1,
    max_size=3,
).map("".join)
QUERY_NAMES = ["q", "topic", "page", "at", "o", "p", "type", "from", "to", "advice", "changed"]


class FormFields(HTMLParser):
    """The names of every input, textarea and select in a page's POST forms."""

    def __init__(self):
        super().__init__()
        self.names: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("input", "textarea", "select", "button") and attributes.get("name"):
            self.names.add(attributes["name"])


def url_names(patterns=None, prefix=""):
    """Every named URL pattern, with its namespace."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            yield from url_names(pattern.url_patterns, namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield prefix + pattern.name, pattern


def concrete_urls(published, in_review, submission) -> set[str]:
    """A real address for each URL pattern whose arguments we can fill in: public pages of a
    published article, staff pages of one in review (its review screen has every form)."""
    values = {
        "slug": published.slug,
        "key": Study.objects.first().key,
        "pk": published.reviewer_id,
        "object_id": in_review.pk,
        "number": in_review.draft.number,
        "public_id": submission.public_id,
    }
    urls = set()
    for name, pattern in url_names():
        converters = pattern.pattern.converters
        if name.startswith("admin:screening_intakesubmission") and "object_id" in converters:
            kwargs = {"object_id": submission.pk}
        elif name.startswith("admin:") and "object_id" in converters:
            if not name.startswith("admin:articles_article"):
                continue  # every other admin page is opened by test_articles_admin
            kwargs = {"object_id": in_review.pk}
        else:
            kwargs = {key: values[key] for key in converters if key in values}
            if len(kwargs) != len(converters):
                continue
        if "password" in name or "logout" in name or "delete" in name:
            continue
        with contextlib.suppress(NoReverseMatch):  # our values do not fit its converters
            urls.add(reverse(name, kwargs=kwargs))
    return urls


@pytest.fixture
def site(make_article, make_user, make_staff, submit, clinician, reviewer):
    published = make_article(reviewer=reviewer)
    in_review = make_article(status="in_review")
    submit()
    superuser = make_user("boss", is_superuser=True)
    clients = {}
    for role, user in {
        "anonymous": None,
        "superuser": superuser,
        "reviewer": reviewer,
        "clinician": clinician,
    }.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        clients[role] = client
    urls = sorted(concrete_urls(published, in_review, IntakeSubmission.objects.get()))
    # The forms on each page, as the superuser sees them (all fields of every form).
    fields = {}
    for url in urls:
        response = clients["superuser"].get(url)
        parser = FormFields()
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            parser.feed(response.content.decode())
        fields[url] = sorted(parser.names - {"csrfmiddlewaretoken"})
    return clients, urls, fields


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hostile_values_never_give_a_500(site, data):
    clients, urls, fields = site
    url = data.draw(st.sampled_from(urls), label="url")
    role = data.draw(st.sampled_from(sorted(clients)), label="role")
    client = clients[role]
    name = data.draw(st.sampled_from(QUERY_NAMES + fields[url]), label="field")
    value = data.draw(HOSTILE, label="value")

    response = client.get(f"{url}?{quote(name)}={value}")
    assert response.status_code < 500, (url, role, name)

    if fields[url]:
        others = {field: "1" for field in fields[url] if field != name}
        body = urlencode(others) + f"&{quote(name)}={value}"
        response = client.post(url, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500, (url, role, name)
