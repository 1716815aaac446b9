// Run tools/corpus-oracle.sh inside a tools/vm guest and print its JSON between markers on the
// console (the guest's filesystem is a throw-away overlay, so a file written there is lost):
//
//   npm run test:vm -- 6.12 --only node:$PWD/tools/vm-corpus-oracle.mjs > /tmp/vm-6.12.log
//   sed -n '/^=====BEGIN corpus-oracle=====$/,/^=====END corpus-oracle=====$/p' /tmp/vm-6.12.log \
//     | sed '1d;$d' > bpf/corpus/expected-vm-6.12.json
//
// (Build the oracle's bpftool on the host first — tools/libbpf-oracle.sh --bpftool — the guest sees
// the host's .cache read-only.)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(mkdtempSync(join(tmpdir(), 'corpus-oracle-')), 'expected.json');
execFileSync('bash', [join(repo, 'tools/corpus-oracle.sh'), out], { stdio: ['ignore', 'inherit', 'inherit'] });
process.stdout.write('=====BEGIN corpus-oracle=====\n' + readFileSync(out, 'utf8') + '=====END corpus-oracle=====\n');
