// A Buffer over part of an ArrayBuffer, made the cheap way. Buffer.from(arrayBuffer, offset, length)
// validates its arguments on every call, which costs as much as the rest of handing out a record;
// a Uint8Array subclass whose prototype chain goes through Buffer.prototype is a Buffer to every
// user (instanceof, Buffer.isBuffer, every method) and is constructed directly. Pure: no syscalls.
class RecordView extends Uint8Array {}
Object.setPrototypeOf(RecordView.prototype, Buffer.prototype);
// As on Node's own Buffers: .constructor is Buffer (deep equality compares it), and subarray()
// goes through Buffer[Symbol.species], a plain Buffer.
Object.defineProperty(RecordView.prototype, 'constructor', { value: Buffer, writable: true, configurable: true });

/** memory[offset, offset + length) as a Buffer; no copy. The caller keeps the range in bounds. */
export function viewOf(memory: ArrayBuffer, offset: number, length: number): Buffer {
  return new RecordView(memory, offset, length) as unknown as Buffer;
}
