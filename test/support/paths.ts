// Where things are, from the compiled location (dist/test/support/*.js) back to the repository.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (…/dist/test/support → …). */
export const REPO_ROOT = resolve(here, '..', '..', '..');
/** The compiled CLI entry point. */
export const CLI = resolve(REPO_ROOT, 'dist', 'pkg', 'cli.js');
/** The compiled Node peer script (test/support/peer.ts). */
export const NODE_PEER = resolve(here, 'peer.js');
