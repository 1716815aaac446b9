// Handing .BTF.ext records to the functions they describe: the byte offsets in .BTF.ext are from the
// start of the ELF section; FunctionSpec wants instruction indexes from the function's start.
import { ObjectError } from '../errors.js';
import type { BtfExt } from '../btf/index.js';
import type { ElfFile } from '../elf/index.js';
import { INSN_SIZE, type FunctionIndex, type FunctionSlot } from './functions.js';

export function distributeBtfExt(elf: ElfFile, ext: BtfExt, functions: FunctionIndex): void {
  const each = <T extends { insnOff: number }>(records: Map<string, T[]>, what: string, add: (fn: FunctionSlot, insn: number, r: T) => void) => {
    for (const [sectionName, list] of records) {
      const section = elf.section(sectionName);
      if (!section) {
        throw new ObjectError(elf.file, `${what} records name section "${sectionName}", which the object does not have`, { section: '.BTF.ext' });
      }
      for (const r of list) {
        const fn = functions.containing(section.index, r.insnOff);
        if (!fn) {
          throw new ObjectError(elf.file, `${what} record for ${sectionName} at byte ${r.insnOff} is not inside any function`, { section: '.BTF.ext' });
        }
        add(fn, (r.insnOff - fn.start) / INSN_SIZE, r);
      }
    }
  };
  each(ext.funcInfo, 'func_info', (fn, insn, r) => fn.spec.funcInfo.push({ insn, typeId: r.typeId }));
  each(ext.lineInfo, 'line_info', (fn, insn, r) => fn.spec.lineInfo.push({
    insn, fileName: r.fileName, line: r.line, lineNumber: r.lineNumber, column: r.column, fileNameOff: r.fileNameOff, lineOff: r.lineOff,
  }));
  each(ext.coreRelos, 'CO-RE relocation', (fn, insn, r) => fn.spec.coreRelos.push({ insn, typeId: r.typeId, accessor: r.accessor, kind: r.kind }));
}
