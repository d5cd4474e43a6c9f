/**
 * The monitoring files as the tests read them: the Grafana dashboard's queries, the alert
 * rules, and the PromQL pieces a test evaluates on its own (selectors, and each side of a
 * rule without its threshold).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { findProjectRoot } from '@candleflow/common/env';
import { parse } from 'yaml';
import { z } from 'zod';

const root = findProjectRoot();
export const dashboardFile = path.join(root, 'monitoring/grafana/provisioning/dashboards/candleflow.json');
export const alertsFile = path.join(root, 'monitoring/prometheus/alerts.yml');

const datasourceRef = z.object({ type: z.literal('prometheus'), uid: z.string().min(1) });
const gridPos = z.object({
  x: z.number().int().min(0),
  y: z.number().int().min(0),
  w: z.number().int().min(1).max(24),
  h: z.number().int().min(1),
});

/** The fields Grafana's file provisioning needs of a dashboard and its panels. */
export const dashboardSchema = z.looseObject({
  uid: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/),
  title: z.string().min(1),
  schemaVersion: z.number().int().min(36),
  panels: z
    .array(
      z.union([
        z.looseObject({
          id: z.number().int().positive(),
          type: z.literal('row'),
          title: z.string().min(1),
          gridPos,
          collapsed: z.boolean(),
          panels: z.array(z.unknown()).length(0),
        }),
        z.looseObject({
          id: z.number().int().positive(),
          type: z.enum(['timeseries', 'stat']),
          title: z.string().min(1),
          gridPos,
          datasource: datasourceRef,
          targets: z
            .array(
              z.looseObject({
                refId: z.string().regex(/^[A-Z]$/),
                expr: z.string().min(1),
                datasource: datasourceRef,
              }),
            )
            .min(1),
        }),
      ]),
    )
    .min(1),
});
export type Dashboard = z.infer<typeof dashboardSchema>;

export function readDashboard(): Dashboard {
  return dashboardSchema.parse(JSON.parse(readFileSync(dashboardFile, 'utf8')));
}

export interface PanelQuery {
  panel: string;
  refId: string;
  expr: string;
}

/** Every query of every panel. */
export function dashboardQueries(dashboard = readDashboard()): PanelQuery[] {
  return dashboard.panels.flatMap((panel) =>
    panel.type === 'row' ? [] : panel.targets.map((t) => ({ panel: panel.title, refId: t.refId, expr: t.expr })),
  );
}

const rulesSchema = z.object({
  groups: z
    .array(
      z.object({
        name: z.string(),
        rules: z
          .array(
            z.object({
              alert: z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/),
              expr: z.string().min(1),
              for: z.string().optional(),
              labels: z.object({ severity: z.enum(['warning', 'critical']) }),
              annotations: z.object({ summary: z.string().min(10), description: z.string().min(80) }),
            }),
          )
          .min(1),
      }),
    )
    .length(1),
});
export type AlertRules = z.infer<typeof rulesSchema>;

export function readAlertRules(): AlertRules {
  return rulesSchema.parse(parse(readFileSync(alertsFile, 'utf8')));
}

/**
 * The vector selectors of an expression (`name` or `name{matchers}`). Label lists of
 * `by (...)`, `on (...)` and the like, range durations and numbers are not selectors;
 * an identifier followed by `(` is a function or an aggregation.
 */
export function selectors(expr: string): string[] {
  const text = expr
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/(^|[^A-Za-z0-9_:])\d+(\.\d+)?(e[+-]?\d+)?/gi, '$1 ');
  const found = [...text.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*(\{[^}]*\})?(\s*\()?/g)].flatMap(
    ([, name, matchers, call]) =>
      call || name === undefined || ['and', 'or', 'unless', 'bool', 'offset'].includes(name)
        ? []
        : [`${name}${matchers ?? ''}`],
  );
  return [...new Set(found)];
}

/** Metric names of the selectors, histogram series reduced to the histogram's name. */
export function metricNames(expr: string): string[] {
  return [...new Set(selectors(expr).map((s) => s.replace(/\{.*$/, '').replace(/_(bucket|count|sum)$/, '')))];
}

/**
 * The sides of a rule's `and` / `or` / `unless` (at the outermost level), each without a
 * comparison to a number at its end: what must return series for the rule to be able to fire.
 */
export function withoutThresholds(expr: string): string[] {
  const sides: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') depth--;
    else if (depth === 0) {
      const keyword = /^\s(and|or|unless)\s/.exec(expr.slice(i));
      if (keyword) {
        sides.push(expr.slice(start, i));
        i += keyword[0].length - 1;
        start = i + 1;
      }
    }
  }
  sides.push(expr.slice(start));
  return sides.map((side) => side.trim().replace(/\s*(==|!=|>=|<=|>|<)\s*-?\d+(\.\d+)?(e[+-]?\d+)?$/i, ''));
}
