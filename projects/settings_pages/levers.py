"""Every lever of a project, as data: where it is stored, its group, one sentence, its default and how
a form value becomes a stored value. Pure (no Django): the settings page renders from it, and a test
checks that it names every field of LabelingSettings and QualitySettings (so a new knob cannot be
forgotten on the page).

    form_to_patch(LEVERS, {"labeling.review_fraction": "0.2"}, current)
    -> ({"settings": {"labeling": {"review_fraction": 0.2}}}, {})   # (patch, errors by field name)
"""

from dataclasses import dataclass, fields
from typing import Any

from ..labeling import DEFAULT_GOLD_RATE, ORDERINGS, LabelingSettings, labeling_settings_from
from ..privacy_settings import RELEASE_POLICIES, PrivacySettings, privacy_settings_from
from ..quality_settings import QualitySettings, quality_settings_from
from ..release_policy import ReleasePolicy, release_policy_from
from ..retention_settings import MAX_DAYS, RetentionSettings, retention_settings_from

GROUPS = (
    (
        "labeling",
        "Labeling",
        "How items reach annotators: how many people label each item, in which order, "
        "for how long an item is held and how much one person may take.",
    ),
    ("review", "Review", "Which finished items a reviewer sees and the reasons a reviewer can give."),
    ("quality", "Quality", "When an item gets another annotator and when annotators are paused."),
    ("gold", "Gold", "How often gold items (known answers) are served and how they score people."),
    (
        "privacy",
        "Personal data",
        "Who sees the personal data found in items (emails, phone numbers, IBANs, cards, IP addresses, "
        "national ids, your own patterns) and what releases do with it. Managers always see raw values.",
    ),
    (
        "release",
        "Release policy",
        "Which items releases leave out for consent and licence reasons. Items whose consent is withdrawn "
        "are always left out; non-commercial, no-derivatives and share-alike item licences are checked "
        "against each release's licence; every release lists what it left out and why (excluded.jsonl).",
    ),
    (
        "retention",
        "Retention",
        "What Tessera deletes on its own, once a day. Empty keeps forever (the default). Deleted means "
        "gone: it cannot be undone. Below: what the next run would delete, and the runs so far.",
    ),
)

# Settings the page does not show as one input: consensus methods are chosen per control on the
# Quality tab's settings page; which controls count is a checkbox per control (see `control_rows`).
NOT_A_SINGLE_INPUT = frozenset({"quality.methods", "quality.controls"})


@dataclass(frozen=True)
class Lever:
    name: str  # "overlap" (a project field) or "<section>.<key>" (settings JSON)
    group: str
    label: str
    help: str  # one sentence
    kind: str  # "int" | "float" | "bool" | "choice" | "codes"
    default: Any
    optional: bool = False  # empty means "no value" (e.g. no quota) or "the default"
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None

    @property
    def section(self) -> str | None:
        return self.name.split(".", 1)[0] if "." in self.name else None

    @property
    def key(self) -> str:
        return self.name.split(".", 1)[-1]

    @property
    def input_id(self) -> str:
        return "setting-" + self.name.replace(".", "-").replace("_", "-")


_L = LabelingSettings()
_Q = QualitySettings()
_P = PrivacySettings()
_R = ReleasePolicy()

LEVERS: tuple[Lever, ...] = (
    Lever(
        "overlap",
        "labeling",
        "Annotators per item (overlap)",
        "How many different annotators label each item before it counts as done.",
        "int",
        1,
        low=1,
    ),
    Lever(
        "labeling.ordering",
        "labeling",
        "Order of the queue",
        "Which item of equal priority comes next: in import order, at random, or the most uncertain "
        "prediction first.",
        "choice",
        _L.ordering,
        choices=ORDERINGS,
    ),
    Lever(
        "labeling.lease_seconds",
        "labeling",
        "Lease length (seconds)",
        "How long an opened item stays reserved for its annotator after their last activity.",
        "int",
        _L.lease_seconds,
        low=30,
        high=86_400,
    ),
    Lever(
        "labeling.quota",
        "labeling",
        "Quota per annotator",
        "The most items one annotator labels in this project; empty means no limit (a member's own "
        "quota on the Members tab wins).",
        "int",
        _L.quota,
        optional=True,
        low=1,
        high=10_000_000,
    ),
    Lever(
        "labeling.show_others",
        "labeling",
        "Show other people's annotations",
        "Let annotators see what others answered for the same item (off: blind labeling).",
        "bool",
        _L.show_others,
    ),
    Lever(
        "labeling.review_fraction",
        "review",
        "Review sample",
        "The share of finished items (0 to 1) sent to the review queue; 0 turns review sampling off.",
        "float",
        _L.review_fraction,
        low=0.0,
        high=1.0,
    ),
    Lever(
        "labeling.reject_reasons",
        "review",
        "Reject reasons",
        "The codes a reviewer picks from when rejecting, one per line (letters, digits and _).",
        "codes",
        list(_L.reject_reasons),
    ),
    Lever(
        "quality.escalate_below",
        "quality",
        "Escalate below agreement",
        "An item whose agreement (on the controls that count) is below this gets one more annotator; "
        "0 turns escalation off.",
        "float",
        _Q.escalate_below,
        low=0.0,
        high=1.0,
    ),
    Lever(
        "labeling.max_escalation",
        "quality",
        "Most extra annotators per item",
        "The cap on annotators added to one item by escalation, beyond the overlap.",
        "int",
        _L.max_escalation,
        low=0,
        high=20,
    ),
    Lever(
        "quality.auto_pause",
        "quality",
        "Pause automatically",
        "Pause annotators whose gold accuracy falls below the threshold (off: they are only flagged).",
        "bool",
        _Q.auto_pause,
    ),
    Lever(
        "quality.min_gold_accuracy",
        "quality",
        "Pause below gold accuracy",
        "The gold accuracy (0 to 1, on the controls that count) under which an annotator is paused.",
        "float",
        _Q.min_gold_accuracy,
        low=0.0,
        high=1.0,
    ),
    Lever(
        "quality.min_gold_answers",
        "quality",
        "Gold answers before pausing",
        "Nobody is paused for accuracy before answering at least this many gold items.",
        "int",
        _Q.min_gold_answers,
        low=1,
        high=10_000,
    ),
    Lever(
        "labeling.gold_rate",
        "gold",
        "Gold rate",
        f"The share of next-item requests answered with a gold item; empty means the default, "
        f"{DEFAULT_GOLD_RATE}, served as soon as the project has gold items.",
        "float",
        None,
        optional=True,
        low=0.0,
        high=1.0,
    ),
    Lever(
        "quality.new_annotator_gold_answers",
        "gold",
        "New annotator until",
        "An annotator with fewer gold answers than this counts as new and sees gold more often.",
        "int",
        _Q.new_annotator_gold_answers,
        low=0,
        high=10_000,
    ),
    Lever(
        "quality.gold_boost",
        "gold",
        "Gold boost",
        "How many times as often new and low-scoring annotators get gold items (1 to 10).",
        "float",
        _Q.gold_boost,
        low=1.0,
        high=10.0,
    ),
    Lever(
        "quality.flag_gold_failure_rate",
        "gold",
        "Flag gold failed by",
        "A gold item that this share of annotators fail is flagged as possibly wrong.",
        "float",
        _Q.flag_gold_failure_rate,
        low=0.0,
        high=1.0,
    ),
    Lever(
        "quality.flag_gold_min_answers",
        "gold",
        "… after answers",
        "A gold item is judged for flagging only after this many answers.",
        "int",
        _Q.flag_gold_min_answers,
        low=1,
        high=10_000,
    ),
    Lever(
        "privacy.mask_for_annotators",
        "privacy",
        "Annotators see placeholders",
        "Annotators get [EMAIL]-style placeholders instead of the values found (in the labeling page and "
        "every API answer); spans they draw are mapped back to the original text.",
        "bool",
        _P.mask_for_annotators,
    ),
    Lever(
        "privacy.mask_for_reviewers",
        "privacy",
        "Reviewers see placeholders",
        "Reviewers get placeholders too (review queue and item page).",
        "bool",
        _P.mask_for_reviewers,
    ),
    Lever(
        "privacy.release_policy",
        "privacy",
        "Personal data in releases",
        "flag: keep the items and list where the personal data is (personal_data.jsonl); mask: replace "
        "the values with placeholders; drop: leave those items out.",
        "choice",
        _P.release_policy,
        choices=RELEASE_POLICIES,
    ),
    Lever(
        "privacy.default_region",
        "privacy",
        "Phone numbers without a country code are from",
        "A two-letter region code (US, GB, DE, FR, ...): how national phone numbers are read.",
        "region",
        _P.default_region,
    ),
    Lever(
        "privacy.patterns",
        "privacy",
        "Your own patterns",
        "One per line, NAME = regular expression (EMPLOYEE_ID = EMP-\\d{6}). Names are capitals; "
        "a bad or too slow expression is refused.",
        "patterns",
        None,
        optional=True,
    ),
    Lever(
        "privacy.word_lists",
        "privacy",
        "Your own word lists",
        "One list per line, NAME = word, word, ... (CLIENT = Acme, Globex); matched as whole words, "
        "ignoring case.",
        "wordlists",
        None,
        optional=True,
    ),
    Lever(
        "release.exclude_unknown_consent",
        "release",
        "Exclude unknown consent",
        "Leave out items whose consent is unknown (off: they go in and the datasheet counts them).",
        "bool",
        _R.exclude_unknown_consent,
    ),
    Lever(
        "release.exclude_unknown_licence",
        "release",
        "Exclude items without a licence",
        "Leave out items that have no licence (off: they go in under the release licence).",
        "bool",
        _R.exclude_unknown_licence,
    ),
    Lever(
        "release.allow_no_derivatives",
        "release",
        "Allow no-derivatives sources",
        "Let items under an ND licence into releases (only when the licensor granted adaptation rights).",
        "bool",
        _R.allow_no_derivatives,
    ),
    Lever(
        "retention.raw_media_days",
        "retention",
        "Delete raw media after (days)",
        "Stored media files (uploaded images, audio, video) of items older than this are deleted; the "
        "items and their labels stay, and the item page says the media was removed.",
        "int",
        None,
        optional=True,
        low=1,
        high=MAX_DAYS,
    ),
    Lever(
        "retention.unreleased_items_days",
        "retention",
        "Erase items never released after (days)",
        "Items older than this that are in no published release are erased with their annotations, "
        "predictions and media (a tombstone keeps the audit trail, reason “retention”).",
        "int",
        None,
        optional=True,
        low=1,
        high=MAX_DAYS,
    ),
    Lever(
        "retention.drafts_days",
        "retention",
        "Delete unsubmitted drafts after (days)",
        "Autosaved work in progress nobody has touched for this long is deleted; submitted annotations "
        "are never touched.",
        "int",
        None,
        optional=True,
        low=1,
        high=MAX_DAYS,
    ),
)

BY_NAME = {lever.name: lever for lever in LEVERS}


def catalogued_settings() -> set[str]:
    """Dotted names of every settings key the page covers (single inputs and per-control rows)."""
    return {lever.name for lever in LEVERS if lever.section} | set(NOT_A_SINGLE_INPUT)


def all_settings() -> set[str]:
    return (
        {f"labeling.{f.name}" for f in fields(LabelingSettings)}
        | {f"quality.{f.name}" for f in fields(QualitySettings)}
        | {f"privacy.{f.name}" for f in fields(PrivacySettings)}
        | {f"release.{f.name}" for f in fields(ReleasePolicy)}
        | {f"retention.{f.name}" for f in fields(RetentionSettings)}
    )


def current_values(project_settings: Any, overlap: int) -> dict[str, Any]:
    """The effective value of every lever (stored value, else the default)."""
    labeling = labeling_settings_from(project_settings)
    quality = quality_settings_from(project_settings)
    privacy = privacy_settings_from(project_settings)
    release = release_policy_from(project_settings)
    retention = retention_settings_from(project_settings)
    values: dict[str, Any] = {"overlap": overlap}
    for lever in LEVERS:
        if lever.section == "labeling":
            values[lever.name] = getattr(labeling, lever.key)
        elif lever.section == "quality":
            values[lever.name] = getattr(quality, lever.key)
        elif lever.section == "privacy":
            values[lever.name] = getattr(privacy, lever.key)
        elif lever.section == "release":
            values[lever.name] = getattr(release, lever.key)
        elif lever.section == "retention":
            values[lever.name] = getattr(retention, lever.key)
    for key in ("privacy.patterns", "privacy.word_lists"):
        values[key] = list(values[key]) or None
    values["labeling.reject_reasons"] = list(values["labeling.reject_reasons"])
    return values


def is_stored(project_settings: Any, lever: Lever) -> bool:
    """Whether the project sets this lever itself (else the default applies)."""
    if lever.section is None:
        return True
    stored = (project_settings if isinstance(project_settings, dict) else {}).get(lever.section) or {}
    return lever.key in stored


def display(lever: Lever, value: Any) -> str:
    """A value as the form shows it."""
    if value is None:
        return ""
    if lever.kind == "codes":
        return "\n".join(value)
    if lever.kind == "patterns":
        return "\n".join(f"{entry.get('name')} = {entry.get('pattern')}" for entry in value)
    if lever.kind == "wordlists":
        return "\n".join(f"{entry.get('name')} = {', '.join(entry.get('words') or [])}" for entry in value)
    if lever.kind == "bool":
        return "on" if value else ""
    return str(value)


def _named_lines(kind: str, text: str) -> tuple[Any, str | None]:
    """Lines "NAME = value" as [{"name", "pattern"}] or [{"name", "words"}]; the service validates the
    names and expressions (a wrong one is the field's error)."""
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip() or not value.strip():
            return (
                None,
                f"Line {number}: write NAME = {'expression' if kind == 'patterns' else 'word, word'}.",
            )
        if kind == "patterns":
            entries.append({"name": name.strip(), "pattern": value.strip()})
        else:
            entries.append(
                {"name": name.strip(), "words": [w.strip() for w in value.split(",") if w.strip()]}
            )
    return (entries or None), None


def _parse(lever: Lever, raw: str | None) -> tuple[Any, str | None]:
    """(value, error) from one form value. None with no error: empty (the default / no value)."""
    if lever.kind == "bool":
        return raw == "on", None
    text = (raw or "").strip()
    if lever.kind == "codes":
        codes = [line.strip() for line in text.splitlines() if line.strip()]
        return (codes or None), None
    if lever.kind in ("patterns", "wordlists"):
        return _named_lines(lever.kind, text)
    if lever.kind == "region":
        region = text.upper()
        return (region or None), None
    if text == "":
        if lever.optional or lever.section is not None:
            return None, None
        return None, "Give a value."
    if lever.kind == "choice":
        if text not in lever.choices:
            return None, f"Choose one of {', '.join(lever.choices)}."
        return text, None
    try:
        value: Any = int(text) if lever.kind == "int" else float(text)
    except ValueError:
        what = "a whole number" if lever.kind == "int" else "a number"
        return None, f"“{text}” is not {what}."
    if lever.low is not None and lever.high is not None and not lever.low <= value <= lever.high:
        return None, f"Give a value from {lever.low:g} to {lever.high:g}."
    return value, None


def form_to_patch(
    post: dict[str, Any],
    project_settings: Any,
    overlap: int,
    counts: dict[str, tuple[bool, bool]] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The changes a submitted settings form makes, as keyword arguments for project_update
    (`overlap`, `settings_patch`: a JSON merge patch holding only what changed; an emptied field is
    `null`, back to its default) and the errors by lever name. `counts`: control name -> whether it
    (chosen, default) from the per-control checkboxes; only a change from the effective choice is
    stored."""
    current = current_values(project_settings, overlap)
    patch: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {}
    for lever in LEVERS:
        if lever.kind != "bool" and lever.name not in post:
            continue  # not on the submitted form: unchanged
        value, error = _parse(lever, post.get(lever.name))
        if error:
            errors[lever.name] = error
            continue
        if lever.section is None:
            if value != current[lever.name]:
                changes[lever.name] = value
            continue
        stored = is_stored(project_settings, lever)
        if value is None:
            if stored:
                patch.setdefault(lever.section, {})[lever.key] = None  # back to the default
        elif value != current[lever.name]:
            patch.setdefault(lever.section, {})[lever.key] = value
    if counts is not None:
        quality = quality_settings_from(project_settings)
        stored_controls = quality.controls if isinstance(quality.controls, dict) else {}
        new_controls = {name: dict(options) for name, options in stored_controls.items()}
        changed = False
        for name, (chosen, default) in counts.items():
            before = (stored_controls.get(name) or {}).get("counts")
            if chosen != (default if before is None else before):
                new_controls.setdefault(name, {})["counts"] = chosen
                changed = True
        if changed:
            patch.setdefault("quality", {})["controls"] = new_controls
    if patch:
        changes["settings_patch"] = patch
    return changes, errors
