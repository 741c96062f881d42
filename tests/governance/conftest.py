"""Fixtures shared with other suites: the release fixtures of tests/exports (storage on a temporary
directory, a signing key, releases built in-process) and the moto S3 bucket sources of
tests/annotation."""

from tests.annotation.conftest import make_source, s3  # noqa: F401
from tests.exports.test_release_service import create_release, release_storage  # noqa: F401
