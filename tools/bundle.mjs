// The shipped JavaScript: three ESM bundles built with esbuild from the TypeScript sources.
//   dist/pkg/index.js  `sockaccel-ffi`        — the loader
//   dist/pkg/accel.js  `sockaccel-ffi/accel`  — the accelerator; imports the loader bundle, so both
//                                               share one copy of its classes (instanceof works)
//   dist/pkg/cli.js    the `sockaccel-ffi` command, with its verbs in dist/pkg/cli-chunks/
// koffi stays external (a native addon, loaded by the first syscall). elfy and commander are inlined:
// loading them through Node's CommonJS loader costs more than the rest of `up` (docs/performance.md).
// No source maps: the package does not ship the sources they would point at.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const common = {
  bundle: true, platform: 'node', format: 'esm', target: 'node20', outdir: join(root, 'dist', 'pkg'),
  external: ['koffi'], logLevel: 'warning', legalComments: 'none', sourcemap: false,
  // Bundled CommonJS (elfy, commander) calls require() for Node builtins; give ESM output one.
  banner: { js: "import { createRequire as __sockaccelRequire } from 'node:module'; const require = __sockaccelRequire(import.meta.url);" },
  define: { __SOCKACCEL_VERSION__: JSON.stringify(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version) },
};

/**
 * Node builtins through require(), not `import`: an ESM import of a builtin builds its ESM facade,
 * which reads every export — `node:fs` then loads fs/promises and the streams, `node:crypto` all of
 * crypto — about 60 ms of a `--help` on a small machine (docs/performance.md). require() returns the
 * CommonJS module as it is, and its lazy getters stay lazy.
 */
// Builtins that cost milliseconds to load and that no module uses at its top level: each is a proxy
// that requires the real module on first use. Together ~13 ms of an `import('sockaccel-ffi')` on
// the 2-vCPU VM (net and dgram for socket-fd's instanceof checks, zlib for /proc/config.gz, crypto
// for hashes, fs/promises for the async BTF read; commander's child_process for subcommands we do
// not use). The key list comes from this Node: esbuild's ESM interop copies a module's own keys.
const LAZY_BUILTINS = new Set(['node:child_process', 'node:net', 'node:dgram', 'node:zlib', 'node:crypto', 'node:fs/promises']);
const nodeRequire = createRequire(import.meta.url);
function lazyBuiltinSource(path) {
  const keys = JSON.stringify(Object.getOwnPropertyNames(nodeRequire(path)));
  return `let m; const real = () => (m ??= require(${JSON.stringify(path)})); const keys = ${keys}; const known = new Set(keys);
module.exports = new Proxy({}, {
  get: (_, k) => real()[k],
  has: (_, k) => k in real(),
  ownKeys: () => keys,
  getOwnPropertyDescriptor: (_, k) => (known.has(k) ? { configurable: true, enumerable: true, get: () => real()[k] } : undefined),
});`;
}
const builtinsByRequire = {
  name: 'builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => {
      // A dynamic import() stays an import(): esbuild's CommonJS interop would hand it an empty namespace.
      if (args.namespace === 'node-builtin' || args.namespace === 'lazy-builtin' || args.kind === 'dynamic-import') return { path: args.path, external: true };
      return { path: args.path, namespace: LAZY_BUILTINS.has(args.path) ? 'lazy-builtin' : 'node-builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({ contents: lazyBuiltinSource(args.path), loader: 'js' }));
  },
};

/** The accelerator bundle imports the loader's public entry from the loader bundle instead of inlining it. */
const loaderExternal = {
  name: 'loader-external',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/index\.js$/ }, (args) => (args.importer.includes(`${join('src', 'accel')}`) ? { path: './index.js', external: true } : undefined));
  },
};

await build({ ...common, entryPoints: { index: join(root, 'src', 'index.ts') }, plugins: [builtinsByRequire] });
await build({ ...common, entryPoints: { accel: join(root, 'src', 'accel', 'index.ts') }, plugins: [loaderExternal, builtinsByRequire] });
// The CLI is split: cli.js holds commander and the verbs' wiring, and each verb's dynamic import()
// (the accelerator, the bench, inspect) is a chunk loaded when the verb runs, so `--help` parses
// a fraction of the code.
// Chunk names carry a content hash: old ones would pile up (and ship) without this.
rmSync(join(root, 'dist', 'pkg', 'cli-chunks'), { recursive: true, force: true });
await build({ ...common, entryPoints: { cli: join(root, 'src', 'cli', 'main.ts') }, plugins: [builtinsByRequire], splitting: true, chunkNames: 'cli-chunks/[name]-[hash]' });
