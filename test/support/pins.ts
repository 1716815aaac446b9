// Temporary pin directories under bpffs, one per test, so tests never touch a real install.
import { RUN_ID } from './run-id.js';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

let counter = 0;
/** A fresh, not yet existing path under /sys/fs/bpf (up creates it). */
export function tempPinDir(tag: string): string {
  const dir = join('/sys/fs/bpf', `sae2e-${RUN_ID}-${++counter}-${tag.replace(/[^a-z0-9]/gi, '')}`);
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  return dir;
}

/** What is pinned there now ([] when the directory is gone). */
export function listPins(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function removePinDir(dir: string): void {
  if (!dir.startsWith('/sys/fs/bpf/sae2e-')) throw new Error(`refusing to remove ${dir}`);
  rmSync(dir, { recursive: true, force: true });
}
