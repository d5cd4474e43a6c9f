import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** The parts of a V8 `.cpuprofile` (as `node --cpu-prof` writes it) that a summary needs. */
const profileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
      hitCount: z.number().optional(),
    }),
  ),
  startTime: z.number(),
  endTime: z.number(),
  samples: z.array(z.number()).optional(),
});

export interface ProfileEntry {
  name: string;
  /** Share of all samples, in %. */
  selfPercent: number;
}

export interface ProfileSummary {
  file: string;
  seconds: number;
  /** Where the samples fall, by package or project workspace. */
  byModule: ProfileEntry[];
  /** The functions with the most samples of their own. */
  byFunction: ProfileEntry[];
}

/** `node_modules/kafkajs/...` -> `kafkajs`; `/repo/aggregator/src/x.ts` -> `aggregator/src/x.ts`; `node:...` stays. */
export function moduleOf(url: string, root: string, functionName = ''): string {
  // V8's own entries: (garbage collector), (program), (idle), (root); other url-less frames are native code.
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const clean = url.replace(/^file:\/\//, '');
  const nm = clean.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = clean.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? clean);
  }
  if (clean.startsWith('node:')) return 'node (built-in)';
  return clean.startsWith(root) ? path.relative(root, clean) : clean;
}

function top(counts: Map<string, number>, total: number, limit: number): ProfileEntry[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, hits]) => ({ name, selfPercent: Math.round((hits / Math.max(1, total)) * 1000) / 10 }));
}

/** Self-time shares by module and by function of one `.cpuprofile`. */
export function summarizeProfile(text: string, file: string, root: string, limit = 12): ProfileSummary {
  const profile = profileSchema.parse(JSON.parse(text));
  const hits = new Map<number, number>();
  if (profile.samples) for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  else for (const node of profile.nodes) hits.set(node.id, node.hitCount ?? 0);
  const byModule = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const count = hits.get(node.id) ?? 0;
    if (count === 0) continue;
    total += count;
    const { functionName, url, lineNumber } = node.callFrame;
    const module = moduleOf(url, root, functionName);
    byModule.set(module, (byModule.get(module) ?? 0) + count);
    // Code compiled on the fly (tsx) reports line 0 for everything: the file alone says more.
    const where = url ? (lineNumber > 0 ? `${module}:${lineNumber + 1}` : module) : '';
    const name = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + count);
  }
  return {
    file,
    seconds: Math.round((profile.endTime - profile.startTime) / 1e5) / 10,
    byModule: top(byModule, total, limit),
    byFunction: top(byFunction, total, limit),
  };
}

/** Summaries of the main-thread `.cpuprofile`s in `dir` (one per profiled process that exited cleanly). */
export function summarizeProfiles(dir: string, root: string): ProfileSummary[] {
  let files: string[];
  try {
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (tsx adds a loader thread).
    files = readdirSync(dir).filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  } catch {
    return [];
  }
  return files.map((f) =>
    summarizeProfile(readFileSync(path.join(dir, f), 'utf8'), path.relative(root, path.join(dir, f)), root),
  );
}
