"""Pure agreement metrics (numpy/scipy only; no Django, no I/O). See docs/QUALITY.md.

- `coding`: (item, annotator, label) triples -> integer-coded arrays (`CodedAnnotations`, `LabelCounts`).
- `agreement`: percent agreement, Cohen's, Fleiss', Krippendorff's alpha (all levels), Gwet's AC1/AC2,
  pairwise / per-annotator / per-label breakdowns.
- `sets`: MASI and Jaccard distances, alpha over multi-label answers.
- `bootstrap`: confidence intervals that resample items.
- `matching`: optimal one-to-one matching, span and segment precision/recall/F1.
- `geometry`: box and polygon IoU, keypoint OKS, box/polygon/keypoint matching.
- `ranking`: Kendall's tau-b, Spearman's rho, Kendall's W, pairwise-preference coding.
- `text`: edit distance, normalised edit distance, WER, CER.
- `_bench`: timing of the categorical hot paths (`run(n_items, n_annotators, n_annotations)`).
"""
