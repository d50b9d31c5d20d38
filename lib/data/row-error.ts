/** Thrown by a row callback to reject a line (the reader adds the source name and line number). */
export class RowError extends Error {}
