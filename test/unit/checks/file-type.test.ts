import { test } from 'node:test';
import assert from 'node:assert/strict';
import { executableType } from '../../../runtime/checks/file-type.js';
import { peExecutable } from '../../support/containers.js';

function withNewHeader(signature: string): Buffer {
  const image = Buffer.alloc(512);
  image.write('MZ', 0, 'latin1');
  image.writeUInt32LE(0x80, 0x3c);
  image.write(signature, 0x80, 'latin1');
  return image;
}

test('PE, NE, LE/LX and DOS programs are executables by their headers', () => {
  assert.equal(executableType(peExecutable())?.what, 'Windows executable (PE)');
  assert.equal(executableType(withNewHeader('NE'))?.what, 'Windows executable (NE)');
  assert.match(executableType(withNewHeader('LX'))?.what ?? '', /LE\/LX/);
  const dos = Buffer.alloc(512);
  dos.write('MZ', 0, 'latin1');
  dos.writeUInt16LE(0x10, 2);
  dos.writeUInt16LE(2, 4);
  dos.writeUInt16LE(2, 8);
  dos.writeUInt16LE(0x1c, 0x18);
  assert.equal(executableType(dos)?.what, 'DOS executable');
});

test('ELF, Mach-O and Windows shortcuts are recognised', () => {
  const elf = Buffer.alloc(64);
  elf.write('\x7fELF', 0, 'latin1');
  elf[4] = 2;
  elf[5] = 1;
  elf.writeUInt16LE(2, 16);
  assert.equal(executableType(elf)?.ext, 'elf');
  const macho = Buffer.alloc(64);
  macho.writeUInt32BE(0xcffaedfe, 0);
  assert.equal(executableType(macho)?.ext, 'macho');
  const lnk = Buffer.alloc(76);
  lnk.writeUInt32LE(0x4c, 0);
  Buffer.from('0114020000000000c000000000000046', 'hex').copy(lnk, 4);
  assert.equal(executableType(lnk)?.ext, 'lnk');
});

test('two letters are not a type: text starting with "MZ" is text', () => {
  assert.equal(executableType(Buffer.from('MZ is the code of the Mozambique office.\r\n'.repeat(40))), null);
  assert.equal(executableType(Buffer.from('MZ')), null);
  const javaClass = Buffer.alloc(64);
  javaClass.writeUInt32BE(0xcafebabe, 0);
  javaClass.writeUInt32BE(52, 4);
  assert.equal(executableType(javaClass), null, 'a Java class is not a universal binary');
});
