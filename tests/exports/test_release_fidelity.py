# ruff: noqa: F811 - fixtures are imported from other test modules
"""Nothing lost on the way in or out (issue #13): empty files pulled, gold items released with their
reference answer, pairwise strength carried, empty transcriptions, per-annotation lineage versions."""

import pytest

from accounts.services import api_token_create
from quality.models import ConsensusResult
from tessera_client.__main__ import main as tessera

from .test_release_media import images  # noqa: F401 - fixtures
from .test_release_service import LABELS, create_release, lab, release_storage  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)


def test_pull_verifies_a_yolo_release_with_an_image_without_boxes(
    people, images, create_release, live_server, tmp_path, capsys
):
    project, items, _ = images
    ConsensusResult.objects.filter(item=items[1]).update(answer=[])  # looked at, nothing to box
    release = create_release(formats=["yolo"])
    empty = [f for f in release.files.all() if f.size == 0]
    assert [f.path for f in empty] == [f"yolo/labels/train/{items[1].id}.txt"]
    token = api_token_create(user=people.reviewer, name="pull")[1]
    out = tmp_path / "release"
    args = ["pull", str(project.id), str(release.number), "--out", str(out), "--url", live_server.url]

    assert tessera([*args, "--token", token]) == 0
    assert (out / empty[0].path).is_file() and (out / empty[0].path).stat().st_size == 0
    assert tessera([*args, "--token", token]) == 0  # again: every file kept
    assert tessera([*args, "--token", token, "--verify"]) == 0
    assert capsys.readouterr().out.count("OK: ") == 3


def _gold(project, item, result, people):
    from quality.models import GoldStandard

    ConsensusResult.objects.filter(item=item).delete()  # quality never writes consensus for gold items
    return GoldStandard.objects.create(
        project=project,
        item=item,
        result=result,
        source="manual",
        schema_version=project.schema_versions.order_by("-version").first(),
        created_by=people.manager,
    )


def _records(release_storage, release):
    import json

    root = release_storage / release.storage_prefix / "jsonl"
    lines = [line for path in sorted(root.glob("*.jsonl")) for line in path.read_text().splitlines()]
    rows = [json.loads(line) for line in lines]
    return sorted(rows, key=lambda r: r["item_id"])


def test_a_gold_release_labels_gold_items_with_their_reference_answer(
    people, lab, create_release, release_storage
):
    project, items = lab
    _gold(project, items[1], {"sentiment": "neutral"}, people)

    release = create_release(filter={"gold": True}, formats=["csv"])

    (record,) = _records(release_storage, release)
    assert (record["item_id"], record["labels"]) == (items[1].id, {"sentiment": "neutral"})
    assert (record["confidence"], record["agreement"]) == ({"sentiment": None}, {"sentiment": None})
    lineage = record["lineage"]
    assert lineage["label_source"] == "gold"
    assert lineage["gold"] == {"source": "manual", "schema_version": 1}
    assert lineage["aggregation"] == {"sentiment": "gold@1"}
    assert release.manifest["counts"]["records"] == 1
    assert release.manifest["counts"]["labels"] == {"sentiment": {"neutral": 1}}


def test_a_normal_release_labels_gold_items_with_their_reference_answer_too(
    people, lab, create_release, release_storage
):
    project, items = lab
    _gold(project, items[1], {"sentiment": "neutral"}, people)

    release = create_release(filter={"min_agreement": 0.5})

    records = {r["item_id"]: r for r in _records(release_storage, release)}
    assert sorted(records) == [items[0].id, items[1].id]  # gold is not held to agreement
    assert records[items[1].id]["labels"] == {"sentiment": "neutral"}
    assert records[items[1].id]["lineage"]["label_source"] == "gold"
    assert records[items[0].id]["lineage"]["label_source"] == "consensus"
    assert records[items[0].id]["lineage"]["gold"] is None


def test_lineage_names_the_guideline_and_schema_version_of_each_annotation(
    people, lab, create_release, release_storage
):
    from annotation.models import Annotation
    from projects import services as project_services
    from tests.factories import label_schema

    project, items = lab
    first, second = Annotation.objects.filter(item=items[0]).order_by("id")
    g1 = project_services.guideline_version_create(project=project, actor=people.manager, body="v1")
    g2 = project_services.guideline_version_create(project=project, actor=people.manager, body="v2")
    s2 = project_services.schema_version_create(
        project=project, actor=people.manager, definition=label_schema(*LABELS, "mixed")
    )
    Annotation.objects.filter(pk=first.pk).update(guideline_version=g1)  # given under schema 1, guidelines 1
    Annotation.objects.filter(pk=second.pk).update(guideline_version=g2, schema_version=s2)

    release = create_release()

    record = next(r for r in _records(release_storage, release) if r["item_id"] == items[0].id)
    assert record["lineage"]["annotation_versions"] == [
        {"annotation_id": first.id, "guideline_version": 1, "schema_version": 1},
        {"annotation_id": second.id, "guideline_version": 2, "schema_version": 2},
    ]
    assert record["lineage"]["schema_version"] == 2  # the version the labels are written in


PAIRWISE = {
    "version": 1,
    "fields": [
        {"name": "prompt", "type": "text", "source": "prompt"},
        {"name": "responses", "type": "candidates", "source": "responses"},
    ],
    "controls": [{"name": "preference", "type": "pairwise", "field": "responses", "strength": True}],
}


def _label_all(project, annotators, answer):
    from annotation.workflow.services import claim, submit

    for index, user in enumerate(annotators):
        while (outcome := claim.next_item_for_annotator(project=project, annotator=user)).assignment:
            submit.annotation_submit(
                project=project,
                annotator=user,
                assignment_id=outcome.assignment.id,
                result=answer(index, outcome.assignment.item_id),
                active_ms=1000,
            )


def test_pairwise_strength_goes_through_consensus_into_every_format(people, release_storage, create_release):
    import json

    import pyarrow.parquet as pq

    from projects import services as project_services
    from projects.models import ProjectMembership
    from quality import services as quality_services
    from tests.factories import ProjectMembershipFactory, UserFactory, make_items

    project = people.project
    project_services.project_update(project=project, actor=people.manager, overlap=2)
    project.refresh_from_db()
    settings_ = {**project.settings, "quality": {"escalate_below": None}}
    project_services.project_update(project=project, actor=people.manager, settings=settings_)
    project_services.schema_version_create(project=project, actor=people.manager, definition=PAIRWISE)
    second = ProjectMembershipFactory(
        project=project, user=UserFactory(username="rater2"), role=ProjectMembership.Role.ANNOTATOR
    ).user
    items = make_items(
        project,
        {"data": {"prompt": "Summarise", "responses": ["short", "careful"]}},
        {"data": {"prompt": "Translate", "responses": ["good", "bad"]}},
    )
    strengths = {items[0].id: (3, 2), items[1].id: (1, 1)}  # means 2.5 -> 3 and 1
    choices = {items[0].id: "B", items[1].id: "A"}
    _label_all(
        project,
        [people.annotator, second],
        lambda index, item_id: {
            "preference": {"choice": choices[item_id], "strength": strengths[item_id][index]}
        },
    )
    quality_services.quality_compute(project_id=project.id, full=True)

    answers = dict(ConsensusResult.objects.filter(project=project).values_list("item_id", "answer"))
    assert answers == {
        items[0].id: {"choice": "B", "strength": 3},
        items[1].id: {"choice": "A", "strength": 1},
    }
    release = create_release(formats=["preference", "csv", "parquet"])
    root = release_storage / release.storage_prefix
    labels = {r["item_id"]: r["labels"]["preference"] for r in _records(release_storage, release)}
    assert labels == answers
    rows = [
        json.loads(line) for line in (root / "preference/preference/unsplit.jsonl").read_text().splitlines()
    ]
    assert [(r["chosen"], r["rejected"], r["strength"]) for r in rows] == [
        ("careful", "short", 3),
        ("good", "bad", 1),
    ]
    csv_text = (root / "csv/unsplit.csv").read_text()
    assert '{""choice"":""B"",""strength"":3}' in csv_text
    table = pq.read_table(root / "parquet/unsplit.parquet").to_pylist()
    assert [json.loads(row["label.preference"]) for row in table] == [
        answers[items[0].id],
        answers[items[1].id],
    ]


TRANSCRIBE = {
    "version": 1,
    "fields": [{"name": "audio", "type": "audio", "source": "audio"}],
    "controls": [{"name": "transcript", "type": "transcription", "field": "audio", "required": True}],
}


@pytest.mark.parametrize(
    ("answer", "code"),
    [("", "missing_required"), ("   \n", "empty_transcription"), ({"no_speech": False}, "wrong_type")],
)
def test_an_empty_transcription_is_refused_at_submit(answer, code):
    from projects.schema.validate import validate_annotation

    issues = validate_annotation(TRANSCRIBE, {"audio": "a.wav"}, {"transcript": answer})

    assert [(i.path, i.code) for i in issues] == [("transcript", code)]
    assert validate_annotation(TRANSCRIBE, {"audio": "a.wav"}, {"transcript": {"no_speech": True}}) == []


def test_no_speech_is_one_value_every_format_writes(write_format):
    import csv
    import json

    import pyarrow.parquet as pq

    from exports.records import ExportContext, ExportRecord, Media
    from quality.answers import adapter_for

    control = TRANSCRIBE["controls"][0]
    consensus, _ = adapter_for(control).consensus(
        [{"no_speech": True}, {"no_speech": True}, "uh"], None, control
    )
    assert consensus == {"no_speech": True}
    ctx = ExportContext("p", "p", TRANSCRIBE, "v1", 1)
    records = [
        ExportRecord(
            item_id=i,
            external_id=f"clip-{i}",
            split="train",
            data={"audio": f"{i}.wav"},
            media=Media(f"media/{i}.wav", duration=2.0),
            labels={"transcript": label},
            confidence={"transcript": 1.0},
            agreement={"transcript": 1.0},
        )
        for i, label in [(1, consensus), (2, "hello")]
    ]
    files = {}
    for name in ("asr", "jsonl", "csv", "parquet", "labelstudio"):
        root, names, _ = write_format(name, records, ctx, sub=name)
        files[name] = root / names[0]

    asr = [json.loads(line) for line in files["asr"].read_text().splitlines()]
    assert [(row["item_id"], row["text"]) for row in asr] == [(1, ""), (2, "hello")]
    jsonl = [json.loads(line) for line in files["jsonl"].read_text().splitlines()]
    assert [row["labels"]["transcript"] for row in jsonl] == [{"no_speech": True}, "hello"]
    with files["csv"].open(newline="") as handle:
        cells = [row["label.transcript"] for row in csv.DictReader(handle)]
    assert cells == ['{"no_speech":true}', "hello"]  # not the empty cell of "not answered"
    assert [r["label.transcript"] for r in pq.read_table(files["parquet"]).to_pylist()] == cells
    # Label Studio has no "no speech" value: its empty text area, which its own tools read as such.
    tasks = json.loads(files["labelstudio"].read_text())
    texts = [t["annotations"][0]["result"][0]["value"]["text"] for t in tasks]
    assert texts == [[""], ["hello"]]


def test_answers_read_as_label_names_span_text_and_box_coordinates():
    from exports.display import answer_text, item_key, labels_text

    schema = {
        "fields": [{"name": "body", "type": "text", "source": "text"}],
        "controls": [
            {"name": "entities", "type": "spans", "field": "body"},
            {"name": "objects", "type": "bbox", "field": "image"},
            {"name": "preference", "type": "pairwise", "field": "responses"},
            {"name": "topics", "type": "multiple_choice", "field": "body"},
            {"name": "category", "type": "taxonomy", "field": "body"},
            {"name": "transcript", "type": "transcription", "field": "audio"},
        ],
    }
    labels = {
        "entities": [{"id": "s1", "start": 0, "end": 5, "label": "CITY"}],
        "objects": [{"x": 2, "y": 3.5, "width": 10, "height": 8, "label": "car"}],
        "preference": {"choice": "B", "strength": 3},
        "topics": ["sport", "politics"],
        "category": ["Electronics", "Phones"],
        "transcript": {"no_speech": True},
    }

    assert labels_text(schema, labels, {"text": "Paris is big"}) == {
        "entities": "“Paris” CITY",
        "objects": "car (x 2, y 3.5, w 10, h 8)",
        "preference": "B (strength 3)",
        "topics": "sport, politics",
        "category": "Electronics > Phones",
        "transcript": "(no speech)",
    }
    assert answer_text(None, {"odd": [1]}) == '{"odd":[1]}'  # unknown shape: exact JSON, never a repr
    assert item_key("tweet-42", "ab" * 32, 7) == "tweet-42"
    assert item_key(None, "ab" * 32, 7) == "sha256:ababababab"


def test_diff_names_items_by_external_id_over_the_api_and_on_the_page(
    people, lab, create_release, client_for, client
):
    from annotation.models import Item

    from .test_release_service import set_consensus

    project, items = lab
    Item.objects.filter(pk=items[0].pk).update(external_id="tweet-42")
    create_release(name="v1")
    set_consensus(project, items[0], "negative")
    create_release(name="v2")
    api = client_for(people.reviewer)

    body = api.get(f"/api/projects/{project.id}/releases/2/diff/?against=1").json()
    browser = client
    browser.force_login(people.reviewer)
    page = browser.get(f"/projects/{project.id}/releases/2/diff/?against=1").content.decode()

    (row,) = body["relabelled"]
    assert (row["item_id"], row["external_id"], row["key"]) == (items[0].id, "tweet-42", "tweet-42")
    assert row["changes"][0]["old_text"] == "positive" and row["changes"][0]["new_text"] == "negative"
    assert ">tweet-42</td>" in page and f"<td>#{items[0].id}</td>" not in page
    assert "{&#x27;" not in page and "{'" not in page  # no Python reprs


def test_reproduce_over_the_api_runs_in_the_worker_and_reports_identical_or_the_differing_files(
    people, lab, create_release, client_for, django_capture_on_commit_callbacks
):
    from core.models import OutboxMessage

    from .test_release_service import set_consensus

    project, items = lab
    release = create_release(formats=["csv"])
    api = client_for(people.manager)
    path = f"/api/projects/{project.id}/releases/{release.number}/reproduce/"
    assert api.get(path).json()["code"] == "not_reproduced"

    with django_capture_on_commit_callbacks(execute=True):
        queued = api.post(path)
    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    assert OutboxMessage.objects.filter(task_name="exports.tasks.release_reproduce_task").count() == 1
    done = api.get(path).json()
    assert (done["status"], done["identical"], done["differences"]) == ("done", True, [])
    assert done["files"] == release.files.count()

    set_consensus(project, items[0], "negative")  # the database moved on since publication
    with django_capture_on_commit_callbacks(execute=True):
        api.post(path)
    changed = api.get(path).json()
    assert (changed["status"], changed["identical"]) == ("done", False)
    differing = {d["path"]: d for d in changed["differences"]}
    assert {"jsonl/train.jsonl", "csv/train.csv", "manifest.json"} <= set(differing)
    recorded = release.files.get(path="csv/train.csv")
    assert differing["csv/train.csv"]["expected"] == {"sha256": recorded.sha256, "size": recorded.size}
    assert differing["csv/train.csv"]["actual"]["sha256"] != recorded.sha256
    assert client_for(people.reviewer).post(path).status_code == 403


def test_the_release_page_has_a_reproduce_button_for_managers_and_shows_the_result(
    people, lab, create_release, client, django_capture_on_commit_callbacks
):
    project, _ = lab
    create_release()
    page = f"/projects/{project.id}/releases/1/"
    client.force_login(people.reviewer)
    assert ">Reproduce</button>" not in client.get(page).content.decode()
    assert client.post(f"{page}reproduce/").status_code == 403
    client.force_login(people.manager)
    assert ">Reproduce</button>" in client.get(page).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{page}reproduce/")

    assert response.status_code == 302 and response["Location"].endswith("/releases/1/#release-reproduce")
    body = client.get(page).content.decode()
    assert "Identical: all" in body and "files were rebuilt byte for byte" in body


def test_submitting_a_blank_transcription_is_a_400_with_a_code_and_no_speech_is_stored(
    people, release_storage
):
    from annotation.models import Annotation
    from annotation.workflow.services import claim
    from annotation.workflow.services import submit as submit_service
    from core.exceptions import DomainError
    from projects import services as project_services
    from tests.factories import make_items

    project = people.project
    project_services.schema_version_create(project=project, actor=people.manager, definition=TRANSCRIBE)
    make_items(project, {"data": {"audio": "calls/1.wav"}})
    outcome = claim.next_item_for_annotator(project=project, annotator=people.annotator)

    def submit(answer):
        return submit_service.annotation_submit(
            project=project,
            annotator=people.annotator,
            assignment_id=outcome.assignment.id,
            result={"transcript": answer},
            active_ms=1000,
        )

    with pytest.raises(DomainError) as refused:
        submit("  \t")
    assert (refused.value.code, refused.value.status_code) == ("invalid_annotation", 400)
    assert [e["code"] for e in refused.value.extra["errors"]] == ["empty_transcription"]
    assert not Annotation.objects.exists()
    submit({"no_speech": True})
    assert Annotation.objects.get().result == {"transcript": {"no_speech": True}}
