"""What parsers yield. Pure: no Django imports."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Record:
    """One item as read from a file, before validation against the project."""

    line: int  # 1-based line (JSONL, CSV, text) or record position (JSON array) in the file
    data: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None
    predictions: list[Any] = field(default_factory=list)  # Label Studio "predictions"
    annotations: list[Any] = field(default_factory=list)  # Label Studio "annotations"
    provenance: dict[str, Any] = field(
        default_factory=dict
    )  # licence, consent, synthetic, generator if given
    media: "MediaFile | None" = None  # the stored file of a media item (media and zip imports)


@dataclass(slots=True, frozen=True)
class MediaFile:
    """A checked media file, already in storage: what the item row records about it."""

    name: str  # storage name (Item.media)
    media_type: str  # image, audio, video, text
    size: int  # bytes
    sha256: str  # of the bytes: the item's checksum and content hash (exact-duplicate key)
    image_hash: int | None  # 64-bit dHash as a signed integer, images only
    source_ref: str  # "photos.zip:cats/1.png", or the uploaded file's name


@dataclass(slots=True, frozen=True)
class RowError:
    """Why one record cannot be imported. `field` is "" when the whole line is broken."""

    line: int
    field: str
    reason: str


class FileError(Exception):
    """The file as a whole cannot be read (wrong encoding, not the declared format, too large)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message
