"""The "New project from a Label Studio config" page: paste or upload, preview, create."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import AuditEvent
from projects.models import LabelSchemaVersion, Project

pytestmark = pytest.mark.django_db

URL = "/projects/new/labelstudio/"
CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/><Choice value="&lt;script&gt;x"/>
  </Choices>
  <Ellipse name="&lt;img src=x onerror=alert(1)&gt;" toName="text"/>
</View>"""


def form(people, action, **values):
    return {
        "organisation": people.organisation.id,
        "name": "From LS",
        "description": "",
        "overlap": 1,
        "labelstudio_config": CONFIG,
        "action": action,
        **values,
    }


def test_project_list_links_to_the_page_for_those_who_may_create_projects(people, page_for):
    assert URL in page_for(people.org_admin).get("/projects/").content.decode()
    assert URL in page_for(people.manager).get("/projects/").content.decode()  # project_creators "managers"
    assert URL not in page_for(people.reviewer).get("/projects/").content.decode()
    assert page_for(people.reviewer).get(URL).status_code == 404


def test_preview_lists_controls_and_untranslated_escaped_and_creates_nothing(people, page_for):
    client = page_for(people.org_admin)
    before = (Project.objects.count(), AuditEvent.objects.count())

    response = client.post(URL, form(people, "preview"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="labelstudio-controls"' in html and "<code>sentiment</code>" in html
    assert "Ellipse" in html and "Tessera has no ellipse control." in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the name is escaped
    assert "<img src=x" not in html and "<script>x" not in html
    assert (Project.objects.count(), AuditEvent.objects.count()) == before


def test_create_redirects_to_the_new_project(people, page_for):
    response = page_for(people.org_admin).post(URL, form(people, "create"))

    project = Project.objects.get(name="From LS")
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.id}/"
    definition = LabelSchemaVersion.objects.get(project=project).definition
    assert [c["name"] for c in definition["controls"]] == ["sentiment"]


def test_upload_is_used_and_shown_again(people, page_for):
    upload = SimpleUploadedFile("config.xml", CONFIG.encode(), content_type="text/xml")

    response = page_for(people.org_admin).post(
        URL, form(people, "preview", labelstudio_config="", labelstudio_file=upload)
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<code>sentiment</code>" in html
    assert "&lt;Choices name=&quot;sentiment&quot;" in html  # in the text box, for Create


def test_bad_config_is_a_form_error_and_nothing_is_created(people, page_for):
    hostile = '<!DOCTYPE View [<!ENTITY x SYSTEM "file:///etc/passwd">]><View>&x;</View>'

    response = page_for(people.org_admin).post(URL, form(people, "create", labelstudio_config=hostile))

    assert response.status_code == 400
    assert "DTDs are not accepted" in response.content.decode()
    assert not Project.objects.filter(name="From LS").exists()


def test_nothing_given_is_a_form_error(people, page_for):
    response = page_for(people.org_admin).post(URL, form(people, "preview", labelstudio_config=""))

    assert response.status_code == 400
    assert "Paste a Label Studio config or upload its file." in response.content.decode()
