/*
 * The built trace, for the tests of its worker threads (the decoder, the JSON writer), which
 * exist as built JavaScript only: npm test builds dist/ first. Typed as their sources.
 */

type Trace = typeof import('../../src/correlate/trace.js');
type Points = typeof import('../../src/correlate/points.js');
export const { trace } = (await import('../../dist/correlate/trace.js')) as Trace;
export const { parsePointArgument } = (await import('../../dist/correlate/points.js')) as Points;

/** bench/generate-path.mjs: six captures of one synthetic path. */
export const generator = (await import('../../bench/generate-path.mjs')) as unknown as {
  generatePath: (options: { packets: number; dir: string; seed?: number }) => unknown;
  POINT_FILES: string[];
};
