"""/api/projects/<id>/releases/: create, list, read (with manifest), download, verify, diff, retry.

Thin adapters: rules in exports.services, reads in exports.selectors, who may do what in
projects.access. Access (docs/RELEASES.md): managers (and organisation admins) create and retry;
managers and reviewers, in the browser or with an API token, read, download, verify and diff
(ProjectAction.VIEW_ANNOTATIONS: a release holds everyone's labels, which annotators do not see).
Outside the project everything is 404; an annotator gets 403.

Downloads from local storage are streamed in chunks (also under ASGI) with single-range support
(206 + Content-Range, 416 for a range that is malformed or outside the file; If-Range with the
file's ETag, which is its SHA-256); from S3 they are a 302 to a presigned URL (S3 serves ranges).
"""

import re

from django.core.files.storage import default_storage
from django.http import HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import AnyAcceptNegotiation
from core.downloads import protect_download
from core.exceptions import DomainError
from core.pagination import DefaultPagination
from core.serializers import StrictInputSerializer
from core.streaming import is_asgi, stream_response
from exports.formats import FORMATS
from exports.manifest import check_relative_path
from projects.access import ProjectAction
from projects.api.bases import ProjectScopedViewSet

from . import selectors, services
from .models import Release

CHUNK_SIZE = 256 * 1024
READ = ProjectAction.VIEW_ANNOTATIONS
WRITE = ProjectAction.UPDATE
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CONTENT_TYPES = {
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".csv": "text/csv; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".yaml": "application/yaml",
    ".conll": "text/plain; charset=utf-8",
}


class ReleaseCreateInputSerializer(StrictInputSerializer):
    name = serializers.CharField(
        max_length=200, help_text="Letters, digits, '-', '_' and '.'; unique in the project."
    )
    formats = serializers.ListField(
        child=serializers.CharField(max_length=50),
        allow_empty=False,
        help_text=f"Any of: {', '.join(FORMATS)}. jsonl is always included.",
    )
    filter = serializers.JSONField(
        required=False,
        help_text='{"reviewed": true, "gold": true, "split": "train", "min_agreement": 0.8, '
        '"created_from": "2026-01-01", "created_until": "2026-03-31"}; every key optional.',
    )
    include_raw = serializers.BooleanField(default=False, help_text="Add each item's raw annotations.")
    include_media = serializers.BooleanField(
        default=True,
        help_text="Copy each item's stored media file (uploads, bucket objects) into the release as "
        "media/<item id><ext> (YOLO and VOC also lay the images out next to their labels). "
        "false: labels only; bucket media keep their s3:// reference.",
    )
    licence = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="The release's licence as an SPDX expression (CC-BY-4.0, MIT OR Apache-2.0, "
        "LicenseRef-<name>); checked against the SPDX list and normalised. Empty: not stated.",
    )
    languages = serializers.ListField(
        child=serializers.CharField(max_length=35),
        required=False,
        max_length=20,
        help_text='BCP 47 language tags of the data, e.g. ["en", "pt-BR"].',
    )
    intended_uses = serializers.CharField(
        required=False, allow_blank=True, max_length=5000, help_text="What the data is for (dataset card)."
    )
    limitations = serializers.CharField(
        required=False, allow_blank=True, max_length=5000, help_text="Known gaps and biases (dataset card)."
    )


class ReleaseProgressSerializer(serializers.Serializer):
    records_done = serializers.IntegerField(help_text="Records written, over every format's pass.")
    records_total = serializers.IntegerField(help_text="Items to read times the number of formats.")


class ReleaseOutputSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username", default=None, read_only=True)
    superseded_by = serializers.IntegerField(
        source="superseded_by.number",
        default=None,
        read_only=True,
        help_text="The number of the release that replaced this one after an erasure; null otherwise.",
    )
    supersedes = serializers.JSONField(
        read_only=True,
        help_text='What this release replaces and why: [{"number", "name", "reason", "erased_items"}].',
    )
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = [
            "number",
            "name",
            "status",
            "formats",
            "filter",
            "include_raw",
            "include_media",
            "licence",
            "languages",
            "intended_uses",
            "limitations",
            "requested_by",
            "created_at",
            "started_at",
            "published_at",
            "attempts",
            "records_done",
            "records_total",
            "progress",
            "error",
            "withdrawn_at",
            "erased_items",
            "superseded_by",
            "supersedes",
        ]
        read_only_fields = fields

    @extend_schema_field(ReleaseProgressSerializer(allow_null=True))
    def get_progress(self, release: Release) -> dict | None:
        """The live progress of a build (records written over all passes), null otherwise."""
        if release.status != Release.Status.BUILDING:
            return None
        return services.release_progress(release=release)


class ReleaseFileSerializer(serializers.Serializer):
    path = serializers.CharField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()


class ReleaseDetailSerializer(ReleaseOutputSerializer):
    manifest = serializers.JSONField(read_only=True)
    files = ReleaseFileSerializer(many=True, read_only=True)

    class Meta(ReleaseOutputSerializer.Meta):
        fields = [*ReleaseOutputSerializer.Meta.fields, "manifest", "files"]
        read_only_fields = fields


class VerifySerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())
    files = serializers.IntegerField()
    merkle_root = serializers.CharField()
    key_id = serializers.CharField()


class PublicKeySerializer(serializers.Serializer):
    key_id = serializers.CharField()
    public_key_pem = serializers.CharField()


class ReproductionFileSerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    size = serializers.IntegerField()


class ReproductionDifferenceSerializer(serializers.Serializer):
    path = serializers.CharField()
    expected = ReproductionFileSerializer(allow_null=True, help_text="As published; null: not published")
    actual = ReproductionFileSerializer(allow_null=True, help_text="As rebuilt; null: not rebuilt")


class ReproductionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    release_id = serializers.IntegerField()
    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["queued", "running", "done", "failed"])
    identical = serializers.BooleanField(allow_null=True, help_text="Once done: every file byte-identical")
    files = serializers.IntegerField(help_text="Files compared (manifest.json included)")
    differences = ReproductionDifferenceSerializer(many=True)
    error = serializers.CharField()
    created_at = serializers.CharField()
    finished_at = serializers.CharField(allow_null=True)
    progress = ReleaseProgressSerializer()


class ReleaseViewSet(ProjectScopedViewSet):
    """/api/projects/<id>/releases/<number>/"""

    serializer_class = ReleaseOutputSerializer
    pagination_class = DefaultPagination
    lookup_field = "number"
    lookup_value_regex = r"\d+"

    def get_content_negotiator(self):
        if getattr(self, "action", None) == "download":
            return AnyAcceptNegotiation()
        return super().get_content_negotiator()

    def _release(self, action_: ProjectAction = READ) -> Release:
        project = self._project(action_)
        return selectors.release_get(project=project, number=int(self.kwargs["number"]))

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # OpenAPI generation
            return Release.objects.none()
        return selectors.release_list(project=self._project(READ))

    @extend_schema(summary="List the project's releases, newest first")
    def list(self, request, project_pk=None):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ReleaseOutputSerializer(page, many=True).data)

    @extend_schema(
        summary="Request a release: it is built in the background and appears when complete",
        request=ReleaseCreateInputSerializer,
        responses={202: ReleaseOutputSerializer},
    )
    def create(self, request, project_pk=None):
        project = self._project(WRITE)
        payload = ReleaseCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        release = services.release_create(project=project, actor=request.user, **payload.validated_data)
        return Response(ReleaseOutputSerializer(release).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="A release with its manifest and files", responses={200: ReleaseDetailSerializer})
    def retrieve(self, request, project_pk=None, number=None):
        release = self._release()
        return Response(ReleaseDetailSerializer(release).data)

    @extend_schema(
        summary="Build a failed release again, or one whose build died",
        request=None,
        responses={202: ReleaseOutputSerializer},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, project_pk=None, number=None):
        release = services.release_retry(release=self._release(WRITE), actor=request.user)
        return Response(ReleaseOutputSerializer(release).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        methods=["POST"],
        summary="Rebuild a published release in the background and compare it with what was published",
        request=None,
        responses={202: ReproductionSerializer},
    )
    @extend_schema(
        methods=["GET"],
        summary="The latest rebuild of the release: status, progress, identical or the files that differ",
        responses={200: ReproductionSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def reproduce(self, request, project_pk=None, number=None):
        if request.method == "POST":
            reproduction = services.release_reproduce_request(
                release=self._release(WRITE), actor=request.user
            )
            return Response(services.reproduction_summary(reproduction), status=status.HTTP_202_ACCEPTED)
        reproduction = selectors.reproduction_latest(release=self._release(WRITE))
        if reproduction is None:
            raise DomainError("not_reproduced", "This release has not been rebuilt yet.", status_code=404)
        return Response(services.reproduction_summary(reproduction))

    @extend_schema(
        summary="Re-hash the stored files and check the manifest's signature; names every tampered file",
        request=None,
        responses={200: VerifySerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def verify(self, request, project_pk=None, number=None):
        return Response(services.release_verify(release=self._release()))

    @extend_schema(
        summary="What changed since another release: items added, removed, relabelled, label counts",
        parameters=[
            OpenApiParameter(
                "against", int, OpenApiParameter.QUERY, required=True, description="Older release"
            )
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def diff(self, request, project_pk=None, number=None):
        release = self._release()
        against = request.query_params.get("against", "")
        if not (against.isascii() and against.isdecimal() and len(against) <= 9):
            raise DomainError("bad_against", "against must be the number of another release of this project.")
        old = selectors.release_get(project=release.project, number=int(against))
        return Response(services.release_diff(old=old, new=release))

    @extend_schema(
        summary="The server's release-signing public key (compare its key_id with the manifest's)",
        responses={200: PublicKeySerializer},
    )
    @action(detail=False, methods=["get"], url_path="public-key")
    def public_key(self, request, project_pk=None):
        self._project(READ)
        return Response(services.signing_public_key_info())

    @extend_schema(
        summary="Download one file of a published release (HTTP Range supported, or a presigned redirect)",
        parameters=[
            OpenApiParameter("path", str, OpenApiParameter.PATH, description="e.g. jsonl/train.jsonl"),
            OpenApiParameter("Range", str, OpenApiParameter.HEADER, required=False, description="bytes=N-"),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(response=OpenApiTypes.BINARY),
            (206, "application/octet-stream"): OpenApiResponse(response=OpenApiTypes.BINARY),
            302: OpenApiResponse(description="Redirect to a presigned URL that expires (S3 storage)"),
            403: OpenApiResponse(
                description="release_personal_data: a data file of a release that holds raw personal data, "
                "asked by someone the project shows placeholders to"
            ),
            416: OpenApiResponse(description="The range is malformed or outside the file"),
        },
    )
    def download(self, request, project_pk=None, number=None, path=None):  # routed in config/api_urls.py
        release = self._release()
        try:
            check_relative_path(path or "")
        except ValueError:
            raise DomainError("not_found", "Not found.", status_code=404) from None
        stored = selectors.release_file_get(release=release, path=path)
        selectors.release_file_ensure_readable(release=release, path=stored.path, viewer=request.user)
        return protect_download(_download(request, release, stored))


def _download(request, release: Release, stored) -> HttpResponse:
    name = f"{release.storage_prefix}{stored.path}"
    filename = f"{release.name}-{stored.path.replace('/', '-')}"
    if services.is_remote_storage():
        url = default_storage.url(
            name, parameters={"ResponseContentDisposition": content_disposition_header(True, filename)}
        )
        response = HttpResponseRedirect(url)
        response["Cache-Control"] = "no-store"
        return response
    etag = f'"{stored.sha256}"'
    size = stored.size
    start, end = 0, size - 1
    partial = False
    header = request.headers.get("Range", "")
    if_range = request.headers.get("If-Range", "")
    if header and (not if_range or if_range == etag) and "," not in header:
        match = _RANGE.match(header.strip())
        first, last = (match.group(1), match.group(2)) if match else ("", "")
        if not match or (not first and not last):
            return _unsatisfiable(size)
        if first:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
            if start >= size or (last and int(last) < start):
                return _unsatisfiable(size)
        else:
            suffix = int(last)
            if suffix == 0:
                return _unsatisfiable(size)
            start = max(size - suffix, 0)
        partial = True
    file = default_storage.open(name, "rb")
    file.seek(start)
    remaining = [end - start + 1]

    def read() -> bytes:
        if remaining[0] <= 0:
            return b""
        chunk = file.read(min(CHUNK_SIZE, remaining[0]))
        remaining[0] -= len(chunk)
        return chunk

    suffix = "." + stored.path.rsplit(".", 1)[-1] if "." in stored.path else ""
    content_type = _CONTENT_TYPES.get(suffix, "application/octet-stream")
    response = stream_response(read, file.close, content_type, asgi=is_asgi(request))
    if partial:
        response.status_code = status.HTTP_206_PARTIAL_CONTENT
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=3600"  # a published file never changes
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _unsatisfiable(size: int) -> HttpResponse:
    response = HttpResponse(status=status.HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE)
    response["Content-Range"] = f"bytes */{size}"
    response["Accept-Ranges"] = "bytes"
    return response
