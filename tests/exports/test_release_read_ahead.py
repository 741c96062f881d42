"""The build's read-ahead thread (PostgreSQL): a second connection imports the build's snapshot and
reads the next chunks while the current one is written. It must change nothing in the files, and a
read error in it must fail the build cleanly (no thread or connection left behind)."""

import threading
from unittest import mock

import pytest
from django.db import connection

from exports import services
from exports.models import Release
from tests.exports.test_release_service import create_release, lab, release_storage  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the read-ahead shares a PostgreSQL snapshot (pg_export_snapshot)")


def _format_files(root, release) -> dict[str, bytes]:
    base = root / release.storage_prefix
    return {
        str(path.relative_to(base)): path.read_bytes()
        for folder in ("jsonl", "csv")
        for path in sorted((base / folder).rglob("*"))
        if path.is_file()
    }


def test_read_ahead_builds_the_same_files_as_one_connection(lab, create_release, release_storage, settings):  # noqa: F811
    settings.EXPORTS_BUILD_CHUNK = 2  # several chunks, so the thread really reads ahead
    settings.EXPORTS_BUILD_READ_AHEAD = True
    ahead = create_release(name="ahead", formats=("jsonl", "csv"), include_raw=True)
    settings.EXPORTS_BUILD_READ_AHEAD = False
    single = create_release(name="single", formats=("jsonl", "csv"), include_raw=True)
    assert ahead.status == single.status == Release.Status.PUBLISHED
    files = _format_files(release_storage, ahead)
    assert files and files == _format_files(release_storage, single)


def test_a_read_error_in_the_read_ahead_thread_fails_the_build_and_leaves_nothing_running(
    lab,  # noqa: F811 (the fixtures of test_release_service, imported above)
    create_release,  # noqa: F811
    release_storage,  # noqa: F811
    settings,
):
    from quality import selectors_export

    settings.EXPORTS_BUILD_CHUNK = 2
    settings.EXPORTS_BUILD_READ_AHEAD = True
    real = selectors_export.export_consensus
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the read-ahead connection broke")
        return real(*args, **kwargs)

    with mock.patch.object(selectors_export, "export_consensus", failing):
        try:
            release = create_release(name="broken", formats=("jsonl",))
        except RuntimeError:
            release = Release.objects.get(name="broken")
    release.refresh_from_db()
    assert calls["n"] >= 2
    assert release.status != Release.Status.PUBLISHED
    assert not release.files.exists()
    assert not [t for t in threading.enumerate() if t.name.startswith("release-read-ahead") and t.is_alive()]
    # and a retry (the connection is fine again) publishes
    retried = services.release_retry(release=release, actor=release.requested_by)
    services.release_build(release_id=retried.id)
    retried.refresh_from_db()
    assert retried.status == Release.Status.PUBLISHED
