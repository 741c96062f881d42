/**
 * A realistic quality report in the shape of QUALITY_API.md, for tests: two controls, five annotators
 * (one paused, one with no gold answers, one with a hostile username), a pair with no shared items.
 */
import type { QualityHistory, QualityReport } from "./types";

export const HOSTILE = "<img src=x onerror=alert(1)>";

export function reportFixture(): QualityReport {
  return {
    run: {
      id: 12,
      kind: "incremental",
      status: "done",
      started_at: "2025-03-14T09:04:47.160Z",
      finished_at: "2025-03-14T09:04:48.000Z",
      duration_ms: 840,
      seen: { last_revision_id: 90211, annotations: 50120, items: 20000 },
      methods: { sentiment: { method: "dawid_skene", version: "1" }, severity: { method: "majority_vote", version: "1" } },
    },
    controls: [
      {
        name: "sentiment",
        type: "single_choice",
        title: "Sentiment",
        level: "nominal",
        method: "dawid_skene",
        agreement: {
          alpha: 0.7134,
          alpha_ci: [0.6912, 0.7301],
          fleiss: 0.7011,
          percent: 0.8245,
          ac1: 0.7802,
          items: 20000,
          annotations: 50120,
          pairable_items: 19000,
        },
        labels: [
          { label: "positive", annotations: 20000, consensus: 7000, specific_agreement: 0.85, alpha_vs_rest: 0.74 },
          { label: "neutral", annotations: 12000, consensus: 4500, specific_agreement: 0.61, alpha_vs_rest: 0.52 },
          { label: "negative", annotations: 18120, consensus: 6500, specific_agreement: 0.88, alpha_vs_rest: 0.79 },
        ],
        confusion: {
          labels: ["positive", "neutral", "negative"],
          matrix: [
            [6300, 600, 100],
            [700, 3400, 400],
            [100, 500, 5900],
          ],
        },
        pairs: {
          annotators: [3, 5, 9, 11],
          kappa: [
            [1.0, 0.6012, null, 0.45],
            [0.6012, 1.0, 0.7288, -0.12],
            [null, 0.7288, 1.0, 0.3],
            [0.45, -0.12, 0.3, 1.0],
          ],
          shared: [
            [812, 120, 0, 55],
            [120, 640, 40, 31],
            [0, 40, 300, 12],
            [55, 31, 12, 90],
          ],
        },
      },
      {
        name: "severity",
        type: "rating",
        title: "Severity",
        level: "ordinal",
        method: "majority_vote",
        agreement: {
          alpha: 0.5521,
          alpha_ci: null,
          fleiss: null,
          percent: 0.6,
          ac1: 0.58,
          items: 1200,
          annotations: 2400,
          pairable_items: 1100,
        },
        labels: [
          { label: "low", annotations: 1200, consensus: 600, specific_agreement: 0.7, alpha_vs_rest: 0.6 },
          { label: "high", annotations: 1200, consensus: 600, specific_agreement: 0.5, alpha_vs_rest: null },
        ],
        confusion: { labels: ["low", "high"], matrix: [[500, 100], [0, 0]] },
        pairs: { annotators: [3, 5], kappa: [[1.0, 0.5], [0.5, 1.0]], shared: [[400, 200], [200, 300]] },
      },
    ],
    annotators: [
      {
        id: 3,
        username: "ana",
        annotations: 812,
        agreement: 0.7412,
        gold_n: 20,
        gold_accuracy: 0.9,
        median_active_ms: 5400,
        per_hour: 52.14,
        paused: false,
        paused_reason: "",
        low_quality: false,
      },
      {
        id: 5,
        username: "bruno",
        annotations: 640,
        agreement: 0.6,
        gold_n: 18,
        gold_accuracy: 0.5556,
        median_active_ms: 2100,
        per_hour: 120.5,
        paused: true,
        paused_reason: "Gold accuracy 0.56 below 0.70 after 18 gold items",
        low_quality: true,
      },
      {
        id: 9,
        username: HOSTILE,
        annotations: 300,
        agreement: 0.81,
        gold_n: 0,
        gold_accuracy: null,
        median_active_ms: null,
        per_hour: null,
        paused: false,
        paused_reason: "",
        low_quality: false,
      },
      {
        id: 11,
        username: "dora",
        annotations: 90,
        agreement: null,
        gold_n: 4,
        gold_accuracy: 1.0,
        median_active_ms: 9000,
        per_hour: 30,
        paused: false,
        paused_reason: "",
        low_quality: false,
      },
    ],
    slices: [
      { key: "language", value: "pt", control: "sentiment", items: 500, alpha: 0.55, percent: 0.7 },
      { key: "language", value: "en", control: "sentiment", items: 19500, alpha: 0.72, percent: 0.83 },
      { key: "language", value: "pt", control: "severity", items: 100, alpha: null, percent: 0.5 },
    ],
    gold: {
      items: 40,
      flagged: [{ item_id: 77, control: "sentiment", reference: "positive", answers: 9, failure_rate: 0.7778 }],
    },
    models: [
      {
        model: "bert",
        model_version: "v3",
        control: "sentiment",
        against: "consensus",
        n: 1900,
        accuracy: 0.81,
        f1_macro: 0.7712,
        labels: [
          { label: "positive", precision: 0.8, recall: 0.9, f1: 0.85, support: 700 },
          { label: "neutral", precision: 0.6, recall: 0.5, f1: 0.5455, support: 500 },
        ],
        slices: [{ key: "language", value: "pt", n: 300, accuracy: 0.7 }],
      },
    ],
    escalated: 14,
    paused: [5],
  };
}

export function historyFixture(): QualityHistory {
  return {
    points: [
      { run_id: 10, finished_at: "2025-03-14T08:00:00Z", control: "sentiment", alpha: 0.65, percent: 0.79, annotations: 48000 },
      { run_id: 10, finished_at: "2025-03-14T08:00:00Z", control: "severity", alpha: 0.5, percent: 0.55, annotations: 2000 },
      { run_id: 11, finished_at: "2025-03-14T08:30:00Z", control: "sentiment", alpha: 0.69, percent: 0.81, annotations: 49000 },
      { run_id: 11, finished_at: "2025-03-14T08:30:00Z", control: "severity", alpha: null, percent: 0.57, annotations: 2200 },
      { run_id: 12, finished_at: "2025-03-14T09:04:48Z", control: "sentiment", alpha: 0.7134, percent: 0.8245, annotations: 50120 },
      { run_id: 12, finished_at: "2025-03-14T09:04:48Z", control: "severity", alpha: 0.5521, percent: 0.6, annotations: 2400 },
    ],
  };
}
