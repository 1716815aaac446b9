// The shipped JavaScript: three ESM bundles built with esbuild from the TypeScript sources.
//   dist/pkg/index.js  `sockaccel-ffi`        — the loader
//   dist/pkg/accel.js  `sockaccel-ffi/accel`  — the accelerator; imports the loader bundle, so both
//                                               share one copy of its classes (instanceof works)
//   dist/pkg/cli.js    the `sockaccel-ffi` command: one file, so a command loads one module
// koffi stays external (a native addon, loaded by the first syscall). elfy and commander are inlined:
// loading them through Node's CommonJS loader costs more than the rest of `up` (docs/performance.md).
// No source maps: the package does not ship the sources they would point at.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
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

/** The accelerator bundle imports the loader's public entry from the loader bundle instead of inlining it. */
const loaderExternal = {
  name: 'loader-external',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/index\.js$/ }, (args) => (args.importer.includes(`${join('src', 'accel')}`) ? { path: './index.js', external: true } : undefined));
  },
};

await build({ ...common, entryPoints: { index: join(root, 'src', 'index.ts') } });
await build({ ...common, entryPoints: { accel: join(root, 'src', 'accel', 'index.ts') }, plugins: [loaderExternal] });
await build({ ...common, entryPoints: { cli: join(root, 'src', 'cli', 'main.ts') }, banner: common.banner });
