"""Media of an import: URL references checked through the egress guard, files stored under a safe name."""

import logging
import socket
from pathlib import PurePosixPath

from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.utils.text import get_valid_filename

from core import egress

from ...models import ImportJob, Item
from .. import media
from ..loader import NO_MEDIA
from ..records import Record
from .reports import _ErrorReport

logger = logging.getLogger(__name__)

MAX_MEDIA_URL = 2000  # Item.media_url


class _MediaReferences:
    """Media URLs in records ("image"/"audio"/"video": "https://..."), checked with the egress guard.

    A URL that is refused (scheme, shape, or a host resolving to a blocked address such as
    127.0.0.1 or 169.254.169.254) is an error for its line. DNS answers are remembered for the
    job, so a million records on one host resolve it once. `resolver` is core.egress's: tests
    inject one and never touch real DNS.
    """

    MAX_HOSTS = 10_000  # answers remembered per job

    def __init__(self, resolver: egress.Resolver | None):
        self._resolver = resolver or _system_resolver
        self._answers: dict[tuple[str, int], list[str] | None] = {}  # None: does not resolve

    def columns(self, record: Record, report: _ErrorReport) -> tuple | None:
        """The media columns of `record`'s staging row, or None after reporting why it is refused."""
        references = media.media_references(record.data)
        if not references:  # e.g. {"image": "a cat on a mat"}: plain data
            return NO_MEDIA
        if len(references) > 1:
            report.add(record.line, f"data.{references[1][0]}", "an item has one media URL, not several")
            return None
        key, url = references[0]
        if len(url) > MAX_MEDIA_URL:
            report.add(record.line, f"data.{key}", f"the URL is longer than {MAX_MEDIA_URL} characters")
            return None
        try:
            egress.check_url(url, resolver=self._resolve)
        except egress.EgressError as error:
            report.add(record.line, f"data.{key}", error.message)
            return None
        return ("", url, key, None, None)

    def _resolve(self, host: str, port: int) -> list[str]:
        key = (host, port)
        if key in self._answers:
            answer = self._answers[key]
        else:
            try:
                answer = list(self._resolver(host, port))
            except (OSError, UnicodeError):
                answer = None
            if len(self._answers) < self.MAX_HOSTS:
                self._answers[key] = answer
        if answer is None:
            raise OSError(f"{host} does not resolve")  # the guard reports it as egress_dns
        return answer


def _system_resolver(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


class _MediaStore:
    """Stores the media files of one ZIP import under media/import-<job id>/, and removes them again
    unless an item of the job keeps them (the import failed, or the item was a duplicate).

    Files whose bytes an item of the project has already are not stored at all; a file that occurs
    twice in the archive is stored once.
    """

    def __init__(self, job: ImportJob):
        self.job = job
        self.storage = Item._meta.get_field("media").storage
        self.prefix = f"media/import-{job.id}/"
        self.saved: list[str] = []
        self._by_hash: dict[str, str] = {}

    def remove_leftovers(self) -> None:
        """Files of an earlier attempt of this job that was killed midway (its items rolled back)."""
        try:
            _, files = self.storage.listdir(self.prefix)
        except (FileNotFoundError, NotImplementedError):
            return
        for name in files:
            self.storage.delete(f"{self.prefix}{name}")

    def save(self, path: str, file, inspected: media.Inspected) -> str:
        known = self._by_hash.get(inspected.sha256)
        if known is not None:
            return known
        if Item.objects.filter(project_id=self.job.project_id, content_hash=inspected.sha256).exists():
            name = ""  # the item exists: this record is a duplicate and is skipped
        else:
            stem = _safe_stem(path)
            name = self.storage.save(
                f"{self.prefix}{len(self.saved) + 1:06d}-{stem}{inspected.extension}", File(file)
            )
            self.saved.append(name)
        self._by_hash[inspected.sha256] = name
        return name

    def discard(self, *, keep_used: bool) -> None:
        used: set[str] = set()
        if keep_used:
            items = Item.objects.filter(import_job_id=self.job.id).exclude(media="")
            used = set(items.values_list("media", flat=True))
        for name in self.saved:
            if name not in used:
                try:
                    self.storage.delete(name)
                except Exception:
                    logger.exception("import job %s: could not delete media file %s", self.job.id, name)


def _safe_stem(path: str) -> str:
    try:
        return get_valid_filename(PurePosixPath(path).stem)[:80]
    except SuspiciousFileOperation:
        return "file"
