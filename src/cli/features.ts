// `features [--all] [--json]`: what the running kernel can do for BPF, probed (features.table()):
// attach and link kinds by default, map and program types too with --all. Each "no" line says why
// and what would bring it (a newer kernel, or a kernel configuration symbol).
import type { Command } from 'commander';
import type { FeatureRow } from '../features/api.js';
import { Exit } from './errors.js';

export interface FeaturesIo { out(text: string): void; err(text: string): void }

const GROUP_TITLE: Record<FeatureRow['group'], string> = { 'attach/link': 'attach and link kinds', 'map type': 'map types', 'program type': 'program types' };

/** The table as text: one line per feature, "yes"/"no", since which release, and for a no: why, and what it needs. */
export function renderFeatures(rows: FeatureRow[], note?: string): string {
  const width = Math.max(...rows.map((r) => r.name.length), 4);
  const lines: string[] = note ? [note, ''] : [];
  let group: string | undefined;
  for (const r of rows) {
    if (r.group !== group) {
      if (group) lines.push('');
      group = r.group;
      lines.push(`${GROUP_TITLE[r.group]}:`);
    }
    const since = `since ${r.since}${r.config ? `, ${r.config}` : ''}`;
    lines.push(`  ${(r.ok ? 'yes' : 'no').padEnd(4)}${r.name.padEnd(width)}  ${r.what ? `${r.what} ` : ''}(${since})`);
    if (!r.ok) {
      lines.push(`  ${''.padEnd(4)}${''.padEnd(width)}  why: ${r.reason ?? 'unknown'}`);
      if (r.needs) lines.push(`  ${''.padEnd(4)}${''.padEnd(width)}  needs: ${r.needs}`);
    }
  }
  const no = rows.filter((r) => !r.ok).length;
  lines.push('', `${rows.length - no} of ${rows.length} present`);
  return lines.join('\n');
}

/** Register the `features` verb on `program`; `setExit` receives its exit code. */
export function registerFeatures(program: Command, io: FeaturesIo, setExit: (code: number) => void): Command {
  return program.command('features')
    .description('probe what this kernel can do for BPF: attach and link kinds (and with --all map and program types), with why not and what is needed')
    .option('--all', 'also every map type and program type')
    .option('--json', 'print the answers as JSON')
    .addHelpText('after', '\nExamples:\n  sudo sockaccel-ffi features\n  sudo sockaccel-ffi features --all --json | jq \'.[] | select(.ok | not)\'')
    .action(async (o: { all?: boolean; json?: boolean }) => {
      // The probes (and koffi) load when the verb runs, not for every --help.
      const { featureTable, privileged, PRIVILEGE_HINT } = await import('./verbs.js');
      const rows = featureTable(o.all ? ['attach/link', 'map type', 'program type'] : ['attach/link']);
      if (o.json) io.out(JSON.stringify(rows, null, 2) + '\n');
      else io.out(renderFeatures(rows, privileged() ? undefined : `note: not privileged, so the kernel refuses most probes (${PRIVILEGE_HINT})`) + '\n');
      setExit(Exit.ok);
    });
}
