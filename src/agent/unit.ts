// `agent --print-unit`: the systemd unit shipped in deploy/systemd/, with ExecStart pointing at this
// installation (node and the CLI bundle by their real paths) and the config file asked for.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const UNIT = join('deploy', 'systemd', 'sockaccel-ffi.service');

/** The shipped unit: found from this module up (dist/pkg/cli.js, dist/src/agent/unit.js). */
export function unitTemplatePath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++, dir = dirname(dir)) if (existsSync(join(dir, UNIT))) return join(dir, UNIT);
  throw new Error(`cannot find ${UNIT} in the package: reinstall it`);
}

/** Paths systemd's ProtectHome= hides. */
const isUnderHome = (p: string) => /^\/(root|home|run\/user)(\/|$)/.test(p);
/** systemd splits ExecStart on spaces: quote what has any. */
const quote = (s: string) => (/[\s"'\\]/.test(s) ? `"${s.replace(/(["\\])/g, '\\$1')}"` : s);

/** The unit text for node `node` running the CLI bundle `cli` with `--config config`, and warnings. */
export function renderUnit(o: { node: string; cli: string; config: string; template?: string }): { text: string; warnings: string[] } {
  const template = o.template ?? readFileSync(unitTemplatePath(), 'utf8');
  const warnings: string[] = [];
  const exec = `ExecStart=${quote(o.node)} ${quote(o.cli)} agent --config ${quote(o.config)}`;
  if (!/^ExecStart=.*$/m.test(template)) throw new Error('the shipped unit has no ExecStart= line: reinstall the package');
  let text = template.replace(/^ExecStart=.*$/m, exec);
  if (/\/_npx\//.test(o.cli)) warnings.push(`${o.cli} is in npx's cache, which npm may clean: install the package (npm install -g sockaccel-ffi) and print the unit from there`);
  if (isUnderHome(o.cli) || isUnderHome(o.node)) {
    // ProtectHome=yes would hide the program itself; read-only still keeps home directories unwritable.
    text = text.replace(/^ProtectHome=.*$/m, 'ProtectHome=read-only');
    warnings.push(`${isUnderHome(o.cli) ? o.cli : o.node} is under a home directory: the unit uses ProtectHome=read-only instead of yes (better: install the package system-wide)`);
  }
  return { text, warnings };
}
