"""Create the demo organisation, people and project if they are absent. Safe to run every start."""

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from projects import services
from projects.models import Organisation, Project

DEMO_PASSWORD = "tessera-demo-2026"  # noqa: S105 - printed for the local demo; never used in production
DEMO_PEOPLE = [
    ("admin", "Organisation admin", None),
    ("maria", "Project manager", "manager"),
    ("rui", "Reviewer", "reviewer"),
    ("ana", "Annotator", "annotator"),
]
DEMO_SCHEMA = {
    "version": 1,
    "fields": [{"name": "text", "type": "text", "title": "Headline"}],
    "controls": [
        {
            "name": "sentiment",
            "type": "single_choice",
            "field": "text",
            "required": True,
            "title": "Tone of the headline",
            "labels": [
                {"value": "positive", "hotkey": "1", "color": "#2e7d32"},
                {"value": "neutral", "hotkey": "2", "color": "#616161"},
                {"value": "negative", "hotkey": "3", "color": "#c62828"},
            ],
        },
        {
            "name": "confidence",
            "type": "rating",
            "field": "text",
            "title": "How sure are you?",
            "min": 1,
            "max": 5,
        },
    ],
}
DEMO_GUIDELINES = """# Sentiment of news headlines

Label the overall tone of the headline **as written**, not your opinion of the event.

- *positive*: good news for the people it is about.
- *negative*: harm, loss or conflict.
- *neutral*: factual, or mixed.
"""


DEMO_HEADLINES = [
    ("City opens three new public libraries after decade-long campaign", "local"),
    ("Storm leaves thousands without power across the coast", "weather"),
    ("Local bakery wins national award for sourdough", "local"),
    ("Unemployment falls to lowest level in fifteen years", "economy"),
    ("Bridge closure expected to cause months of delays", "local"),
    ("Researchers report promising results in early malaria vaccine trial", "science"),
    ("Factory fire forces evacuation of nearby homes", "local"),
    ("Parliament passes budget after marathon session", "politics"),
    ("School meals programme extended to all primary pupils", "politics"),
    ("Heatwave warning issued as temperatures climb", "weather"),
    ("Startup raises funding to build cheaper solar panels", "economy"),
    ("Museum returns looted artefacts to their country of origin", "culture"),
    ("Train drivers announce strike for next week", "economy"),
    ("Volunteers clean two tonnes of plastic from the river", "local"),
    ("Housing prices rise for the ninth month in a row", "economy"),
    ("Rare bird spotted for the first time in forty years", "science"),
    ("Hospital waiting lists grow despite new funding", "politics"),
    ("Community garden feeds hundreds of families", "local"),
    ("Flooding damages historic town centre", "weather"),
    ("National team qualifies for the world cup final", "sport"),
]


STREET_SCHEMA = {
    "version": 1,
    "fields": [{"name": "image", "type": "image", "source": "file", "title": "Street scene"}],
    "controls": [
        {
            "name": "objects",
            "type": "bbox",
            "field": "image",
            "title": "Draw a box around every vehicle and person",
            "labels": [
                {"value": "car", "hotkey": "c", "color": "#c62828"},
                {"value": "bus", "hotkey": "b", "color": "#1565c0"},
                {"value": "person", "hotkey": "p", "color": "#2e7d32"},
            ],
        },
        {
            "name": "time_of_day",
            "type": "image_class",
            "field": "image",
            "title": "Time of day",
            "labels": [{"value": "day", "hotkey": "d"}, {"value": "dusk", "hotkey": "k"}],
        },
    ],
}
STREET_GUIDELINES = """# Street scenes

Draw a **tight box** around every car, bus and person that is at least half visible.
Then choose the time of day from the sky.
"""


def street_scenes(count: int = 8) -> dict[str, bytes]:
    """Small drawn street scenes (PNG), the same every run: sky, road, cars, a bus, people."""
    import io
    import random

    from PIL import Image, ImageDraw

    scenes = {}
    for n in range(count):
        rng = random.Random(n)
        dusk = n % 3 == 2
        width, height = 480, 300
        image = Image.new("RGB", (width, height), "#f4a261" if dusk else "#9cc7ee")
        draw = ImageDraw.Draw(image)
        draw.rectangle([0, 170, width, height], fill="#5b5f66")
        draw.rectangle([0, 232, width, 236], fill="#f2f2f2")
        for x in range(10, width, 70):
            draw.rectangle([x, 110, x + 50, 170], fill="#c9b79c", outline="#8a7a62")
        for _ in range(rng.randint(1, 3)):
            x, y = rng.randint(10, width - 150), rng.randint(190, 240)
            colour = rng.choice(["#c62828", "#1e88e5", "#fbc02d", "#424242"])
            draw.rounded_rectangle([x, y, x + 110, y + 45], radius=12, fill=colour)
            draw.ellipse([x + 12, y + 35, x + 36, y + 59], fill="#222")
            draw.ellipse([x + 74, y + 35, x + 98, y + 59], fill="#222")
        if n % 2:
            x = rng.randint(10, width - 200)
            draw.rectangle([x, 150, x + 180, 215], fill="#1565c0")
            for w in range(x + 10, x + 170, 30):
                draw.rectangle([w, 158, w + 20, 178], fill="#bbdefb")
        for _ in range(rng.randint(1, 2)):
            x = rng.randint(10, width - 30)
            draw.ellipse([x, 140, x + 18, 158], fill="#f1c27d")
            draw.rectangle([x + 2, 158, x + 16, 200], fill=rng.choice(["#2e7d32", "#6a1b9a", "#ef6c00"]))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        scenes[f"street-{n + 1:02d}.png"] = buffer.getvalue()
    return scenes


class Command(BaseCommand):
    help = "Create the demo organisation, users and project if they do not exist, and print how to sign in."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Do not print the sign-in details.")

    @transaction.atomic
    def handle(self, *args, quiet=False, **options):
        User = get_user_model()
        users = {}
        for username, _, _ in DEMO_PEOPLE:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(
                    username=username, password=DEMO_PASSWORD, email=f"{username}@demo.tessera.local"
                )
                if username == "admin":
                    user.is_staff = user.is_superuser = True
                    user.save(update_fields=["is_staff", "is_superuser"])
            users[username] = user

        organisation = Organisation.objects.filter(slug="demo").first()
        if organisation is None:
            organisation = services.organisation_create(
                name="Demo Organisation", slug="demo", creator=users["admin"]
            )
            for username, _, _ in DEMO_PEOPLE[1:]:
                services.organisation_member_add(
                    organisation=organisation, actor=users["admin"], username=username, role="member"
                )

        admin = users["admin"]
        project = self._project(
            organisation,
            admin,
            name="News sentiment",
            description="Label the tone of news headlines. A small demo project to click around in.",
            overlap=2,
            settings={"labeling": {"review_fraction": 0.5}},
            schema=DEMO_SCHEMA,
            guidelines=DEMO_GUIDELINES,
        )
        if project is not None:
            self._import_demo_items(project, admin)
        project = self._project(
            organisation,
            admin,
            name="Street scenes",
            description="Boxes around vehicles and people in drawn street photos: the image tools, "
            "and releases that carry their images (YOLO, COCO, VOC).",
            overlap=1,
            settings=None,
            schema=STREET_SCHEMA,
            guidelines=STREET_GUIDELINES,
        )
        if project is not None:
            self._import_street_scenes(project, admin)

        if not quiet:
            self.stdout.write("")
            self.stdout.write(
                self.style.SUCCESS(
                    f"Tessera demo is ready. Sign in at {os.environ.get('TESSERA_URL', 'http://127.0.0.1:8000')}/login/"
                )
            )
            for username, description, _ in DEMO_PEOPLE:
                self.stdout.write(f"  {description:<20} username: {username:<6} password: {DEMO_PASSWORD}")
            self.stdout.write("")

    @staticmethod
    def _project(organisation, admin, *, name, description, overlap, settings, schema, guidelines):
        """A demo project with every demo person in their role, its schema and guidelines; None when
        it exists already (the demo is created once and then left to the people trying it)."""
        if Project.objects.filter(organisation=organisation, name=name).exists():
            return None
        project = services.project_create(
            organisation=organisation,
            actor=admin,
            name=name,
            description=description,
            overlap=overlap,
            **({"settings_": settings} if settings else {}),
        )
        for username, _, role in DEMO_PEOPLE[1:]:
            services.project_member_add(project=project, actor=admin, username=username, role=role)
        services.schema_version_create(project=project, actor=admin, definition=schema, note="First version")
        services.guideline_version_create(project=project, actor=admin, body=guidelines, note="First version")
        return project

    @staticmethod
    def _import_demo_items(project, actor) -> None:
        """Twenty headlines through the real import pipeline, so the Data tab has something to show."""
        import json

        from django.core.files.uploadedfile import SimpleUploadedFile

        from annotation.imports.services.jobs import import_job_create

        lines = [
            json.dumps({"id": f"demo-{n}", "text": text, "meta": {"section": section}, "licence": "CC0-1.0"})
            for n, (text, section) in enumerate(DEMO_HEADLINES, start=1)
        ]
        upload = SimpleUploadedFile("demo-headlines.jsonl", ("\n".join(lines) + "\n").encode())
        import_job_create(project=project, actor=actor, upload=upload)

    @staticmethod
    def _import_street_scenes(project, actor) -> None:
        """Eight generated photos as one ZIP through the real import pipeline (sizes recorded)."""
        import io
        import zipfile

        from django.core.files.uploadedfile import SimpleUploadedFile

        from annotation.imports.services.jobs import import_job_create

        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as handle:
            for name, body in street_scenes().items():
                handle.writestr(name, body)
        upload = SimpleUploadedFile("street-scenes.zip", archive.getvalue())
        import_job_create(project=project, actor=actor, upload=upload, defaults={"licence": "CC0-1.0"})
