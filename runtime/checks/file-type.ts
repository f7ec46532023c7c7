// Executables recognised by their real structure, not by two letters: a text file that happens to
// start with "MZ" is text. Each signature is what the loader itself checks before it runs the file.
export interface ExecutableType {
  /** The extension the banned list names this type by. */
  ext: string;
  what: string;
}

const ascii = (magic: Buffer, at: number, length: number) => (magic.length >= at + length ? magic.toString('latin1', at, at + length) : '');

/** MZ with e_lfanew pointing at a PE, NE or LE/LX header; or a DOS program with a sane MZ header. */
function dosFamily(magic: Buffer): ExecutableType | null {
  if (ascii(magic, 0, 2) !== 'MZ' || magic.length < 64) return null;
  const newHeader = magic.readUInt32LE(0x3c);
  if (newHeader >= 0x40 && newHeader + 4 <= magic.length) {
    const signature = ascii(magic, newHeader, 4);
    if (signature === 'PE\0\0') return { ext: 'exe', what: 'Windows executable (PE)' };
    const short = signature.slice(0, 2);
    if (short === 'NE') return { ext: 'exe', what: 'Windows executable (NE)' };
    if (short === 'LE' || short === 'LX') return { ext: 'exe', what: 'OS/2 or VxD executable (LE/LX)' };
  }
  // A plain DOS program: relocation table and header size inside the header, pages counted; text
  // cannot carry the NUL bytes these small numbers need.
  const relocations = magic.readUInt16LE(0x18);
  const headerParagraphs = magic.readUInt16LE(0x08);
  const pages = magic.readUInt16LE(0x04);
  const lastPage = magic.readUInt16LE(0x02);
  if (relocations >= 0x1c && relocations < 0x400 && headerParagraphs >= 2 && headerParagraphs < 0x1000 && pages > 0 && pages < 0x2000 && lastPage < 512) {
    return { ext: 'exe', what: 'DOS executable' };
  }
  return null;
}

function elf(magic: Buffer): ExecutableType | null {
  if (ascii(magic, 0, 4) !== '\x7fELF' || magic.length < 20) return null;
  const klass = magic[4];
  const order = magic[5];
  if ((klass !== 1 && klass !== 2) || (order !== 1 && order !== 2)) return null;
  const type = order === 1 ? magic.readUInt16LE(16) : magic.readUInt16BE(16);
  return type === 2 || type === 3 ? { ext: 'elf', what: 'ELF executable' } : null;
}

const MACH_O = new Set([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe]);

function machO(magic: Buffer): ExecutableType | null {
  if (magic.length < 8) return null;
  if (MACH_O.has(magic.readUInt32BE(0))) return { ext: 'macho', what: 'Mach-O executable' };
  // Universal binaries share 0xcafebabe with Java classes; few architectures tells them apart.
  if (magic.readUInt32BE(0) === 0xcafebabe && magic.readUInt32BE(4) > 0 && magic.readUInt32BE(4) < 20)
    return { ext: 'macho', what: 'Mach-O universal executable' };
  return null;
}

const LNK_CLSID = Buffer.from('0114020000000000c000000000000046', 'hex');

function shortcut(magic: Buffer): ExecutableType | null {
  if (magic.length >= 20 && magic.readUInt32LE(0) === 0x4c && magic.subarray(4, 20).equals(LNK_CLSID)) return { ext: 'lnk', what: 'Windows shortcut' };
  return null;
}

/** The executable type of a file from its first bytes (at least 512 of them), or null. */
export function executableType(magic: Buffer): ExecutableType | null {
  return dosFamily(magic) ?? elf(magic) ?? machO(magic) ?? shortcut(magic);
}
