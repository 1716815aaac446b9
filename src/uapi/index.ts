// The kernel's ABI as data: enum values and struct layouts. No imports outside this folder.
export * from './enums.js';
export * from './layout.js';
export * as attr from './attr.js';
export * as info from './info.js';
export * as perf from './perf.js';
