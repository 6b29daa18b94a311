"""Shared fixtures: factories for studies, articles and staff users; the intake form's
questionnaire, valid answers and clinical staff; one Chromium for the browser tests."""

import gc
import importlib
import itertools
import os
import threading
import uuid
from pathlib import Path

import hypothesis
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles import workflow
from articles.models import (
    Article,
    Certainty,
    Citation,
    Claim,
    ClaimKind,
    ReviewerProfile,
    Study,
    StudyType,
    Topic,
    Verdict,
)
from screening.models import CLINICAL_STAFF_GROUP, Questionnaire
from tests import database_reset, database_template

database_reset.install()

_numbers = itertools.count(1)

# No per-example deadline: a test must not fail because a busy machine ran it slowly.
hypothesis.settings.register_profile("clinic", deadline=None)
hypothesis.settings.load_profile("clinic")


SLOW_FIXTURES = {"chromium", "private_postgres", "live_server"}


@pytest.hookimpl(wrapper=True)
def pytest_collection(session):
    """On a first run, share the rewriting of the test modules between the workers.

    Each worker collects every test module, and pytest rewrites a module's asserts when it
    first imports it (about 1.4 s of CPU for all of them here), then keeps the result in
    __pycache__. Both workers starting together used to rewrite all of them; now each first
    imports its share, and then finds the other's share already rewritten. Later runs read them
    all from __pycache__ either way."""
    workerinput = getattr(session.config, "workerinput", None)
    if workerinput is not None:
        index = int(workerinput["workerid"].removeprefix("gw"))
        share = selected_test_modules(session.config.args)[index :: workerinput["workercount"]]
        for path in share:
            try:
                importlib.import_module(f"{__package__}.{path.stem}")
            except Exception:  # noqa: S112 (collection reports it, as for any module)
                continue
    return (yield)


def selected_test_modules(args: list[str]) -> list[Path]:
    """The test modules of this folder that the command line selects."""
    here = Path(__file__).resolve().parent
    selected = set()
    for arg in args:
        path = Path(arg.split("::")[0]).resolve()
        if path.is_dir() and (path == here or here.is_relative_to(path)):
            selected.update(here.glob("test_*.py"))
        elif path.parent == here and path.name.startswith("test_") and path.suffix == ".py":
            selected.add(path)
    return sorted(selected)


def pytest_collection_finish(session):
    """Keep the garbage collector off the objects every test shares.

    Django, the apps and the collected tests are a large heap that lives for the whole run;
    left to the default thresholds, full collections walked it some twenty times a minute and
    took a fifth of the suite's time. Freezing it takes it out of every later collection, and
    larger thresholds make the young collections rarer (the suite's memory grows by a few
    tens of MB).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 100)


def uses(item, fixture: str) -> bool:
    """Whether the test item (or None, after the last test) takes the fixture."""
    return fixture in getattr(item, "fixturenames", ())


def needs_database(item) -> bool:
    """Whether the test uses a test database, by a fixture or by pytest-django's mark."""
    return uses(item, "django_db_setup") or item.get_closest_marker("django_db") is not None


def pytest_collection_modifyitems(items):
    """Mark browser, private-server and property tests `slow`, so that
    `uv run pytest -m "not slow"` gives a quick loop (the README's command runs them all).

    Runs after pytest-django has put the tests in its order, then places two kinds of test for
    `--dist worksteal`, which hands the first half of the list to one worker and the second
    half to the other, and steals from the end of a worker's share:
    - the tests on a private PostgreSQL server go first: they spend most of their time waiting
      for that server, while the other worker has plenty to do;
    - the browser tests come early in the second half, one after another, so that one worker
      starts Chromium once and runs them while the other works on plain tests.
    """
    for item in items:
        is_property_test = getattr(getattr(item, "obj", None), "is_hypothesis_test", False)
        if any(uses(item, fixture) for fixture in SLOW_FIXTURES) or is_property_test:
            item.add_marker(pytest.mark.slow)

    private = [item for item in items if uses(item, "private_postgres")]
    browser = [item for item in items if uses(item, "chromium") and item not in private]
    rest = [item for item in items if item not in private and item not in browser]
    first_half = max(0, len(items) // 2 - len(private))
    # pytest-django puts the tests without a database last; run them first in the second half,
    # while the first worker migrates the database both share (tests/database_template.py).
    second = rest[first_half:]
    no_database = [item for item in second if not needs_database(item)]
    with_database = [item for item in second if needs_database(item)]
    items[:] = private + rest[:first_half] + no_database + browser + with_database


def kept_between_runs(config) -> Path | None:
    """The folder in pytest's cache that keeps migrated databases between runs; None when the
    cache is off (`-p no:cacheprovider`) or `--create-db` asks for a fresh migration."""
    cache = getattr(config, "cache", None)
    if cache is None or config.getoption("create_db", False):
        return None
    return cache.mkdir("migrated_databases")


@pytest.fixture(scope="session")
def _one_migration_per_run(request, tmp_path_factory, django_db_blocker):
    """The workers share one migration, kept for later runs on SQLite
    (tests/database_template.py)."""
    workers = hasattr(request.config, "workerinput")
    kept = kept_between_runs(request.config) if connection.vendor == "sqlite" else None
    if not workers and kept is None:
        yield  # one process, nothing to share or keep
        return
    basetemp = tmp_path_factory.getbasetemp()
    # pytest-xdist gives each worker a folder in the run's own.
    shared_folder = basetemp.parent if workers else basetemp
    with database_template.migrated_once(shared_folder, django_db_blocker.unblock, kept=kept):
        yield


@pytest.fixture(scope="session")
def django_db_setup(_one_migration_per_run, django_db_setup):
    """pytest-django's test databases, migrated once for all the workers."""
    yield


def create_user(username=None, groups=(), **fields):
    """A staff user, optionally in named groups (created by the migrations)."""
    username = username or f"user{next(_numbers)}"
    fields.setdefault("is_staff", True)
    fields.setdefault("first_name", username.title())
    fields.setdefault("last_name", "Tester")
    fields.setdefault("email", f"{username}@clinic.example")
    user = get_user_model().objects.create_user(
        username=username, password="pw-for-tests", **fields
    )
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def create_study(key=None, **fields):
    """A study in the library, with plausible bibliographic details."""
    number = next(_numbers)
    fields.setdefault("authors", "Tester A, Example B")
    fields.setdefault("title", f"A trial of something number {number}")
    fields.setdefault("journal", "Journal of Tests")
    fields.setdefault("year", 2020)
    fields.setdefault("study_type", StudyType.RCT)
    fields.setdefault("finding", "It helped a little, for a short time.")
    return Study.objects.create(key=key or f"study{number}", **fields)


def create_reviewer(username=None, **profile):
    """A medical reviewer with a profile verified today."""
    user = create_user(username, groups=["Medical reviewers"])
    profile.setdefault("display_name", f"Dr {user.first_name} {user.last_name}")
    profile.setdefault("qualification", "MBBS")
    profile.setdefault("registration_body", "General Medical Council")
    profile.setdefault("registration_number", f"GMC{user.pk:06d}")
    profile.setdefault("verified_on", timezone.localdate())
    ReviewerProfile.objects.create(user=user, **profile)
    return user


# The factories as fixtures, for tests that use the database; module-scoped set-up calls the
# functions above directly.


@pytest.fixture(autouse=True)
def _password_alone_signs_staff_in(request, monkeypatch):
    """Most tests sign staff in with `force_login` and test something else; let the password
    do. Tests marked `second_factor` get the production rule (clinic.two_factor)."""
    if request.node.get_closest_marker("second_factor") is None:
        monkeypatch.setattr("clinic.two_factor.second_factor_required", lambda user: False)


@pytest.fixture(autouse=True)
def _new_content_generation():
    """Start each test in a new content generation: what an earlier, rolled-back test saved
    may still be remembered under the old one (fragments, clinic details)."""
    from clinic.page_cache import new_generation

    new_generation()


@pytest.fixture
def make_user(django_user_model):
    return create_user


@pytest.fixture
def make_study():
    return create_study


@pytest.fixture
def make_reviewer(make_user):
    return create_reviewer


@pytest.fixture
def reviewer(make_reviewer):
    """The medical reviewer most tests need."""
    return make_reviewer("drlee")


def refresh(article):
    """The article as stored now, with its revisions."""
    return Article.objects.select_related("draft", "live_revision").get(pk=article.pk)


def review_everything(article, reviewer):
    """Record 'supports' for every citation, a certainty for every claim, dismiss lint."""
    revision = article.draft
    Citation.objects.filter(claim__revision=revision).update(
        verdict=Verdict.SUPPORTS, verdict_by=reviewer, verdict_at=timezone.now()
    )
    Claim.objects.filter(revision=revision).update(
        kind=ClaimKind.EFFECT,
        certainty=Certainty.MODERATE,
        certainty_wording="small benefit on average",
    )
    for finding in workflow.open_lint_findings(article, revision):
        workflow.dismiss_lint_finding(article, fingerprint=finding.fingerprint, by=reviewer)


@pytest.fixture
def make_article(make_user, make_study, make_reviewer):
    """Create an article through the real workflow; `citations=N` writes N cited claims.

    Articles made in one test share one author and one reviewer unless given others."""
    staff = {}

    def shared(role, create):
        if role not in staff:
            staff[role] = create()
        return staff[role]

    def make(
        slug=None,
        *,
        title="Acupuncture and back pain",
        summary="What studies found.",
        body=None,
        citations=3,
        status="published",
        author=None,
        reviewer=None,
        topic=None,
        approval=None,
        **fields,
    ):
        """`status` is how far through the workflow to take it: draft, in_review,
        approved or published (the default)."""
        approval = approval or {}
        if author is None:
            author = shared("author", lambda: make_user(groups=["Authors"]))
        if body is None:
            studies = [make_study() for _ in range(citations)]
            body = "\n\n".join(
                f"Claim number {i} about back pain [@{study.key}]."
                for i, study in enumerate(studies, start=1)
            )
        if topic is None:
            topic, _ = Topic.objects.get_or_create(
                slug="research-explained", defaults={"name": "Research explained"}
            )
        article = Article.objects.create(
            slug=slug or f"article-{next(_numbers)}", author=author, topic=topic, **fields
        )
        workflow.save_draft(article, title=title, summary=summary, body=body, by=author)
        if status in ("in_review", "approved", "published"):
            workflow.submit_for_review(article, by=author)
        if status in ("approved", "published"):
            if reviewer is None:
                reviewer = shared("reviewer", make_reviewer)
            article.refresh_from_db()
            review_everything(article, reviewer)
            workflow.approve(article, by=reviewer, **approval)
        if status == "published":
            workflow.publish(article, by=reviewer)
        article.refresh_from_db()
        return article

    return make


# Screening: the intake form and the staff who handle submissions.

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


def redis_cache(prefix):
    """A cache client on the local Redis, as production settings choose for a redis:// URL."""
    from clinic.redis_cache import RedisCache

    return RedisCache("redis://127.0.0.1:6379/0", {"KEY_PREFIX": prefix})


@pytest.fixture
def two_servers(monkeypatch):
    """Two app servers' cache clients on one Redis; `two_servers("a")` or `("b")` picks the
    server whose client the page cache uses from then on."""
    from clinic import page_cache

    prefix = f"test-{uuid.uuid4().hex}"
    server_a, server_b = redis_cache(prefix), redis_cache(prefix)
    try:
        server_a.set("ping", 1)
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"Redis is not reachable on 127.0.0.1:6379: {exc}")
    current = {"server": server_a}
    monkeypatch.setattr(page_cache, "_cache", lambda: current["server"])

    def on(server):
        current["server"] = server_a if server == "a" else server_b

    yield on
    redis = server_a._cache.get_client(write=True)
    for key in redis.scan_iter(f"{prefix}:*"):
        redis.delete(key)


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


# Debian's build of Chromium's headless shell (package chromium-headless-shell), which is what
# Playwright runs for headless tests: the same Blink and V8 as the full browser without its
# windowing layers, at about half the CPU per page. The full browser does when it is missing.
CHROMIUM_BINARIES = [
    Path("/usr/lib/chromium/chromium-headless-shell"),
    Path("/usr/bin/chromium"),
]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # One renderer process for the live server's pages, not one per navigation.
    "--process-per-site",
]


class BrowserSession:
    """Chromium under Playwright, with one context and one tab, for a run of browser tests in
    one process.

    It starts for the first browser test and stops when the next test is not a browser test
    (`pytest_runtest_teardown` below), when a test leaves it in a state it cannot be handed on
    in, and when the session ends: a launch costs about as much as a browser test, but while
    Playwright runs, its event loop counts as running, so no other test may run under it.
    `--dist worksteal` hands each worker consecutive tests, so a worker usually starts it once.
    A new tab starts a renderer process, several times what loading a page costs; the tab is
    handed to each test as a new visitor would have it (`browser_page`).
    """

    def __init__(self):
        self._playwright = None
        self.browser = self.context = self.tab = self.devtools = None

    def start(self):
        """Launch Chromium if it is not running; returns the browser."""
        if self.browser is not None:
            return self.browser
        binary = next((path for path in CHROMIUM_BINARIES if path.exists()), None)
        if binary is None:
            pytest.skip(
                "needs Debian's chromium-headless-shell or chromium "
                "(apt-get install chromium-headless-shell)"
            )
        # Playwright's event loop would make Django refuse ORM calls made by the test itself.
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        from playwright.sync_api import sync_playwright

        # While Playwright's event loop runs, Django looks connections up in a context variable
        # instead of the thread, and would open new ones: those lack the copy of the migrated
        # data that serialized_rollback restores, and PostgreSQL could not drop the test
        # database while they stay open. Keep using the connections the test database was set
        # up with.
        outer = {alias: connections[alias] for alias in connections}
        self._playwright = sync_playwright().start()
        for alias, outer_connection in outer.items():
            connections[alias] = outer_connection
        try:
            self.browser = self._playwright.chromium.launch(
                executable_path=str(binary), args=CHROMIUM_ARGS
            )
            self.context = self.browser.new_context()
            self.new_tab()
        except BaseException:
            self.stop()
            raise
        return self.browser

    def new_tab(self):
        """Open the shared tab (again, if a test closed it)."""
        self.tab = self.context.new_page()
        # The DevTools protocol clears what a context keeps between pages: cache and storage.
        self.devtools = self.context.new_cdp_session(self.tab)

    def stop(self):
        """Close Chromium and Playwright's event loop, if they run."""
        if self._playwright is None:
            return
        try:
            if self.browser is not None:
                self.browser.close()
        finally:
            self._playwright.stop()
            self._playwright = None
            self.browser = self.context = self.tab = self.devtools = None
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            _wait_for_live_server_requests()


def _wait_for_live_server_requests(timeout=10):
    """Let the live server finish the requests of a browser that has just closed.

    The live server answers each connection in a daemon thread, which stopping the server does
    not wait for. A thread still closing a connection Chromium kept alive would close the
    shared in-memory SQLite connection after the live server stopped sharing it, and fail
    ("DatabaseWrapper objects created in a thread can only be used in that same thread").
    With the browser gone its connections are closed, so these threads end at once.
    """
    for thread in threading.enumerate():
        if thread.name.endswith("(process_request_thread)"):
            thread.join(timeout)


BROWSER = BrowserSession()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Stop Chromium after the last of a run of browser tests, once the test's fixtures are
    torn down (even when that failed)."""
    try:
        return (yield)
    finally:
        if not uses(nextitem, "chromium"):
            BROWSER.stop()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session):
    """Stop Chromium before the test databases go, also when `-x` ended the run early."""
    BROWSER.stop()


@pytest.fixture(scope="session")
def _chromium_stops_before_the_live_server(live_server):
    """Stop Chromium, and let the live server finish its requests, before the live server
    stops (at the end of the run, when pytest tears down everything after the last test)."""
    yield
    BROWSER.stop()


@pytest.fixture
def chromium(settings, _chromium_stops_before_the_live_server):
    """Debian's Chromium driven by Playwright (downloaded browsers do not work here).

    Use with `live_server` and `django_db(transaction=True, serialized_rollback=True)`. Most
    tests open pages with `browser_page`; a test that needs a context of its own closes it.
    """
    # The live server speaks plain HTTP.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    # Each test is a new visitor, so no public page may come from an earlier test's copy:
    # browsers must ask again every time (the ETag still gives a 304 for an unchanged page).
    # Static files stay cached across tests, as they do for a real visitor going from page to
    # page: clearing the whole browser cache for each test cost Chromium a tenth of its CPU
    # time in recompiling the admin's scripts.
    settings.HTTP_CACHE_MAX_AGE = settings.HTTP_CACHE_STALE_SECONDS = 0
    return BROWSER.start()


@pytest.fixture
def browser_page(chromium, live_server):
    """A function that opens a page as a new visitor to the live server: a blank tab with no
    cookies or storage and no cached page (static files stay cached; see `chromium`), a window
    `width` by `height` pixels, with JavaScript on unless `javascript=False`, signed in as
    `user` if one is given. `page.base_url` is the live server's address.

    The first page is the shared tab; more open in new tabs, closed when the test ends. All
    share one visitor's cookies, so a test signs in one user."""
    if BROWSER.tab.is_closed():
        BROWSER.new_tab()
    context, tab, devtools = BROWSER.context, BROWSER.tab, BROWSER.devtools
    context.clear_cookies()
    devtools.send("Storage.clearDataForOrigin", {"origin": live_server.url, "storageTypes": "all"})
    opened = []

    def open_page(*, width=1024, height=900, user=None, javascript=True):
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
            )
        page = context.new_page() if opened else tab
        opened.append(page)
        page.set_viewport_size({"width": width, "height": height})
        page.set_default_timeout(15_000)
        # What Playwright's `java_script_enabled` sends, for this tab alone. Said every time on
        # the shared tab, so that it never keeps an earlier test's choice; a new tab starts on.
        if page is tab or not javascript:
            page_devtools = devtools if page is tab else context.new_cdp_session(page)
            page_devtools.send("Emulation.setScriptExecutionDisabled", {"value": not javascript})
        page.base_url = live_server.url
        return page

    yield open_page
    try:
        for page in opened[1:]:
            page.close()
        # Leave the site before the test's database is emptied, and forget this tab's session
        # storage with it (a new page in the same tab would otherwise find it).
        if tab.url.startswith(live_server.url):
            tab.evaluate("sessionStorage.clear()")
        tab.goto("about:blank")
    except Exception:
        # A tab that cannot be handed on is not: the next browser test gets a new Chromium.
        BROWSER.stop()
        raise


AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def axe_scan():
    """A function that runs axe-core (WCAG 2.x A and AA, and best practices) on a Playwright
    page and returns the violations found, shortened for a readable assertion.

    axe-core comes from npm (`npm install --no-save axe-core@4` in the project folder; `.ci/run`
    does it); without it the test is skipped with the reason. It is injected through the
    DevTools protocol (`page.evaluate`), which the page's Content Security Policy does not
    govern: the pages under test keep their real CSP, with no inline script allowed.
    """
    if not AXE.exists():
        pytest.skip("needs axe-core: run `npm install --no-save axe-core@4` in the project folder")
    source = AXE.read_text()

    def scan(page) -> list[dict]:
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(source)
        # Only violations are read: axe then skips listing every passing node, which is
        # most of its work on a long admin page.
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [
            {
                "id": violation["id"],
                "impact": violation["impact"],
                "help": violation["help"],
                "nodes": [node["target"] for node in violation["nodes"]][:10],
            }
            for violation in result["violations"]
        ]

    return scan


def review_url(article):
    """The article's review screen in the admin."""
    return reverse("admin:articles_article_review", args=[article.pk])


def review_post(client, article, changes=None, **button):
    """Post the review screen as a browser would: every field as shown, with `changes`
    applied ({study key or claim ordinal: {field: value}}), and the button pressed."""
    url = review_url(article)
    forms = client.get(url).context["forms"]
    data = {}
    for formset in (forms.citations, forms.claims):
        management = formset.management_form
        data.update(
            {management[name].html_name: management[name].value() for name in management.fields}
        )
        for form in formset:
            row = form.instance.study.key if formset is forms.citations else form.instance.ordinal
            values = {name: form[name].value() for name in form.fields}
            values.update((changes or {}).get(row, {}))
            data.update({f"{form.prefix}-{name}": value or "" for name, value in values.items()})
    data.update(button or {"_save_review": "Save"})
    return client.post(url, data, follow=True)
