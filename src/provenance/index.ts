export { RunTracker } from './runs.js';
