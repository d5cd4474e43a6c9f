import path from 'node:path';
import { summarizeProfiles, type ProfileSummary } from './cpu-profile.js';

/** Where one step's processes write their logs and, under --profile, their CPU profiles. */
export class StepFiles {
  constructor(
    private readonly logDir: string,
    private readonly fileTag: string,
    private readonly profiled: readonly string[],
  ) {}

  log(name: string): string {
    return path.join(this.logDir, `${this.fileTag}-${name}.log`);
  }

  profileDir(name: string): string {
    return path.join(this.logDir, `${this.fileTag}-${name}-profile`);
  }

  /** Node options for process `name`: --cpu-prof if `profiledAs` (its name unless told) was asked for. */
  nodeArgs(name: string, profiledAs = name): string[] {
    return this.profiled.includes(profiledAs) ? ['--cpu-prof', `--cpu-prof-dir=${this.profileDir(name)}`] : [];
  }

  /** Where the named processes spent their time (none for those not profiled). */
  profiles(root: string, names: readonly string[]): (ProfileSummary & { process: string })[] {
    return names.flatMap((name) =>
      summarizeProfiles(this.profileDir(name), root).map((summary) => ({ process: name, ...summary })),
    );
  }
}
