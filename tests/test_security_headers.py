"""Content-Security-Policy, Permissions-Policy and the favicon, on patient and staff pages."""

import pytest

pytestmark = pytest.mark.django_db


def directives(response):
    policy = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


@pytest.fixture
def pages(make_article):
    article = make_article()
    return ["/", "/articles/", article.get_absolute_url(), "/evidence/", "/intake/", "/nowhere/"]


def test_every_patient_page_has_a_strict_policy(client, pages):
    for url in pages:
        policy = directives(client.get(url))
        assert policy["script-src"][0] == "'self'", url
        assert "'unsafe-inline'" not in policy["script-src"], url
        assert policy["frame-ancestors"] == ["'none'"], url
        assert policy["object-src"] == ["'none'"], url


def test_staff_pages_have_the_policy_and_admin_scripts_carry_its_nonce(client, make_user):
    client.force_login(make_user(is_superuser=True))

    response = client.get("/admin/articles/article/add/")

    nonce = next(v for v in directives(response)["script-src"] if v.startswith("'nonce-"))
    html = response.content.decode()
    assert f'nonce="{nonce[7:-1]}"' in html
    for url in ("/admin/", "/admin/login/", "/staff/two-factor/"):
        assert "'unsafe-inline'" not in directives(client.get(url))["script-src"], url


def test_permissions_policy_switches_off_unused_features(client, pages):
    for url in [*pages, "/admin/login/"]:
        policy = client.get(url)["Permissions-Policy"]
        assert "camera=()" in policy and "geolocation=()" in policy, url


def test_favicon_is_served(client):
    response = client.get("/favicon.ico", follow=True)

    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_pages_link_the_icon(client):
    assert 'rel="icon"' in client.get("/").content.decode()
    assert 'rel="icon"' in client.get("/admin/login/").content.decode()
