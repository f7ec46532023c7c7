// The banned-attachment check: file names and real types (magic bytes, so a renamed .exe is still
// an .exe) of every part, and of every file inside archives unless the policy allows banned files
// there. Attached messages are always opened. Depth, size and file-count limits bound the work.
import { extname } from 'node:path';
import { checkResult, type CheckResult } from './result.js';
import { containerKind, listContainer, type ContainerKind, type ListContext } from './archives.js';
import { walkMime, type MimePart, type MimeStructure } from './mime-walk.js';
import { InspectionBudget, InspectionLimitError } from './budget.js';

export interface BannedPolicy {
  bannedExtensions: string[];
  allowBannedInArchives: boolean;
  maxArchiveDepth: number;
  maxArchiveBytes: number;
  maxArchiveEntries: number;
}

const TYPE_EXTENSIONS: Record<string, string> = {
  'application/x-msdownload': 'exe',
  'application/x-msdos-program': 'exe',
  'application/x-dosexec': 'exe',
  'application/x-ms-dos-executable': 'exe',
  'application/vnd.microsoft.portable-executable': 'exe',
  'application/hta': 'hta',
  'text/vbscript': 'vbs',
  'application/x-vbscript': 'vbs',
  'application/x-ms-shortcut': 'lnk',
};

function magicExtension(magic: Buffer): { ext: string; what: string } | null {
  if (magic.length >= 2 && magic[0] === 0x4d && magic[1] === 0x5a) return { ext: 'exe', what: 'Windows executable' };
  if (magic.length >= 8 && magic.readUInt32LE(0) === 0x4c && magic.readUInt32LE(4) === 0x00021401) return { ext: 'lnk', what: 'Windows shortcut' };
  return null;
}

/** Why this file is banned, or null. Names are normalised the way Windows reads them. */
export function bannedReason(name: string, magic: Buffer, contentType: string, banned: ReadonlySet<string>): string | null {
  const windowsName = name.replace(/[\s.]+$/, '').toLowerCase();
  const ext = extname(windowsName).slice(1);
  if (ext && banned.has(ext)) return `.${ext} file`;
  const byMagic = magicExtension(magic);
  if (byMagic && banned.has(byMagic.ext)) return `${byMagic.what} (.${byMagic.ext}) by content`;
  const byType = TYPE_EXTENSIONS[contentType.toLowerCase()];
  if (byType && banned.has(byType)) return `content type ${contentType} (.${byType})`;
  return null;
}

export function shouldSpill(part: Pick<MimePart, 'filename' | 'magic' | 'contentType'>, policy: BannedPolicy): boolean {
  const kind = containerKind(part.filename, part.magic, part.contentType);
  return kind === 'message' || (kind !== null && !policy.allowBannedInArchives);
}

interface Inspection {
  policy: BannedPolicy;
  banned: ReadonlySet<string>;
  budget: InspectionBudget;
  context: ListContext;
  findings: string[];
  notes: string[];
}

interface Candidate {
  name: string;
  magic: Buffer;
  contentType: string;
  nested?: { kind: ContainerKind; path: string };
  unreadable?: string;
}

async function inspect(items: Candidate[], trail: string, depth: number, state: Inspection): Promise<void> {
  for (const item of items) {
    const label = trail ? `${trail} > ${item.name || '(unnamed)'}` : item.name || '(unnamed part)';
    const reason = bannedReason(item.name, item.magic, item.contentType, state.banned);
    if (reason) state.findings.push(`${label}: ${reason}`);
    if (item.unreadable) state.notes.push(`${label}: ${item.unreadable}, not opened`);
    if (!item.nested) continue;
    const { kind, path } = item.nested;
    if (kind !== 'message' && state.policy.allowBannedInArchives) continue;
    state.budget.checkDepth(depth + 1);
    try {
      const children = kind === 'message' ? await messageCandidates(path, state) : await listContainer(path, kind, item.name, state.context);
      await inspect(children.map((c) => ({ contentType: '', ...c })), label, depth + 1, state);
    } catch (err) {
      if (err instanceof InspectionLimitError) throw new InspectionLimitError(`${label} ${err.message}`);
      state.notes.push(`${label}: unreadable ${kind} (${(err as Error).message}), not opened`);
    }
  }
}

async function messageCandidates(path: string, state: Inspection): Promise<Candidate[]> {
  const structure = await walkMime(path, { tempDir: state.context.tempDir, budget: state.budget, wantSpill: (p) => shouldSpill(p, state.policy) }, state.context.nextTempName());
  return partCandidates(structure);
}

function partCandidates(structure: MimeStructure): Candidate[] {
  return structure.parts
    .filter((p) => p.partId !== 'head')
    .map((p) => {
      const kind = containerKind(p.filename, p.magic, p.contentType);
      return { name: p.filename, magic: p.magic, contentType: p.contentType, ...(kind && p.spillPath ? { nested: { kind, path: p.spillPath } } : {}) };
    });
}

export async function checkBanned(structure: MimeStructure, policy: BannedPolicy, budget: InspectionBudget, context: ListContext): Promise<CheckResult> {
  const state: Inspection = { policy, banned: new Set(policy.bannedExtensions.map((e) => e.toLowerCase())), budget, context, findings: [], notes: [] };
  if (!structure.complete) return checkResult('banned', 'fail', 'message structure too large to inspect (over the MIME part limit)');
  try {
    await inspect(partCandidates(structure), '', 0, state);
  } catch (err) {
    if (err instanceof InspectionLimitError) return checkResult('banned', 'fail', `archive bomb? ${err.message}`);
    throw err;
  }
  if (state.findings.length > 0) {
    const more = state.findings.length > 3 ? ` (+${state.findings.length - 3} more)` : '';
    return checkResult('banned', 'fail', state.findings.slice(0, 3).join('; ') + more);
  }
  return checkResult('banned', 'pass', state.notes.length ? state.notes.slice(0, 3).join('; ') : 'no banned files');
}
