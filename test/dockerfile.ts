/**
 * Reads the subset of Dockerfile syntax the project's Dockerfile uses (FROM ... AS,
 * WORKDIR, COPY [--from], RUN, ENV, USER, EXPOSE, HEALTHCHECK, CMD, ENTRYPOINT), so tests
 * can check it and replay its build steps without a Docker engine.
 */

export interface CopyStep {
  from?: string;
  sources: string[];
  dest: string;
}

export interface Stage {
  name: string;
  from: string;
  run: string[];
  copies: CopyStep[];
  env: Record<string, string>;
  user?: string;
  healthcheck?: string;
  /** ENTRYPOINT then CMD, as exec-form arrays. */
  entrypoint: string[];
  cmd: string[];
}

export interface Dockerfile {
  stages: Stage[];
  stage(name: string): Stage;
  /** The user a stage runs as, following its FROM chain. */
  userOf(name: string): string | undefined;
  /** The full command a stage starts (ENTRYPOINT + CMD, inherited through FROM). */
  commandOf(name: string): string[];
}

function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
    } else {
      lines.push((current + line).replace(/\s+/g, ' ').trim());
      current = '';
    }
  }
  return lines;
}

function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) {
    throw new Error(`expected an exec-form array: ${args}`);
  }
  return parsed;
}

export function parseDockerfile(text: string): Dockerfile {
  const stages: Stage[] = [];
  for (const line of logicalLines(text)) {
    const [instruction = '', ...rest] = line.split(' ');
    const args = rest.join(' ');
    const keyword = instruction.toUpperCase();
    if (keyword === 'FROM') {
      const match = /^(\S+)(?: AS (\S+))?$/i.exec(args);
      if (!match) throw new Error(`bad FROM: ${line}`);
      const [, from = '', name = `stage${stages.length}`] = match;
      stages.push({
        name,
        from,
        run: [],
        copies: [],
        env: {},
        entrypoint: [],
        cmd: [],
      });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${keyword} before FROM`);
    if (keyword === 'RUN') stage.run.push(args);
    else if (keyword === 'USER') stage.user = args;
    else if (keyword === 'HEALTHCHECK') stage.healthcheck = args;
    else if (keyword === 'CMD') stage.cmd = execForm(args);
    else if (keyword === 'ENTRYPOINT') stage.entrypoint = execForm(args);
    else if (keyword === 'ENV') {
      const [key = '', value = ''] = args.split('=');
      stage.env[key] = value;
    } else if (keyword === 'COPY') {
      const parts = args.split(' ');
      const from = parts[0]?.startsWith('--from=') ? parts.shift()?.slice('--from='.length) : undefined;
      const dest = parts.pop() ?? '';
      stage.copies.push({ ...(from ? { from } : {}), sources: parts, dest });
    } else if (!['WORKDIR', 'EXPOSE', 'ARG', 'LABEL'].includes(keyword)) {
      throw new Error(`unsupported instruction ${keyword}`);
    }
  }
  const stage = (name: string): Stage => {
    const found = stages.find((s) => s.name === name);
    if (!found) throw new Error(`no stage ${name}`);
    return found;
  };
  const chain = (name: string): Stage[] => {
    const s = stage(name);
    return stages.some((p) => p.name === s.from) ? [...chain(s.from), s] : [s];
  };
  return {
    stages,
    stage,
    userOf: (name) => chain(name).reduce<string | undefined>((user, s) => s.user ?? user, undefined),
    commandOf: (name) => {
      let entrypoint: string[] = [];
      let cmd: string[] = [];
      for (const s of chain(name)) {
        if (s.entrypoint.length > 0) entrypoint = s.entrypoint;
        if (s.cmd.length > 0) cmd = s.cmd;
      }
      return [...entrypoint, ...cmd];
    },
  };
}
