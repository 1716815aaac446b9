// The agent: `sockaccel-ffi agent`, the accelerator run as a service (see agent.ts).
export { Agent, runAgent, upOptionsOf, type AgentOptions } from './agent.js';
export { parseConfigText, readConfigFile, parsePortList, checkConfigFile, resolveConfig, toConfigFile, parseListen, formatListen, DEFAULT_LISTEN, type AgentConfig, type AgentConfigFile } from './config.js';
export { createLogger, formatLine, type Logger, type LogFormat } from './log.js';
export { renderMetrics, CONTENT_TYPE, type Snapshot, type AgentState } from './metrics.js';
export { renderUnit, unitTemplatePath } from './unit.js';
