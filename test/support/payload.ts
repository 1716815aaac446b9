// Deterministic pseudo-random payloads: the AES-128-CTR keystream of a key derived from a seed.
// Fast (hundreds of MB/s), reproducible in any process, and never compressible or repetitive.
import { createCipheriv, createHash, type Cipher } from 'node:crypto';

const ZERO_CHUNK = Buffer.alloc(256 * 1024);

function cipherFor(seed: string): Cipher {
  const key = createHash('sha256').update('sae2e-payload:' + seed).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
}

/** Yield `total` bytes of the payload for `seed`, in chunks of at most `chunk` bytes. */
export function* payloadChunks(seed: string, total: number, chunk = 64 * 1024): Generator<Buffer> {
  const c = cipherFor(seed);
  const step = Math.min(chunk, ZERO_CHUNK.length);
  for (let done = 0; done < total;) {
    const n = Math.min(step, total - done);
    yield c.update(ZERO_CHUNK.subarray(0, n));
    done += n;
  }
}

/** The whole payload in one Buffer (for small and medium sizes). */
export function payload(seed: string, total: number): Buffer {
  return Buffer.concat([...payloadChunks(seed, total)]);
}

/** sha256 (hex) of the payload for `seed`, without keeping it in memory. */
export function payloadSha256(seed: string, total: number): string {
  const h = createHash('sha256');
  for (const b of payloadChunks(seed, total)) h.update(b);
  return h.digest('hex');
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
