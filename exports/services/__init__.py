"""Releases: create, build, publish, verify, reproduce and diff (docs/RELEASES.md).

The build streams the project's items with their consensus (and annotations) from one database
snapshot through every chosen format into a fresh prefix of default_storage, then writes
croissant.json, DATASHEET.md and the signed manifest.json, and publishes by flipping the release row
in one transaction. Until then nothing of the release is served. A build that fails deletes its
files; a build that was killed leaves them under its prefix, and the retry deletes them first.

By responsibility: create.py (request, retry; validation.py checks what a request says), build.py
(the worker's build job, lock, progress), writer.py (every file of a release, signed: reading.py
streams the records, media.py copies the media, storage.py and signing.py), verify.py,
reproduce.py, diff.py. This module is the API other modules use.
"""

from .build import release_build, release_progress
from .create import BUILD_TASK, release_create, release_retry
from .diff import release_diff
from .erasure import WithdrawnRelease, releases_holding, releases_withdraw_for_erasure
from .reproduce import (
    release_reproduce,
    release_reproduce_request,
    release_reproduce_run,
    reproduction_summary,
)
from .signing import signing_public_key_info
from .storage import is_remote_storage
from .verify import release_verify

__all__ = [
    "BUILD_TASK",
    "WithdrawnRelease",
    "is_remote_storage",
    "release_build",
    "release_create",
    "release_diff",
    "release_progress",
    "release_reproduce",
    "release_reproduce_request",
    "release_reproduce_run",
    "release_retry",
    "release_verify",
    "releases_holding",
    "releases_withdraw_for_erasure",
    "reproduction_summary",
    "signing_public_key_info",
]
