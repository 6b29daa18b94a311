"""The digest under which a migrated test database is kept between runs
(tests/database_template.py): any change that could change the migrated database gives a new
one, so a stale copy is never used."""

import pytest

from tests import database_template


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder of its own, with one app module and one test module."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "models.py").write_text("FIELDS = 1\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_app.py").write_text("def test_it(): pass\n")
    (tmp_path / ".venv").mkdir()
    monkeypatch.setattr(database_template, "BASE_DIR", tmp_path)
    return tmp_path


def key(engine="sqlite 3.40"):
    return database_template.migrations_key.__wrapped__(engine)


def test_same_files_same_key(project):
    assert key() == key()


def test_a_change_to_project_code_gives_a_new_key(project):
    before = key()
    (project / "app" / "models.py").write_text("FIELDS = 2\n")
    assert key() != before


def test_a_new_project_module_gives_a_new_key(project):
    before = key()
    (project / "app" / "migrations.py").write_text("")
    assert key() != before


def test_another_engine_or_version_gives_a_new_key(project):
    assert key("sqlite 3.40") != key("sqlite 3.45") != key("postgresql 15")


def test_test_modules_and_the_virtualenv_do_not_count(project):
    before = key()
    (project / "tests" / "test_app.py").write_text("def test_other(): pass\n")
    (project / "tests" / "test_more.py").write_text("")
    (project / ".venv" / "site.py").write_text("")
    assert key() == before


def test_test_settings_count(project):
    before = key()
    (project / "tests" / "settings.py").write_text("DEBUG = False\n")
    assert key() != before


def test_another_django_version_gives_a_new_key(project, monkeypatch):
    before = key()
    monkeypatch.setattr(database_template.django, "get_version", lambda: "0.0")
    assert key() != before


def test_every_installed_apps_migrations_are_read():
    files = {path.as_posix() for path in database_template.key_files()}
    for migration in [
        "articles/migrations/0001_initial.py",
        "screening/migrations/0002_default_questionnaire.py",
        "django/contrib/auth/migrations/0001_initial.py",
        "axes/migrations/0001_initial.py",
    ]:
        assert any(path.endswith(migration) for path in files), migration
    assert not any("/tests/test_" in path for path in files)


def test_a_kept_file_replaces_older_copies_and_leftovers_whole(tmp_path):
    (tmp_path / "migrated-default-old.sqlite3").write_text("old copy")
    (tmp_path / "migrated-default-old.sqlite3.4242").write_text("half written by a killed run")
    (tmp_path / "migrated-other-old.sqlite3").write_text("another database's copy")
    target = tmp_path / "migrated-default-new.sqlite3"
    seen_during_write = []

    def write(path):
        seen_during_write.append(target.exists())
        path.write_text("new copy")

    database_template.replace_kept(target, "migrated-default-*.sqlite3*", write)

    assert seen_during_write == [False]  # never a half-written file under the target's name
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "migrated-default-new.sqlite3",
        "migrated-other-old.sqlite3",
    ]
    assert target.read_text() == "new copy"
