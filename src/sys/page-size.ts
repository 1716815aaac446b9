// The system page size: the unit of ring buffer sizes and of every ring mapping.
import { readFileSync } from 'node:fs';

let pageSize: number | undefined;
/** The page size (AT_PAGESZ from the auxiliary vector; 4096 when it cannot be read). */
export function systemPageSize(): number {
  if (pageSize !== undefined) return pageSize;
  pageSize = 4096;
  try {
    const auxv = readFileSync('/proc/self/auxv');
    for (let at = 0; at + 16 <= auxv.length; at += 16) {
      const key = auxv.readBigUInt64LE(at);
      if (key === 0n) break;
      if (key === 6n) { pageSize = Number(auxv.readBigUInt64LE(at + 8)); break; } // AT_PAGESZ
    }
  } catch { /* keep 4096 */ }
  return pageSize;
}
