"""The release fixtures of tests/exports (storage on a temporary directory, a signing key, releases
built in-process), shared with the erasure tests."""

from tests.exports.test_release_service import create_release, release_storage  # noqa: F401
