/**
 * Shapes of the quality API (docs: var/helpers/QUALITY_API.md, /api/projects/<id>/quality/).
 * Strings in here (usernames, labels, slice values) come from users: render them only as text.
 */

export interface QualityRun {
  id: number;
  kind: "incremental" | "full" | string;
  status: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  seen: { last_revision_id?: number | null; annotations?: number | null; items?: number | null };
  methods?: Record<string, { method: string; version: string }>;
}

export interface ControlAgreement {
  alpha: number | null;
  alpha_ci: [number, number] | null;
  fleiss: number | null;
  percent: number | null;
  ac1: number | null;
  items: number;
  annotations: number;
  pairable_items: number;
}

export interface LabelRow {
  label: string;
  annotations: number;
  consensus: number;
  specific_agreement: number | null;
  alpha_vs_rest: number | null;
}

export interface ControlReport {
  name: string;
  type: string;
  title: string;
  level: string;
  /** Counts for escalation, gold pass/fail and pausing (free text does not, unless turned on). */
  counts?: boolean;
  method: string;
  agreement: ControlAgreement;
  labels: LabelRow[];
  confusion: { labels: string[]; matrix: number[][] } | null;
  pairs: { annotators: number[]; kappa: (number | null)[][]; shared: number[][] } | null;
}

export interface AnnotatorRow {
  id: number;
  username: string;
  annotations: number;
  agreement: number | null;
  gold_n: number;
  gold_accuracy: number | null;
  median_active_ms: number | null;
  per_hour: number | null;
  paused: boolean;
  paused_reason: string;
  low_quality: boolean;
}

export interface SliceRow {
  key: string;
  value: string;
  control: string;
  items: number;
  alpha: number | null;
  percent: number | null;
}

export interface GoldFlag {
  item_id: number;
  /** The item's external id or short key, and its page (the API adds both). */
  item_key?: string;
  item_url?: string;
  control: string;
  reference: unknown;
  answers: number;
  failure_rate: number;
}

export interface ModelRow {
  model: string;
  model_version: string;
  control: string;
  against: "consensus" | "gold" | string;
  n: number;
  accuracy: number | null;
  f1_macro: number | null;
  labels: { label: string; precision: number | null; recall: number | null; f1: number | null; support: number }[];
  slices: { key: string; value: string; n: number; accuracy: number | null }[];
}

export interface QualityReport {
  run: QualityRun;
  controls: ControlReport[];
  annotators: AnnotatorRow[];
  slices: SliceRow[];
  gold: { items: number; flagged: GoldFlag[]; by_control?: GoldByControl[]; counting_controls?: string[] };
  models: ModelRow[];
  /** Items this run sent to an extra annotator. */
  escalated: number;
  /** Real counts: this run's escalations and review flags, and what the database holds now. */
  escalation?: { escalated: number; flagged_for_review: number; waiting: number; items_escalated: number };
  paused: number[];
  /** Settings that keep work from finishing, read when the report is fetched. */
  settings_warnings?: SettingsWarning[];
}

export interface GoldByControl {
  control: string;
  counts: boolean;
  answers: number;
  accuracy: number | null;
}

export interface SettingsWarning {
  code: string;
  setting: string;
  message: string;
}

export interface HistoryPoint {
  run_id: number;
  finished_at: string;
  control: string;
  alpha: number | null;
  percent: number | null;
  annotations: number;
}

export interface QualityHistory {
  points: HistoryPoint[];
}

export interface QualityStatus {
  pending: boolean;
  last_run: QualityRun | null;
}

/** One row of GET /api/projects/<id>/members/ (only the fields the dashboard uses). */
export interface MemberRow {
  id: number;
  username: string;
  role: string;
  paused_at: string | null;
}

/** The CSV tables the API serves under quality/tables/<name>.csv. */
export const CSV_TABLES = ["annotators", "pairs", "labels", "confusion", "slices", "gold", "models", "history"] as const;
export type CsvTable = (typeof CSV_TABLES)[number];
