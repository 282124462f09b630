/**
 * Which charts a report draws: per run (per stage for ST/ST++) one chart per loss term, one of
 * the learning rate and one of validation, and across runs an overlay of validation mIoU.
 */
import type { ChartSpec } from './chart.ts';
import type { LogSection, ReportRun } from './runs.ts';

export interface PlannedChart {
  /** the log section it plots: "" for a plain run, "stage1", … */
  section: string;
  /** file name inside the run's output folder */
  file: string;
  spec: ChartSpec;
}

const ITERATION = 'iteration';

/** File-name-safe form of a loss key or run name. */
export const safeName = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || 'x';

export function runCharts(run: ReportRun): PlannedChart[] {
  return run.sections.flatMap((section) => sectionCharts(run, section));
}

function sectionCharts(run: ReportRun, section: LogSection): PlannedChart[] {
  const prefix = section.label ? `${section.label}-` : '';
  const heading = section.label ? `${run.name} ${section.label}` : run.name;
  const { log } = section;
  const charts: PlannedChart[] = [];
  for (const [term, points] of log.losses) {
    if (points.length === 0) continue;
    charts.push({
      section: section.label,
      file: `${prefix}${safeName(term)}.png`,
      spec: { title: `${heading}: ${term}`, xLabel: ITERATION, yLabel: 'loss', series: [{ label: term, points, smooth: true }] },
    });
  }
  if (log.lr.length > 0) {
    charts.push({
      section: section.label,
      file: `${prefix}lr.png`,
      spec: { title: `${heading}: learning rate`, xLabel: ITERATION, yLabel: 'lr', series: [{ label: 'lr', points: log.lr }] },
    });
  }
  if (log.valMiou.length > 0) {
    // mIoU alone: pixel accuracy on the same axis would flatten its changes
    const net = log.valNet ? ` (${log.valNet})` : '';
    charts.push({
      section: section.label,
      file: `${prefix}val-miou.png`,
      spec: { title: `${heading}: val mIoU${net}`, xLabel: ITERATION, yLabel: 'mIoU', xMax: lastIteration(section), series: [{ label: 'val mIoU', points: log.valMiou }] },
    });
  }
  return charts;
}

/**
 * Validation mIoU of every run on one chart. A pipeline contributes its last stage with
 * validation: the final student, whose numbers results.json reports.
 */
export function overlaySpec(runs: ReportRun[]): ChartSpec {
  const series = runs.flatMap((run) => {
    const section = [...run.sections].reverse().find((s) => s.log.valMiou.length > 0);
    if (!section) return [];
    return [{ label: section.label ? `${run.name} (${section.label})` : run.name, points: section.log.valMiou, xMax: lastIteration(section) }];
  });
  const xMax = Math.max(...series.map((s) => s.xMax));
  return { title: 'validation mIoU', xLabel: ITERATION, yLabel: 'mIoU', xMax, series: series.map(({ label, points }) => ({ label, points })) };
}

/** The last iteration trained (or validated) in a section: where its x axis ends. */
function lastIteration(section: LogSection): number {
  const { log } = section;
  const last = (pts: { x: number }[]) => (pts.length ? pts[pts.length - 1]!.x : 0);
  return Math.max(last(log.lr), last(log.valMiou), ...[...log.losses.values()].map(last));
}
