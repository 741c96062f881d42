"""croissant.json: Croissant 1.0 JSON-LD metadata with the Responsible-AI (RAI 1.0) fields, from ReleaseFacts.

`build_croissant(facts, files)` is pure; `files` are the release's data files already written (their
SHA-256 go into the FileObjects). What it describes:

- the dataset: name, description, licence, version (``<release number>.0.0``), publication date (the
  release's stored date, never the build clock), creator, citation, keywords, languages;
- distribution: one ``cr:FileObject`` per file of the per-split formats (JSONL, CSV, Parquet) with
  its sha256, and one ``cr:FileSet`` over ``csv/*.csv``;
- one RecordSet ``records`` read from the CSV files: item id, split, and per control the consensus
  label, confidence and agreement, so ``mlcroissant.Dataset("croissant.json").records("records")``
  yields the release's rows;
- RAI: data collection (sources with licence and consent), annotation protocol (guideline and schema
  versions, consensus methods, overlap), annotation platform, analysis (agreement), annotations per
  item, annotator demographics ("not collected": Tessera records pseudonymous ids only), synthetic
  data share, preprocessing / manipulation (dedup, splits, label migrations), personal and sensitive
  information, limitations, use cases, maintenance.

Validated with ``mlcroissant validate --jsonld croissant.json`` in tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from exports.facts import ReleaseFacts
from exports.manifest import FileEntry, sort_entries

CROISSANT_CONFORMS_TO = "http://mlcommons.org/croissant/1.0"

CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

ENCODINGS = {".jsonl": "application/jsonlines", ".csv": "text/csv", ".parquet": "application/x-parquet"}
_PER_SPLIT = re.compile(r"^(jsonl|csv|parquet)/[A-Za-z0-9_]+\.(jsonl|csv|parquet)$")
_NUMERIC_LABELS = {"rating"}
# Content types of the media files a release copies (the extensions Tessera's import accepts).
MEDIA_ENCODINGS = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".ogv": "video/ogg",
    ".txt": "text/plain",
}
_MEDIA_FILE = re.compile(r"^media/[0-9]+(\.[a-z0-9]{1,8})$")


def _name(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", value).strip("-") or "dataset"


def _field(column: str, data_type: str, description: str) -> dict[str, Any]:
    return {
        "@type": "cr:Field",
        "@id": f"records/{column}",
        "name": column,
        "description": description,
        "dataType": data_type,
        "source": {"fileSet": {"@id": "csv-files"}, "extract": {"column": column}},
    }


def _sentence_list(items: Iterable[str]) -> str:
    return "; ".join(items) or "none"


def _step(step) -> str:
    params = ", ".join(f"{key}={value}" for key, value in sorted(step.items()) if key != "type")
    return f"{step.get('type')} ({params})" if params else str(step.get("type"))


def _term(value: Any) -> str:
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def rai_fields(facts: ReleaseFacts) -> dict[str, Any]:
    sources = [
        f"{s.name} ({s.items} items, licence {s.licence or 'unknown'}, consent {s.consent}, {s.kind}"
        + "".join(f", {key} {_term(value)}" for key, value in s.terms.items() if key != "licence")
        + ")"
        for s in sorted(facts.sources, key=lambda s: s.name)
    ]
    consensus = [
        f"{control}: {method.get('method', 'unknown')}" for control, method in sorted(facts.consensus.items())
    ]
    agreement = [
        f"{control}: {value.get('metric', 'agreement')} = {value.get('value')}"
        for control, value in sorted(facts.agreement.items())
    ]
    steps = [_step(step) for step in facts.transformations]
    annotations = sum(facts.annotators.values())
    records = facts.counts.get("records", 0)
    per_item = f"{annotations / records:.2f} annotations per item on average" if records else "no items"
    return {
        "rai:dataCollection": f"Items imported into the Tessera project {facts.project_name!r} from: "
        + _sentence_list(sources)
        + ".",
        "rai:dataCollectionType": sorted({s.kind for s in facts.sources}) or ["other"],
        "rai:dataCollectionRawData": _sentence_list(sources),
        "rai:dataAnnotationProtocol": [
            f"Annotated in Tessera under label schema version {facts.schema_version} and guideline version "
            f"{facts.guideline_version if facts.guideline_version is not None else 'none'}; labels are the "
            f"consensus of the annotators' answers ({_sentence_list(consensus)}).",
            f"Release filter: {facts.filter or 'none'}.",
        ],
        "rai:dataAnnotationPlatform": ["Tessera (open-source annotation platform)"],
        "rai:dataAnnotationAnalysis": [f"Inter-annotator agreement: {_sentence_list(agreement)}."],
        "rai:annotationsPerItem": per_item,
        "rai:annotatorDemographics": [
            f"Not collected. {len(facts.annotators)} annotators, identified by pseudonymous ids only."
        ],
        "rai:machineAnnotationTools": ["none recorded"],
        "rai:dataPreprocessingProtocol": [f"Transformations applied: {_sentence_list(steps)}."],
        "rai:dataManipulationProtocol": f"Synthetic share: {facts.synthetic_share:.2%} of items.",
        "rai:dataUseCases": [facts.intended_uses or "Not stated by the project."],
        "rai:dataLimitations": [facts.limitations or "Not stated by the project."],
        "rai:dataBiases": ["Not assessed by the project; see the label counts per split in manifest.json."],
        "rai:dataSocialImpact": "Not assessed by the project.",
        "rai:personalSensitiveInformation": [
            "Annotators are pseudonymous. Item content was not screened for personal data by Tessera: "
            "see each source's consent status."
        ]
        + [
            f"User data from {s.name} under the GDPR Art. 6 legal basis {s.terms['legal_basis']}."
            for s in sorted(facts.sources, key=lambda s: s.name)
            if s.kind == "user" and s.terms.get("legal_basis")
        ],
        "rai:dataReleaseMaintenancePlan": [
            "Releases are immutable; corrections are published as new release numbers of the same project."
        ],
    }


def build_croissant(facts: ReleaseFacts, files: Iterable[FileEntry]) -> dict[str, Any]:
    entries = sort_entries(files)
    distribution: list[dict[str, Any]] = []
    for entry in entries:
        if _PER_SPLIT.match(entry.path):
            suffix = entry.path[entry.path.rindex(".") :]
            distribution.append(
                {
                    "@type": "cr:FileObject",
                    "@id": entry.path,
                    "name": entry.path,
                    "contentUrl": entry.path,
                    "contentSize": f"{entry.bytes} B",
                    "encodingFormat": ENCODINGS[suffix],
                    "sha256": entry.sha256,
                }
            )
    fields = [
        _field("item_id", "sc:Integer", "Tessera item id (stable across releases)."),
        _field("split", "sc:Text", "train, validation or test (empty when no split was made)."),
    ]
    for control in facts.schema.get("controls", []):
        name, kind = control["name"], control["type"]
        label_type = "sc:Float" if kind in _NUMERIC_LABELS else "sc:Text"
        fields.append(
            _field(
                f"label.{name}",
                label_type,
                f"Consensus answer of control {name!r} ({kind}); JSON if structured.",
            )
        )
        fields.append(_field(f"confidence.{name}", "sc:Float", f"Consensus confidence of {name!r} (0-1)."))
    if any(entry.path.startswith("csv/") for entry in entries):
        distribution.append(
            {
                "@type": "cr:FileSet",
                "@id": "csv-files",
                "name": "csv-files",
                "encodingFormat": "text/csv",
                "includes": "csv/*.csv",
            }
        )
    media_suffixes = sorted({m.group(1) for e in entries if (m := _MEDIA_FILE.match(e.path))})
    for suffix in media_suffixes:  # one FileSet per kind of copied media file (media/<item id><ext>)
        distribution.append(
            {
                "@type": "cr:FileSet",
                "@id": f"media-{suffix[1:]}",
                "name": f"media-{suffix[1:]}",
                "description": "The items' media files, named by item id (the records' media path).",
                "encodingFormat": MEDIA_ENCODINGS.get(suffix, "application/octet-stream"),
                "includes": f"media/*{suffix}",
            }
        )
    description = (
        facts.description or f"Release {facts.release_name} of the Tessera project {facts.project_name}."
    )
    creator = facts.organisation or facts.project_name
    out: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CROISSANT_CONFORMS_TO,
        "name": _name(f"{facts.project_slug}-{facts.release_name}"),
        "description": description,
        "version": f"{facts.release_number}.0.0",
        "license": facts.licence or "unknown",
        "creator": {"@type": "sc:Organization", "name": creator},
        "citeAs": f"{creator}. {facts.project_name}, release {facts.release_name}.",
        "keywords": sorted({"annotation", *facts.modalities()}),
        "isLiveDataset": False,
        "distribution": distribution,
        "recordSet": (
            [{"@type": "cr:RecordSet", "@id": "records", "name": "records", "field": fields}]
            if any(d["@id"] == "csv-files" for d in distribution)
            else []
        ),
        **rai_fields(facts),
    }
    if facts.url:
        out["url"] = facts.url
    if facts.published:
        out["datePublished"] = facts.published
    if facts.languages:
        out["inLanguage"] = list(facts.languages)
    return out
