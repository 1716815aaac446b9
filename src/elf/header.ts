// Checks the ELF header before elfy sees the file: a BPF object is a little-endian ELF64 relocatable
// file for EM_BPF, with a section header table that lies inside the file. Checking this first turns
// the common kinds of bad input into clear messages instead of elfy's internal errors.
import { ObjectError } from '../errors.js';
import { EM_BPF, ELF_HEADER_SIZE, ElfClass, ElfData, ElfType, SECTION_HEADER_SIZE } from './constants.js';

export interface ElfHeaderFacts {
  shoff: number;
  shnum: number;
  shstrndx: number;
}

export function checkElfHeader(buf: Buffer, file: string): ElfHeaderFacts {
  const fail = (message: string, offset: number): never => {
    throw new ObjectError(file, message, { offset });
  };
  if (buf.length < ELF_HEADER_SIZE) fail(`file is ${buf.length} bytes, too short for an ELF header (64): truncated or not an object file`, 0);
  if (buf.readUInt32BE(0) !== 0x7f454c46) fail('not an ELF file (bad magic): pass a BPF object compiled with clang -target bpf', 0);
  if (buf[4] !== ElfClass.ELF64) fail(`ELF class ${buf[4]} is not ELFCLASS64: BPF objects are 64-bit`, 4);
  if (buf[5] !== ElfData.LSB) fail(`ELF data encoding ${buf[5]} is not little-endian: build with -target bpf (or bpfel), not bpfeb`, 5);
  if (buf[6] !== 1) fail(`ELF ident version ${buf[6]} is not 1`, 6);
  const type = buf.readUInt16LE(16);
  if (type !== ElfType.REL) fail(`ELF type ${type} is not ET_REL: pass the clang -c output, not a linked file`, 16);
  const machine = buf.readUInt16LE(18);
  if (machine !== EM_BPF) fail(`ELF machine ${machine} is not EM_BPF (247): compile with clang -target bpf`, 18);
  const phnum = buf.readUInt16LE(56);
  if (phnum !== 0) fail(`a relocatable object has no program headers, but e_phnum is ${phnum}`, 56);
  const shoffBig = buf.readBigUInt64LE(40);
  const shentsize = buf.readUInt16LE(58);
  const shnum = buf.readUInt16LE(60);
  const shstrndx = buf.readUInt16LE(62);
  if (shentsize !== SECTION_HEADER_SIZE) fail(`section header size ${shentsize} is not ${SECTION_HEADER_SIZE}`, 58);
  if (shnum === 0) fail('the object has no section headers (e_shnum 0; extended numbering is not supported)', 60);
  if (shoffBig < BigInt(ELF_HEADER_SIZE) || shoffBig + BigInt(shnum * SECTION_HEADER_SIZE) > BigInt(buf.length)) {
    fail(`section header table (offset ${shoffBig}, ${shnum} entries) lies outside the file (${buf.length} bytes): truncated?`, 40);
  }
  if (shstrndx === 0 || shstrndx >= shnum) fail(`section name table index ${shstrndx} is not a section (e_shnum ${shnum})`, 62);
  return { shoff: Number(shoffBig), shnum, shstrndx };
}
