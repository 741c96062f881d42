"""Every list endpoint answers in a number of queries that does not grow with its rows.

Each list endpoint of the OpenAPI schema (a paginated list or an array under GET) is read with 1 row
and with 50; the two query counts must be equal: serializers never query per row, the selectors
prefetch. test_every_list_endpoint_is_measured fails when a new list endpoint has no row maker here.
"""

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.generators import EndpointEnumerator, SchemaGenerator

from accounts.services import api_token_create
from annotation.items.manager_models import ItemBulkAction
from annotation.models import (
    Annotation,
    Assignment,
    BucketSource,
    ImportJob,
    MetadataField,
    NearDuplicateGroup,
    Prediction,
    ReviewDecision,
    SplitOperation,
)
from core.models import AuditEvent
from exports.models import Release
from projects import services as project_services
from projects.models import GuidelineVersion, LabelSchemaVersion, OrganisationMembership
from quality.models import GoldStandard
from tests.factories import (
    OrganisationFactory,
    OrganisationMembershipFactory,
    ProjectFactory,
    ProjectMembershipFactory,
    UserFactory,
    label_schema,
    make_items,
)

pytestmark = pytest.mark.django_db

SMALL, LARGE = 1, 50
_serial = itertools.count(1)


def _schema(people):
    schema = LabelSchemaVersion.objects.filter(project=people.project).order_by("-version").first()
    if schema is None:
        schema = project_services.schema_version_create(
            project=people.project, actor=people.manager, definition=label_schema("positive", "negative")
        )
    return schema


def _guidelines(people):
    guideline = GuidelineVersion.objects.filter(project=people.project).order_by("-version").first()
    return guideline or project_services.guideline_version_create(
        project=people.project, actor=people.manager, body="Read carefully."
    )


def _annotators(people, n):
    return [
        ProjectMembershipFactory(project=people.project, user=UserFactory(), role="annotator").user
        for _ in range(n)
    ]


def _organisations(people, n):
    for _ in range(n):
        organisation = OrganisationFactory(name=f"Org {next(_serial)}", slug=f"org-{next(_serial)}")
        OrganisationMembershipFactory(
            organisation=organisation, user=people.org_admin, role=OrganisationMembership.Role.ADMIN
        )


def _organisation_members(people, n):
    for _ in range(n):
        OrganisationMembershipFactory(organisation=people.organisation, user=UserFactory())


def _audit_events(people, n):
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=people.org_admin,
            actor_label="org_admin",
            organisation=people.organisation,
            project_id=people.project.id,
            action="project.updated",
            target_type="project",
            target_id=str(people.project.id),
            changes={"n": i},
        )
        for i in range(n)
    )


def _projects(people, n):
    for _ in range(n):
        project = ProjectFactory(organisation=people.organisation, name=f"Project {next(_serial)}")
        ProjectMembershipFactory(project=project, user=people.manager, role="manager")


def _assignments(people, n, *, annotator=None, statuses=("submitted", "correction", "leased")):
    """n assignments of `annotator` (default: the project's annotator): by turns submitted (with an
    annotation), in correction (with a rejection) and leased; every item has a model prediction."""
    schema, guideline = _schema(people), _guidelines(people)
    annotator = annotator or people.annotator
    items = make_items(people.project, *[f"text {next(_serial)}" for _ in range(n)])
    now = timezone.now()
    for i, item in enumerate(items):
        status = statuses[i % len(statuses)]
        assignment = Assignment.objects.create(
            project=people.project,
            item=item,
            annotator=annotator,
            status=status,
            leased_at=now,
            lease_expires_at=now + timedelta(hours=1) if status == "leased" else None,
        )
        Prediction.objects.create(
            project=people.project,
            item=item,
            model_name="m",
            model_version="1",
            score=0.5,
            result={"sentiment": "positive"},
            schema_version=schema,
        )
        if status == "leased":
            continue
        annotation = Annotation.objects.create(
            project=people.project,
            item=item,
            assignment=assignment,
            annotator=annotator,
            result={"sentiment": "positive"},
            schema_version=schema,
            guideline_version=guideline,
        )
        if status == "correction":
            ReviewDecision.objects.create(
                annotation=annotation,
                item=item,
                reviewer=people.reviewer,
                decision="reject",
                revision=1,
                reason="wrong_label",
            )


def _annotations(people, n):
    _assignments(people, n, annotator=UserFactory(), statuses=("submitted",))


def _bucket_sources(people, n):
    for _ in range(n):
        BucketSource.objects.create(
            project=people.project, name=f"source-{next(_serial)}", bucket="data", created_by=people.manager
        )


def _gold(people, n):
    schema = _schema(people)
    for item in make_items(people.project, *[f"gold {next(_serial)}" for _ in range(n)], is_gold=True):
        GoldStandard.objects.create(
            project=people.project,
            item=item,
            result={"sentiment": "positive"},
            source="manual",
            schema_version=schema,
            created_by=people.manager,
        )


def _guideline_versions(people, n):
    for _ in range(n):
        project_services.guideline_version_create(project=people.project, actor=people.manager, body="Rules.")


def _imports(people, n):
    ImportJob.objects.bulk_create(
        ImportJob(project=people.project, created_by=people.manager, format="jsonl", original_name="a.jsonl")
        for _ in range(n)
    )


def _items(people, n):
    make_items(people.project, *[f"item {next(_serial)}" for _ in range(n)])


def _members(people, n):
    _annotators(people, n)


def _metadata_fields(people, n):
    MetadataField.objects.bulk_create(
        MetadataField(project=people.project, name=f"field_{next(_serial)}", type="string") for _ in range(n)
    )


def _near_duplicates(people, n):
    for _ in range(n):
        group = NearDuplicateGroup.objects.create(project=people.project, kind="near", similarity=0.9)
        make_items(people.project, f"dup {next(_serial)}", f"dup {next(_serial)}", near_duplicate_group=group)


def _predictions(people, n):
    schema = _schema(people)
    Prediction.objects.bulk_create(
        Prediction(
            project=people.project,
            item=item,
            model_name="m",
            model_version="1",
            score=0.5,
            result={"sentiment": "positive"},
            schema_version=schema,
        )
        for item in make_items(people.project, *[f"p {next(_serial)}" for _ in range(n)])
    )


def _releases(people, n):
    start = Release.objects.filter(project=people.project).count()
    Release.objects.bulk_create(
        Release(
            project=people.project,
            number=start + i + 1,
            name=f"v{start + i + 1}",
            requested_by=people.manager,
            status="published",
            published_at=timezone.now(),
            manifest={},
            storage_prefix=f"releases/{people.project.id}/{start + i + 1}/",
        )
        for i in range(n)
    )


def _schema_versions(people, n):
    for _ in range(n):
        project_services.schema_version_create(
            project=people.project, actor=people.manager, definition=label_schema("positive", "negative")
        )


def _splits(people, n):
    SplitOperation.objects.bulk_create(
        SplitOperation(project=people.project, created_by=people.manager, ratios={"train": 1.0}, seed=i)
        for i in range(n)
    )


def _tokens(people, n):
    for _ in range(n):
        api_token_create(user=people.manager, name=f"token-{next(_serial)}")


def _bulk_actions(people, n):
    ItemBulkAction.objects.bulk_create(
        ItemBulkAction(
            project=people.project,
            created_by=people.manager,
            action=ItemBulkAction.Action.PRIORITY,
            value=i,
            item_ids=[i + 1],
            status=ItemBulkAction.Status.SUCCEEDED,
            matched=1,
            changed=1,
            finished_at=timezone.now(),
        )
        for i in range(n)
    )


def _provenance_sources(people, n):
    from annotation.models import ProvenanceSource

    ProvenanceSource.objects.bulk_create(
        ProvenanceSource(
            project=people.project, name=f"source {next(_serial)}", kind="internal", terms={"owner": "ML"}
        )
        for _ in range(n)
    )


def _pii_findings(people, n):
    from annotation.models import PiiFinding

    PiiFinding.objects.bulk_create(
        PiiFinding(
            project=people.project, item=item, field="text", start=0, end=5, type="EMAIL", confidence="medium"
        )
        for item in make_items(people.project, *[f"mail {next(_serial)}" for _ in range(n)])
    )


def _erasures(people, n):
    from governance.models import Erasure

    Erasure.objects.bulk_create(
        Erasure(project=people.project, scope="item", reason="request", actor=people.org_admin, items=1)
        for _ in range(n)
    )


def _retention_runs(people, n):
    from governance.models import RetentionRun

    RetentionRun.objects.bulk_create(
        RetentionRun(
            project=people.project,
            dry_run=True,
            status="done",
            rules={},
            actor=people.manager,
            started_at=timezone.now(),
            finished_at=timezone.now(),
        )
        for _ in range(n)
    )


_context: dict = {}  # the running test's monkeypatch, for rows that live in code (the template gallery)


def _project_templates(people, n):
    """The gallery is files in the repository: n more templates (copies of the first, new keys)."""
    from projects.project_templates import api as templates_api

    current = tuple(templates_api.templates())
    extra = tuple(dict(current[0], key=f"{current[0]['key']}-{next(_serial)}") for _ in range(n))
    _context["monkeypatch"].setattr(templates_api, "templates", lambda rows=current + extra: rows)


# path in the OpenAPI schema -> (who reads it, adds n rows)
LIST_ENDPOINTS = {
    "/api/organisations/": ("org_admin", _organisations),
    "/api/organisations/{organisation_pk}/members/": ("org_admin", _organisation_members),
    "/api/organisations/{id}/audit-events/": ("org_admin", _audit_events),
    "/api/project-templates/": ("manager", _project_templates),
    "/api/projects/": ("manager", _projects),
    "/api/projects/{project_pk}/annotations/": ("manager", _annotations),
    "/api/projects/{project_pk}/assignments/": ("annotator", _assignments),
    "/api/projects/{project_pk}/bucket-sources/": ("manager", _bucket_sources),
    "/api/projects/{project_pk}/gold/": ("manager", _gold),
    "/api/projects/{project_pk}/guideline-versions/": ("manager", _guideline_versions),
    "/api/projects/{project_pk}/imports/": ("manager", _imports),
    "/api/projects/{project_pk}/items/": ("manager", _items),
    "/api/projects/{project_pk}/items-bulk/": ("manager", _bulk_actions),
    "/api/projects/{project_pk}/members/": ("manager", _members),
    "/api/projects/{project_pk}/metadata-fields/": ("manager", _metadata_fields),
    "/api/projects/{project_pk}/near-duplicates/": ("manager", _near_duplicates),
    "/api/projects/{project_pk}/predictions/": ("manager", _predictions),
    "/api/projects/{project_pk}/releases/": ("manager", _releases),
    "/api/projects/{project_pk}/schema-versions/": ("manager", _schema_versions),
    "/api/projects/{project_pk}/splits/": ("manager", _splits),
    "/api/tokens/": ("manager", _tokens),
    "/api/projects/{project_pk}/provenance-sources/": ("manager", _provenance_sources),
    "/api/projects/{project_pk}/pii-findings/": ("manager", _pii_findings),
    "/api/projects/{project_pk}/erasures/": ("org_admin", _erasures),
    "/api/projects/{project_pk}/retention-runs/": ("manager", _retention_runs),
}


def _list_paths() -> set[str]:
    document = SchemaGenerator().get_schema(request=None, public=True)
    found = set()
    for path, operations in document["paths"].items():
        get = operations.get("get")
        if not get:
            continue
        schema = (
            get["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
        )
        if "Paginated" in schema.get("$ref", "") or schema.get("type") == "array":
            found.add(path)
    return found


# Viewset `list` actions that answer one object, not rows (so nothing grows with rows there).
NOT_LISTS = {
    "/api/projects/{project_pk}/quality/": "the newest quality report (one object)",
}


def _list_actions() -> set[str]:
    """Every GET routed to a viewset's `list` action in the URL conf, whatever its schema says."""
    return {
        path
        for path, _regex, method, callback in EndpointEnumerator().get_api_endpoints()
        if method == "GET" and (getattr(callback, "actions", None) or {}).get("get") == "list"
    }


def test_every_list_endpoint_is_measured():
    assert _list_paths() == set(LIST_ENDPOINTS)
    assert _list_actions() - set(NOT_LISTS) <= set(LIST_ENDPOINTS), "a list action without a row maker"


def _queries(client, url: str, rows: int) -> int:
    client.get(url, {"page_size": 100})  # warm: first-use caches and the token's last-used write
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"page_size": 100})
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    listed = body["results"] if isinstance(body, dict) else body
    assert len(listed) >= rows, (url, len(listed))
    return len(captured.captured_queries)


@pytest.mark.parametrize("path", sorted(LIST_ENDPOINTS))
def test_list_queries_do_not_grow_with_rows(path, people, client_for, monkeypatch):
    _context["monkeypatch"] = monkeypatch
    role, add_rows = LIST_ENDPOINTS[path]
    client = client_for(people.by_role(role))
    url = path.format(
        organisation_pk=people.organisation.id, id=people.organisation.id, project_pk=people.project.id
    )

    add_rows(people, SMALL)
    small = _queries(client, url, SMALL)
    add_rows(people, LARGE - SMALL)
    large = _queries(client, url, LARGE)

    assert large == small, f"{path}: {small} queries with {SMALL} row, {large} with {LARGE}"
