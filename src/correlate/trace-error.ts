/** trace or diff cannot go on, for a reason of its own rather than a capture's (CaptureError). */
export class TraceError extends Error {}
