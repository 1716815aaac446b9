// What the verbs run, behind one dynamic import: a verb then loads this module's chunk (and the few
// small modules cli.js shares with it) instead of one chunk per module it reaches. `up` loaded 20
// files through Node's ESM loader before, each resolved, read and linked on its own
// (docs/performance.md). `--help` loads none of it.
export * from '../accel/index.js';
export { requirePrivileges } from '../accel/privileges.js';
export { runAgent, createLogger, resolveConfig, readConfigFile, parsePortList, toConfigFile, renderUnit } from '../agent/index.js';
export { renderText, runBench, writeBenchOutputs } from '../bench/index.js';
export { featureTable } from '../features/api.js';
export { privileged, PRIVILEGE_HINT } from '../sys/caps.js';
export { parseObject } from '../object/index.js';
export { generateModule } from '../gen/typescript.js';
export { inspectObject, renderInspection } from '../inspect/inspect.js';
