export { inspectObject, renderInspection, listFunction, HEX_FROM } from './inspect.js';
export type { Inspection, InspectLine, InspectListing, InspectMap, InspectProgram, InspectRelocation, InspectBtf, InspectCoreRelo } from './inspect.js';
