"""Answers and items as people read them (release diffs). The helpers live below exports, in
annotation.items.answer_text (the item page uses them too); re-exported here for exports."""

from annotation.items.answer_text import answer_text, item_key, labels_text  # noqa: F401
