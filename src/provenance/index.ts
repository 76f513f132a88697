export {
  DEFAULT_RUN_LIMITS,
  lowerTrust,
  RunTracker,
  type ContentLabel,
  type RunLimits,
} from './runs.js';
export { destinations, leafStrings, normalise, valueKeys } from './values.js';
export {
  labelContent,
  labelResult,
  promptTexts,
  resourceTexts,
  resultTexts,
  type ResultLabel,
} from './labels.js';
export { restoreRuns } from './restore.js';
export { pinnedDefinition, type PinnedDefinition } from './tool-pins.js';
