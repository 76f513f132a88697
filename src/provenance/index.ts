export { RunTracker } from './runs.js';
export { pinnedDefinition, type PinnedDefinition } from './tool-pins.js';
