"""Masking outside the labeling payloads (docs/GOVERNANCE.md, Masking outside the labeling page): with
`privacy.mask_for_reviewers`, a reviewer reads no raw personal data in the Data tab (list and search),
the items API (search), the near-duplicate page and API, and the quality report's gold references
(API and CSV); a text search that could confirm a hidden value is refused with `search_masked`."""

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from annotation.models import Item, NearDuplicateGroup
from annotation.pii.services import pii_detect
from projects import services
from quality.models import QualityRun
from tests.factories import make_items

from .test_pii_api import EMAIL, PHONE, TEXT, set_privacy, spans_schema

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


@pytest.fixture
def masked(people):
    """One item with an email and a phone number, detected; reviewers see placeholders."""
    services.schema_version_create(project=people.project, actor=people.manager, definition=spans_schema())
    item, other = make_items(
        people.project,
        {"text": TEXT, "external_id": "ticket-1"},
        {"text": "Write to jane.doe@example.org about order 43.", "external_id": "ticket-2"},
    )
    pii_detect(project_id=people.project.id)
    set_privacy(people, mask_for_reviewers=True)
    return item, other


def test_data_tab_search_is_refused_for_masked_reviewers_and_the_list_is_masked(people, masked, page_for):
    data = f"/projects/{people.project.id}/data/"
    reviewer, manager = page_for(people.reviewer), page_for(people.manager)
    listing = reviewer.get(data).content.decode()
    assert EMAIL not in listing and PHONE not in listing and "[EMAIL]" in listing

    searched = reviewer.get(data, {"q": EMAIL}).content.decode()
    assert "Text search is off for you in this project" in searched
    assert 'id="filter-error"' in searched and "ticket-1" not in searched  # nothing says which item
    by_id = reviewer.get(data, {"external_id": "ticket-1"}).content.decode()  # exact filters stay
    assert "ticket-1" in by_id and "ticket-2" not in by_id and EMAIL not in by_id

    assert "ticket-1" in manager.get(data, {"q": EMAIL}).content.decode()  # managers search raw text
    set_privacy(people, mask_for_reviewers=False)
    assert "ticket-1" in reviewer.get(data, {"q": EMAIL}).content.decode()


def test_items_api_search_is_refused_for_masked_reviewers(people, masked):
    url = f"/api/projects/{people.project.id}/items/"
    refused = api(people.reviewer).get(url, {"q": "jane.doe@example.com"})
    assert refused.status_code == 400 and refused.json()["code"] == "search_masked"
    assert api(people.reviewer).get(url, {"q": "  "}).status_code == 200  # no search, no refusal
    listed = api(people.reviewer).get(url).content.decode()
    assert EMAIL not in listed and "[EMAIL]" in listed
    found = api(people.manager).get(url, {"q": "jane.doe@example.com"}).json()["results"]
    assert [row["external_id"] for row in found] == ["ticket-1"]


def test_near_duplicates_page_and_api_are_masked_for_reviewers(people, masked, page_for):
    group = NearDuplicateGroup.objects.create(project=people.project, kind="text", similarity=0.9)
    Item.objects.filter(pk__in=[item.id for item in masked]).update(near_duplicate_group=group)
    page = page_for(people.reviewer).get(f"/projects/{people.project.id}/data/duplicates/").content.decode()
    assert EMAIL not in page and "example.org" not in page and "[EMAIL]" in page
    body = api(people.reviewer).get(f"/api/projects/{people.project.id}/near-duplicates/").content.decode()
    assert EMAIL not in body and PHONE not in body and "[EMAIL]" in body
    one = api(people.reviewer).get(f"/api/projects/{people.project.id}/near-duplicates/{group.id}/")
    assert EMAIL not in one.content.decode()
    manager_page = page_for(people.manager).get(f"/projects/{people.project.id}/data/duplicates/")
    assert EMAIL in manager_page.content.decode()


def test_quality_gold_references_are_masked_for_reviewers(people, masked):
    item = masked[0]
    at = TEXT.index(EMAIL)
    reference = [{"id": "g", "start": at, "end": at + len(EMAIL), "label": "CONTACT", "text": EMAIL}]
    now = datetime.now(UTC)
    QualityRun.objects.create(
        project=people.project,
        kind="full",
        status=QualityRun.Status.DONE,
        started_at=now,
        finished_at=now,
        report={
            "gold": {
                "items": 1,
                "flagged": [
                    {
                        "item_id": item.id,
                        "control": "ner",
                        "reference": reference,
                        "answers": 3,
                        "failure_rate": 1.0,
                    }
                ],
            }
        },
    )
    base = f"/api/projects/{people.project.id}/quality/"
    report = api(people.reviewer).get(base)
    assert report.status_code == 200, report.content
    assert EMAIL not in report.content.decode()
    shown = report.json()["gold"]["flagged"][0]["reference"][0]
    assert shown["text"] == "[EMAIL]" and (shown["start"], shown["end"]) == (at, at + len("[EMAIL]"))
    table = api(people.reviewer).get(f"{base}tables/gold.csv")
    assert table.status_code == 200 and EMAIL not in table.content.decode()
    assert "[EMAIL]" in table.content.decode()
    assert EMAIL in api(people.manager).get(base).content.decode()
    assert EMAIL in api(people.manager).get(f"{base}tables/gold.csv").content.decode()
