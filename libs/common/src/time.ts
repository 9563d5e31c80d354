/** ISO 8601 UTC without milliseconds, the API's timestamp format: 2023-07-19T14:30:00Z. */
export function isoUtc(date: Date | null | undefined): string | null {
  if (!date) return null;
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
