// OLE2 compound files (MSI, old Office, Outlook .msg): the root's class id and the names in the
// directory, enough to tell an installer (MSI/MSP/MST) or a document with VBA macros. Every sector
// number is checked and every chain is bounded, so a damaged file is a DecodeError, never a hang.
import { DecodeError } from './decode-error.js';

export interface OleSummary {
  /** The root entry's CLSID as its 16 bytes in hex, as stored. */
  rootClass: string;
  names: string[];
}

const END_OF_CHAIN = 0xfffffffe;
const INSTALLER_CLASSES: Record<string, string> = {
  '84100c0000000000c000000000000046': 'Windows Installer package (MSI)',
  '86100c0000000000c000000000000046': 'Windows Installer patch (MSP)',
  '82100c0000000000c000000000000046': 'Windows Installer transform (MST)',
};

export function readOle(data: Buffer): OleSummary {
  if (data.length < 512 || data.readUInt32LE(0) !== 0xe011cfd0) throw new DecodeError('not an OLE2 file');
  const shift = data.readUInt16LE(0x1e);
  if (shift !== 9 && shift !== 12) throw new DecodeError('corrupt OLE2 header');
  const sectorSize = 1 << shift;
  const sectorCount = Math.floor((data.length - sectorSize) / sectorSize) + 1;
  const sector = (n: number) => {
    if (n >= sectorCount) throw new DecodeError('corrupt OLE2 (sector out of range)');
    const start = (n + 1) * sectorSize;
    return data.subarray(start, Math.min(start + sectorSize, data.length));
  };

  const fatSectors: number[] = [];
  for (let i = 0; i < 109; i++) {
    const n = data.readUInt32LE(0x4c + i * 4);
    if (n < 0xfffffffa) fatSectors.push(n);
  }
  let difat = data.readUInt32LE(0x44);
  for (let hops = 0; difat < 0xfffffffa && hops < sectorCount; hops++) {
    const block = sector(difat);
    for (let i = 0; i + 4 < sectorSize; i += 4) {
      const n = block.readUInt32LE(i);
      if (n < 0xfffffffa) fatSectors.push(n);
    }
    difat = block.readUInt32LE(sectorSize - 4);
  }
  const fat = Buffer.concat(fatSectors.map(sector));
  const next = (n: number) => (n * 4 + 4 <= fat.length ? fat.readUInt32LE(n * 4) : END_OF_CHAIN);

  const names: string[] = [];
  let rootClass = '';
  let dir = data.readUInt32LE(0x30);
  for (let hops = 0; dir !== END_OF_CHAIN; hops++) {
    if (hops > sectorCount) throw new DecodeError('corrupt OLE2 (directory chain loops)');
    const block = sector(dir);
    for (let at = 0; at + 128 <= block.length; at += 128) {
      const type = block[at + 0x42];
      if (type !== 1 && type !== 2 && type !== 5) continue;
      const nameLength = Math.min(block.readUInt16LE(at + 0x40), 64);
      const name = block.toString('utf16le', at, at + Math.max(0, nameLength - 2));
      if (type === 5) rootClass = block.toString('hex', at + 0x50, at + 0x60);
      else names.push(name);
    }
    dir = next(dir);
  }
  return { rootClass, names };
}

export function installerKind(summary: OleSummary): string | null {
  return INSTALLER_CLASSES[summary.rootClass] ?? null;
}

export function hasOleMacros(summary: OleSummary): boolean {
  return summary.names.some((n) => n === '_VBA_PROJECT' || n === 'VBA' || n === 'Macros' || n === '_VBA_PROJECT_CUR');
}

/** An Office Open XML package with a VBA project in it (word/vbaProject.bin, xl/…, ppt/…). */
export function isOoxmlMacroEntry(name: string): boolean {
  return /(^|\/)vbaProject\.bin$/i.test(name);
}
