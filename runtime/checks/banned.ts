// The banned-attachment check: file names and real types (executable signatures, so a renamed .exe
// is still an .exe) of every part, of every file inside containers unless the policy allows banned
// files in archives, and of files uuencoded in text. Attached messages and TNEF are always opened.
// What cannot be decoded (encrypted, corrupt, past the budget) is reported as UNCHECKED, never clean.
import { extname } from 'node:path';
import { readFile } from 'node:fs/promises';
import { checkResult, type CheckResult } from './result.js';
import { containerKind, listContainer, nestedAt, type ListableKind, type ListContext, type Nested } from './archives.js';
import { mayBeOpticalImage } from './container-kind.js';
import { walkMime, type MimePart, type MimeStructure } from './mime-walk.js';
import { InspectionLimitError, type InspectionBudget } from './budget.js';
import { executableType } from './file-type.js';
import { hasOleMacros, installerKind, isOoxmlMacroEntry, readOle } from './ole.js';

export interface BannedPolicy {
  bannedExtensions: string[];
  allowBannedInArchives: boolean;
  banMacroDocuments: boolean;
  maxArchiveDepth: number;
  maxArchiveBytes: number;
  maxArchiveEntries: number;
  maxInspectionSeconds: number;
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

/** Why this file is banned, or null. Names are normalised the way Windows reads them. */
export function bannedReason(name: string, magic: Buffer, contentType: string, banned: ReadonlySet<string>): string | null {
  const windowsName = name.replace(/[\s.]+$/, '').toLowerCase();
  const ext = extname(windowsName).slice(1);
  if (ext && banned.has(ext)) return `.${ext} file`;
  const byContent = executableType(magic);
  // ELF and Mach-O have no Windows extension: banning .exe bans executables of every system.
  if (byContent && (banned.has(byContent.ext) || banned.has('exe'))) return `${byContent.what} (.${byContent.ext}) by content`;
  const byType = TYPE_EXTENSIONS[contentType.toLowerCase()];
  if (byType && banned.has(byType)) return `content type ${contentType} (.${byType})`;
  return null;
}

const ALWAYS_OPENED = new Set(['message', 'tnef', 'ole']);

export function shouldSpill(part: Pick<MimePart, 'filename' | 'magic' | 'contentType'>, policy: BannedPolicy): boolean {
  const guess = containerKind(part.filename, part.magic, part.contentType);
  if (!guess) return mayBeOpticalImage(part.magic) && !policy.allowBannedInArchives;
  if (ALWAYS_OPENED.has(guess.kind)) return true;
  return !policy.allowBannedInArchives || (guess.kind === 'zip' && policy.banMacroDocuments);
}

interface Inspection {
  policy: BannedPolicy;
  banned: ReadonlySet<string>;
  budget: InspectionBudget;
  context: ListContext;
  findings: string[];
  /** What could not be decoded, with where and why. */
  unchecked: string[];
  notes: string[];
}

interface Candidate {
  name: string;
  /** How logs name it, when not by its place in the tree (a file uuencoded in a text part). */
  label?: string;
  magic: Buffer;
  contentType: string;
  nested?: Nested;
  unreadable?: string;
}

async function judgeOle(label: string, path: string, state: Inspection): Promise<void> {
  try {
    const summary = readOle(await readFile(path));
    const installer = installerKind(summary);
    if (installer && (state.banned.has('msi') || state.banned.has('exe'))) state.findings.push(`${label}: ${installer} by content`);
    if (state.policy.banMacroDocuments && hasOleMacros(summary)) state.findings.push(`${label}: Office document with VBA macros`);
  } catch (err) {
    // A damaged document is not a container we failed to open: clamd still reads it.
    state.notes.push(`${label}: OLE2 directory unreadable (${(err as Error).message})`);
  }
}

async function inspect(items: Candidate[], trail: string, depth: number, inArchive: boolean, state: Inspection): Promise<void> {
  for (const item of items) {
    state.budget.checkTime();
    const label = item.label ?? (trail ? `${trail} > ${item.name || '(unnamed)'}` : item.name || '(unnamed part)');
    const reason = inArchive && state.policy.allowBannedInArchives ? null : bannedReason(item.name, item.magic, item.contentType, state.banned);
    if (reason) state.findings.push(`${label}: ${reason}`);
    if (item.unreadable) state.unchecked.push(`${label}: ${item.unreadable}, content not checked`);
    if (!item.nested) continue;
    const { kind, path, sure } = item.nested;
    if (kind === 'ole') {
      await judgeOle(label, path, state);
      continue;
    }
    const isArchive = kind !== 'message' && kind !== 'tnef';
    if (isArchive && state.policy.allowBannedInArchives && !(kind === 'zip' && state.policy.banMacroDocuments)) continue;
    if (depth + 1 > state.policy.maxArchiveDepth) {
      state.unchecked.push(`${label}: nests containers more than ${state.policy.maxArchiveDepth} deep, not opened`);
      continue;
    }
    let children: Candidate[];
    try {
      children =
        kind === 'message'
          ? await messageCandidates(path, state)
          : (await listContainer(path, kind as ListableKind, item.name, state.context)).map((c) => ({ contentType: '', ...c }));
    } catch (err) {
      if (err instanceof InspectionLimitError) throw err.at(label);
      const why = `${kind} ${(err as Error).message}`.slice(0, 160);
      if (sure) state.unchecked.push(`${label}: ${why}`);
      else state.notes.push(`${label}: not opened (${why})`);
      continue;
    }
    if (kind === 'zip' && state.policy.banMacroDocuments && children.some((c) => isOoxmlMacroEntry(c.name)))
      state.findings.push(`${label}: macro-enabled Office document (vbaProject.bin)`);
    await inspect(children, label, depth + 1, inArchive || isArchive, state);
  }
}

async function messageCandidates(path: string, state: Inspection): Promise<Candidate[]> {
  const structure = await walkMime(
    path,
    { tempDir: state.context.tempDir, budget: state.budget, wantSpill: (p) => shouldSpill(p, state.policy) },
    state.context.nextTempName(),
  );
  if (!structure.complete) state.unchecked.push('attached message: too many MIME parts, not all checked');
  return partCandidates(structure);
}

function partCandidates(structure: MimeStructure): Candidate[] {
  return structure.parts
    .filter((p) => p.partId !== 'head')
    .flatMap((p) => {
      const nested = p.spillPath ? nestedAt(p.spillPath, p.filename, p.magic, p.contentType) : undefined;
      const part: Candidate = { name: p.filename, magic: p.magic, contentType: p.contentType, ...(nested ? { nested } : {}) };
      // Files hidden in a text part's body are judged like attachments of their own.
      const embedded = (p.embedded ?? []).map((e): Candidate => {
        const inner = e.spillPath ? nestedAt(e.spillPath, e.name, e.magic) : undefined;
        return {
          name: e.name,
          label: `${p.filename || `text part ${p.partId}`} > ${e.name} (${e.encoding})`,
          magic: e.magic,
          contentType: '',
          ...(inner ? { nested: inner } : {}),
        };
      });
      return [part, ...embedded];
    });
}

function summary(items: string[]): string {
  const more = items.length > 3 ? ` (+${items.length - 3} more)` : '';
  return items.slice(0, 3).join('; ') + more;
}

/** The banned verdict and the unchecked one (content that could not be decoded), in that order. */
export async function checkBanned(
  structure: MimeStructure,
  policy: BannedPolicy,
  budget: InspectionBudget,
  context: ListContext,
): Promise<[CheckResult, CheckResult]> {
  const bannedSet = new Set(policy.bannedExtensions.map((e) => e.toLowerCase()));
  // A banned name inside an archive decides the verdict: the decoders need not unpack that archive.
  const nameDecides = policy.allowBannedInArchives ? undefined : (name: string) => bannedReason(name, Buffer.alloc(0), '', bannedSet) !== null;
  const state: Inspection = {
    policy,
    banned: bannedSet,
    budget,
    context: nameDecides ? { ...context, nameDecides } : context,
    findings: [],
    unchecked: [],
    notes: [],
  };
  if (!structure.complete) state.unchecked.push('message structure too large to inspect (over the MIME part limit)');
  try {
    await inspect(partCandidates(structure), '', 0, false, state);
  } catch (err) {
    if (!(err instanceof InspectionLimitError)) throw err;
    // A bomb (decoded size a hundred times the message's) is malice; merely large is unknown.
    if (err.bomb) state.findings.push(`archive bomb: ${err.message}`);
    else state.unchecked.push(`${err.message}, inspection stopped`);
  }
  const banned =
    state.findings.length > 0
      ? checkResult('banned', 'fail', summary(state.findings))
      : checkResult('banned', 'pass', state.notes.length ? summary(state.notes) : 'no banned files');
  const unchecked =
    state.unchecked.length > 0 ? checkResult('unchecked', 'fail', summary(state.unchecked)) : checkResult('unchecked', 'pass', 'every container decoded');
  return [banned, unchecked];
}
