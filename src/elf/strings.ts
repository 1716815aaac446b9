// NUL-terminated strings out of string tables, with bounds checks: a bad index is an ObjectError,
// never a RangeError or a string that silently runs off the end of the table.
import { ObjectError } from '../errors.js';

/**
 * The string at `offset` in `table`. `where` names the table for the error (file and section).
 * `offset` is relative to the table.
 */
export function readCString(table: Buffer, offset: number, where: { file: string; section: string; what: string }): string {
  if (!Number.isInteger(offset) || offset < 0 || offset >= table.length) {
    throw new ObjectError(where.file, `${where.what}: string index ${offset} is outside the string table (size ${table.length})`, { section: where.section, offset });
  }
  const end = table.indexOf(0, offset);
  if (end < 0) {
    throw new ObjectError(where.file, `${where.what}: string at index ${offset} is not NUL-terminated`, { section: where.section, offset });
  }
  return table.toString('utf8', offset, end);
}
