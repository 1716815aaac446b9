// Support for the end-to-end tests: one import for the test files.
export * from './paths.js';
export * from './payload.js';
export * from './proc.js';
export * from './cgroup.js';
export * from './netns.js';
export * from './lo.js';
export * from './pins.js';
export * from './bpftool.js';
export * from './scope.js';
export * from './pypeer.js';
export * from './peers.js';
export * from './safety-peers.js';
export * from './tools.js';
export * from './skip.js';
export * from './nobody.js';
