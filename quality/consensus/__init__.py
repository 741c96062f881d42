"""Pure aggregation of several annotators' answers into one (numpy/scipy only). See docs/QUALITY.md.

- `voting`: weighted majority vote.
- `dawid_skene`: Dawid-Skene EM with per-annotator confusion matrices and per-item posteriors.
- `mace`: MACE (annotator competence and spamming strategy).
- `bradley_terry`: strengths from pairwise preferences and rankings.
- `geometry`: consensus boxes (match, cluster, vote, fuse).
- `spans`: consensus spans (exact vote or offset coverage).
"""
