"""What an import reports while it reads: the error report (CSV, spreadsheet-safe), a byte-counting reader."""

import csv
import io
import tempfile

from django.conf import settings

from core.spreadsheet import spreadsheet_safe


class _ErrorReport:
    """Collects row errors into a CSV (spooled to disk when large) plus a small sample for the API."""

    def __init__(self) -> None:
        # Closed in _finish, after the report is stored.
        self.file = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=1024 * 1024, mode="w+", newline="", encoding="utf-8"
        )
        self.writer = csv.writer(self.file)
        self.writer.writerow(["line", "field", "reason"])
        self.count = 0
        self.lines: set[int] = set()
        self.sample: list[dict] = []

    def add(self, line: int, field: str, reason: str) -> None:
        self.count += 1
        if len(self.lines) < 10_000_000:
            self.lines.add(line)
        self.writer.writerow([line, spreadsheet_safe(field), spreadsheet_safe(reason)])
        if len(self.sample) < settings.ANNOTATION_IMPORT_ERROR_SAMPLE:
            self.sample.append({"line": line, "field": field, "reason": reason})


class _CountingReader(io.RawIOBase):
    """Counts bytes read from the stored file, for the progress bar."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.bytes_read += size
        return size
