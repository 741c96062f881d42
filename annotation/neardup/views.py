"""The near-duplicate review page (/projects/<id>/data/duplicates/) and its two form posts.

Thin: one access check (projects.access), then the selector to read or one service call to write.
Plain forms, no JavaScript: every button is a native <button> in a <form>, so keyboards work.
"""

import difflib
import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import DomainError
from projects import access
from projects.access import ProjectAction
from projects.views import _project_context

from ..models import NearDuplicateGroup
from ..pii.services import pii_texts_for_viewer
from . import selectors as neardup_selectors
from . import services as neardup_services

GROUPS_PER_PAGE = 20
PAGE_PREVIEW_CHARS = 600  # members are compared side by side: more text than the API's 200


class NearDuplicateResolveForm(forms.Form):
    resolution = forms.ChoiceField(
        choices=[(NearDuplicateGroup.Resolution.KEPT_ALL, ""), (NearDuplicateGroup.Resolution.KEPT_ONE, "")]
    )
    kept_item = forms.IntegerField(required=False, min_value=1)
    status = forms.ChoiceField(choices=[(name, name) for name in neardup_selectors.STATUSES], required=False)


def _page_url(project_id: int, status: str = "open") -> str:
    url = reverse("project-near-duplicates", args=[project_id])
    return url if status == "open" else f"{url}?status={status}"


@login_required
@require_GET
def near_duplicates_page(request, project_id: int):
    """Open (default) or resolved groups, newest first, keyset-paged with ?before=<group id>."""
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.VIEW_ITEMS
    )
    status = request.GET.get("status") or "open"
    if status not in neardup_selectors.STATUSES:
        raise DomainError("invalid_filter", "status must be open or resolved.")
    groups = neardup_selectors.near_duplicate_group_list(project=project, status=status)
    before = request.GET.get("before", "")
    if before.isdecimal():
        groups = groups.filter(id__lt=int(before))
    page = list(groups[: GROUPS_PER_PAGE + 1])
    next_url = None
    if len(page) > GROUPS_PER_PAGE:
        page = page[:GROUPS_PER_PAGE]
        next_url = f"?status={status}&before={page[-1].id}"
    context = _project_context(
        request,
        project,
        status=status,
        counts=neardup_selectors.near_duplicate_group_counts(project=project),
        groups=[_group_view(group, viewer=request.user, project=project) for group in page],
        next_url=next_url,
        first_url=_page_url(project.id, status) if before else None,
    )
    context["can_resolve"] = context["can_import"] and not project.is_archived
    return render(request, "annotation/near_duplicates.html", context)


def _group_view(group: NearDuplicateGroup, *, viewer, project) -> dict:
    # Reviewers with settings.privacy.mask_for_reviewers see placeholders, as on the item page.
    shown = pii_texts_for_viewer(
        items=group.members,
        viewer=viewer,
        project=project,
        preview=lambda data: neardup_selectors.item_preview(data, limit=PAGE_PREVIEW_CHARS),
    )
    texts = [shown[item.id] for item in group.members]
    return {
        "group": group,
        "is_open": group.resolution == NearDuplicateGroup.Resolution.OPEN,
        "percent": round(group.similarity * 100),
        "members": [
            {
                "item": item,
                "text": text,
                # Each text against the first member's (the first against the second's).
                "segments": _diff_segments(text, texts[1] if index == 0 and len(texts) > 1 else texts[0]),
                "image_src": neardup_selectors.item_media_link(item) if item.media_type == "image" else None,
                "kept": group.kept_item_id == item.id,
            }
            for index, (item, text) in enumerate(zip(group.members, texts, strict=True))
        ],
    }


_TOKENS = re.compile(r"\S+|\s+")


def _diff_segments(text: str, other: str) -> list[tuple[str, bool]]:
    """`text` as (piece, differs from `other`) runs, word by word, so a reviewer sees at a glance
    what sets two near duplicates apart. Escaped by the template like any item text."""
    if text == other or not other:
        return [(text, False)]
    words, other_words = _TOKENS.findall(text), _TOKENS.findall(other)
    matcher = difflib.SequenceMatcher(None, words, other_words, autojunk=False)
    segments: list[tuple[str, bool]] = []
    for tag, start, end, _, _ in matcher.get_opcodes():
        piece = "".join(words[start:end])
        if not piece:
            continue
        changed = tag != "equal" and not piece.isspace()
        if segments and segments[-1][1] == changed:
            segments[-1] = (segments[-1][0] + piece, changed)
        else:
            segments.append((piece, changed))
    return segments


@login_required
@require_POST
def near_duplicate_resolve(request, project_id: int, group_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.IMPORT_DATA
    )
    form = NearDuplicateResolveForm(request.POST)
    if not form.is_valid():
        raise DomainError("invalid_resolution", "Choose “keep all” or one item to keep.")
    data = form.cleaned_data
    group = neardup_services.near_duplicate_resolve(
        project=project,
        actor=request.user,
        group_id=group_id,
        resolution=data["resolution"],
        kept_item_id=data["kept_item"],
    )
    if group.resolution == NearDuplicateGroup.Resolution.KEPT_ONE:
        others = group.items.exclude(pk=group.kept_item_id).count()
        messages.success(
            request,
            f"Group #{group.id}: kept item #{group.kept_item_id}; "
            f"{others} other item{'s' if others != 1 else ''} excluded from labeling and releases.",
        )
    else:
        messages.success(request, f"Group #{group.id}: not duplicates, every item kept.")
    return redirect(_page_url(project.id, data["status"] or "open"))


@login_required
@require_POST
def near_duplicates_detect(request, project_id: int):
    project = access.project_get_for_user(
        user=request.user, project_id=project_id, action=ProjectAction.IMPORT_DATA
    )
    full = request.POST.get("full") == "1"
    neardup_services.near_duplicates_detect_request(project=project, actor=request.user, full=full)
    start = "Comparing every item again." if full else "Looking for near duplicates."
    messages.success(request, f"{start} New groups appear here when it is done.")
    return redirect(_page_url(project.id))
