/**
 * Prometheus without Docker, for `npm run stack -- --monitoring` and the monitoring test.
 * monitoring/prometheus/prometheus.yml is written for Docker, where each job reaches its
 * service by name; here the same jobs and rule files are kept and only each job's target
 * is pointed at a local port, so the two never drift apart.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';

const prometheusConfigSchema = z.looseObject({
  global: z.looseObject({ scrape_interval: z.string().optional(), evaluation_interval: z.string().optional() }),
  rule_files: z.array(z.string()).min(1),
  scrape_configs: z.array(
    z.looseObject({
      job_name: z.string(),
      static_configs: z.array(z.looseObject({ targets: z.array(z.string()).min(1) })).length(1),
    }),
  ),
});

export type PrometheusConfig = z.infer<typeof prometheusConfigSchema>;

/** monitoring/prometheus: the scrape config and the alert rules it names. */
export function prometheusConfigDir(root: string): string {
  return path.join(root, 'monitoring', 'prometheus');
}

/** The shared config, as Docker's Prometheus reads it. */
export function readPrometheusConfig(root: string): PrometheusConfig {
  const file = path.join(prometheusConfigDir(root), 'prometheus.yml');
  return prometheusConfigSchema.parse(parse(readFileSync(file, 'utf8')));
}

export interface LocalPrometheusOptions {
  /** `host:port` for every job of the shared config, and for no other. */
  targets: Record<string, string>;
  /** Absolute rule files; default: the shared config's own (a test passes a copy with shorter `for:`). */
  ruleFiles?: string[];
  /** Scrape and evaluation interval; default: the shared config's (a test wants `1s`). */
  interval?: string;
}

/** The shared config with local targets, as YAML text for `--config.file`. */
export function localPrometheusConfig(root: string, options: LocalPrometheusOptions): string {
  const shared = readPrometheusConfig(root);
  const jobs = shared.scrape_configs.map((job) => job.job_name);
  // Both directions: a job added to the shared file must get a local target, and a
  // misspelt local name must not become a job of its own.
  const unknown = Object.keys(options.targets).filter((job) => !jobs.includes(job));
  const missing = jobs.filter((job) => options.targets[job] === undefined);
  if (unknown.length > 0 || missing.length > 0) {
    throw new Error(
      `local Prometheus targets do not match the jobs of monitoring/prometheus/prometheus.yml ` +
        `(${jobs.join(', ')}): missing ${missing.join(', ') || 'none'}, unknown ${unknown.join(', ') || 'none'}`,
    );
  }
  const config: PrometheusConfig = {
    ...shared,
    global: {
      ...shared.global,
      ...(options.interval ? { scrape_interval: options.interval, evaluation_interval: options.interval } : {}),
    },
    // Relative rule files are relative to the config file, which is written elsewhere.
    rule_files: options.ruleFiles ?? shared.rule_files.map((file) => path.resolve(prometheusConfigDir(root), file)),
    scrape_configs: shared.scrape_configs.map((job) => ({
      ...job,
      static_configs: [{ ...job.static_configs[0], targets: [options.targets[job.job_name] ?? ''] }],
    })),
  };
  return `# Generated from monitoring/prometheus/prometheus.yml (scripts/monitoring.ts); edit that file.\n${stringify(config)}`;
}

/** Debian's `prometheus` on loopback, with its data where the caller says. */
export function prometheusArgs(options: { configFile: string; dataDir: string; port: number }): string[] {
  return [
    `--config.file=${options.configFile}`,
    `--storage.tsdb.path=${options.dataDir}`,
    `--web.listen-address=127.0.0.1:${options.port}`,
    '--storage.tsdb.retention.time=15d',
    // Its info lines (one per start step and compaction) would crowd out the services' logs.
    '--log.level=warn',
  ];
}
