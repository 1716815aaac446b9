// The external tools tests use, and the package each comes from: tools/prerequisites.txt, the list
// `npm test` installs from. need('iperf3') returns the command to run, or throws
// "iperf3 not found: apt install iperf3", which fails the test that needs it and nothing else.
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

let packages: Map<string, string> | undefined;
/** The Debian package that provides `tool` (a command, or a file's absolute path), per the list. */
export function packageOf(tool: string): string | undefined {
  if (!packages) {
    packages = new Map();
    let text = '';
    try { text = readFileSync(join(REPO_ROOT, 'tools', 'prerequisites.txt'), 'utf8'); } catch { /* no list, no hints */ }
    for (const line of text.split('\n')) {
      const [pkg, ...provides] = line.replace(/#.*/, '').trim().split(/\s+/);
      if (pkg) for (const t of provides) packages.set(t, pkg);
    }
  }
  return packages.get(tool);
}

const isExecutable = (p: string) => {
  try { accessSync(p, constants.X_OK); return statSync(p).isFile(); } catch { return false; }
};

const found = new Map<string, string | undefined>();
/** Where `tool` is: an absolute path that exists, else NAME on PATH, else the highest NAME-NN on
 * PATH (clang-19 before clang-14), as tools/prereqs.sh finds them. */
export function findTool(tool: string): string | undefined {
  if (found.has(tool)) return found.get(tool);
  let hit: string | undefined;
  if (tool.startsWith('/')) {
    hit = existsSync(tool) ? tool : undefined;
  } else {
    const dirs = (process.env.PATH ?? '').split(':').filter((d) => d.startsWith('/'));
    hit = dirs.map((d) => join(d, tool)).find(isExecutable);
    if (!hit) {
      const versioned = new RegExp(`^${tool.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`);
      let best = -1;
      for (const d of dirs) {
        let names: string[];
        try { names = readdirSync(d); } catch { continue; }
        for (const n of names) {
          const m = versioned.exec(n);
          if (m && Number(m[1]) > best && isExecutable(join(d, n))) { best = Number(m[1]); hit = join(d, n); }
        }
      }
    }
  }
  found.set(tool, hit);
  return hit;
}

/** "TOOL not found: apt install PACKAGE". */
export function missingToolMessage(tool: string): string {
  const pkg = packageOf(tool);
  return `${tool} not found: ${pkg ? `apt install ${pkg}` : 'install it'}`;
}

/** The path to run `tool` by; throws naming the package to install when it is not there. */
export function need(tool: string): string {
  const path = findTool(tool);
  if (!path) throw new Error(missingToolMessage(tool));
  return path;
}
