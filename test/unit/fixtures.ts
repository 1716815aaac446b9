// Paths to the committed BPF test objects, from the compiled test (dist/test/unit) back to the repo.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const FIXTURE_DIR = resolve(REPO_ROOT, 'bpf', 'fixtures');
export const FIXTURES = ['calls', 'core', 'globals', 'legacy_maps', 'maps', 'typed_maps', 'verifier_reject'] as const;
export type FixtureName = (typeof FIXTURES)[number];

export function fixturePath(name: FixtureName): string {
  return resolve(FIXTURE_DIR, `${name}.bpf.o`);
}

export function readFixture(name: FixtureName): Buffer {
  return readFileSync(fixturePath(name));
}
