/**
 * A KeePass database's inner XML (KeePass 2.x XML: KeePassFile ▸ Meta, Root ▸ Group…), read
 * as a stream of tags (saxes, a strict SAX parser) instead of a DOM, so memory holds the
 * entries' fields and never the document: 100,000 entries are ~150 MB of XML.
 *
 * Kept per entry: its string fields (KeePassXC's Entry::attributes), not its history, times,
 * icons or attachments. Every element marked Protected="True", wherever it is (history,
 * attachments too), takes its length of the inner stream in document order, as KeePass's
 * own reader does (KdbxXmlReader.cpp), or every later password would come out wrong.
 *
 * Entries go to the KeePass entry conversion shared with the CSV importer in the order
 * KeePassXC lists them: a group's entries, then its subgroups. KeePass, KeePassXC and kdbxweb
 * write in that order (Meta before Root, a group's UUID and Name before its entries, its
 * entries before its subgroups), so each entry is converted as it closes ('stream'). A file
 * that strays from it is refused by 'stream' with OutOfOrder, and read again as 'tree', which
 * keeps every entry's fields until the end and walks them in order.
 *
 * Must never log or put in an error a field's value.
 */
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { CrewvaultError } from '../../shared/errors';
import { KeePassCollector, type KeePassEntryFields } from '../../shared/import/keepassxc-csv';
import type { ImportResult } from '../../shared/import/types';
import { damaged } from './kdbx-header';
import type { InnerStream } from './kdbx-inner-stream';

interface GroupNode {
  name: string;
  uuid?: string;
  readonly parent: GroupNode | undefined;
  /** 'tree': the entries and subgroups, walked at the end. */
  readonly entries: Map<string, string>[];
  readonly groups: GroupNode[];
  /** 'stream': where its entries go, fixed when its first entry or subgroup opens. */
  placed?: { readonly path: readonly string[]; readonly inBin: boolean; readonly counted: boolean };
  hasSubgroup: boolean;
}

/** A 'stream' read met a document out of KeePass's order: read it again as 'tree'. */
export class OutOfOrder extends Error {
  constructor() {
    super('The KeePass XML is not in the order KeePass writes it.');
  }
}

type Frame =
  | { readonly kind: 'other' | 'file' | 'meta' | 'root' }
  | { readonly kind: 'group'; readonly group: GroupNode }
  | { readonly kind: 'entry'; readonly fields: Map<string, string> }
  | { readonly kind: 'string'; key?: string; value?: string }
  | { readonly kind: 'leaf'; readonly name: string };

interface Open {
  readonly frame: Frame;
  readonly protected: boolean;
}

const OTHER: Frame = { kind: 'other' };
const META_LEAVES = new Set(['RecycleBinEnabled', 'RecycleBinUUID', 'HeaderHash']);

/** KeePass writes booleans as True/False (kdbxweb and KeePassXC read them case-insensitively). */
function isTrue(text: string | undefined): boolean {
  return text?.trim().toLowerCase() === 'true';
}

/** A UUID as canonical base64 of its bytes, so two spellings of the same bytes compare equal. */
function uuidOf(text: string): string {
  return Buffer.from(text, 'base64').toString('base64');
}

/**
 * The text as a string of its own. saxes hands out slices of the piece it was given, and V8
 * keeps a slice (13 characters or more) pointing into that whole piece: every kept field
 * would pin its 64 Ki characters of XML, ~150 MB at 100,000 entries.
 */
function ownCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

export interface KeePassXmlOptions {
  /** The inner stream that opens protected values, in document order. */
  readonly stream: InnerStream;
  /** KDBX 3.1: SHA-256 of the outer header, which Meta ▸ HeaderHash must match when present. */
  readonly headerHash?: Uint8Array;
  /** Characters between two tags before the file is refused (one text, comment or attribute). */
  readonly maxTextChars: number;
  /** 'stream' converts each entry as it closes; 'tree' keeps them all for the end. */
  readonly mode: 'stream' | 'tree';
}

export class KeePassXmlReader {
  private readonly parser = new SaxesParser<{ xmlns: false; position: false }>({ xmlns: false, position: false });
  private readonly stack: Open[] = [];
  /** The text of the element being captured (a wanted leaf or a protected value), else null. */
  private capture: string | null = null;
  private captureDepth = 0;
  private sawTag = false;
  private sinceTag = 0;
  private meta = false;
  private root = false;
  private defaultGroup: GroupNode | undefined;
  private recycleBinEnabled = false;
  private recycleBinUuid: string | undefined;
  private headerHash: string | undefined;
  private readonly collector = new KeePassCollector();

  constructor(private readonly options: KeePassXmlOptions) {
    this.parser.on('opentag', (tag) => this.open(tag));
    this.parser.on('closetag', () => this.close());
    this.parser.on('text', (text) => this.text(text));
    this.parser.on('cdata', (text) => this.text(text));
    // KeePass never writes a DTD; refusing it leaves no entity to expand.
    this.parser.on('doctype', () => damaged());
  }

  /** The next piece of the document, in order. */
  write(text: string): void {
    // Pieces of at most 64 Ki characters, so text that never ends is caught within one piece.
    for (let at = 0; at < text.length; at += 65_536) {
      const piece = text.length <= 65_536 ? text : text.slice(at, at + 65_536);
      this.sawTag = false;
      this.parser.write(piece);
      // Characters since the last tag: at most this piece when a tag was seen in it.
      this.sinceTag = this.sawTag ? piece.length : this.sinceTag + piece.length;
      if (this.sinceTag > this.options.maxTextChars) {
        throw new CrewvaultError('INVALID_INPUT', `The KeePass database holds a field or attachment longer than ${this.options.maxTextChars.toLocaleString('en-US')} characters; nothing was imported.`);
      }
    }
  }

  /** The document is complete: checks it, then converts its entries. */
  finish(): ImportResult {
    this.parser.close();
    if (!this.meta || !this.root || this.defaultGroup === undefined) damaged();
    if (this.options.headerHash && this.headerHash) {
      if (Buffer.from(this.headerHash, 'base64').compare(this.options.headerHash) !== 0) damaged();
    }
    if (this.options.mode === 'tree') {
      const recycleBin = this.recycleBin();
      const walk = (group: GroupNode, path: readonly string[], inBin: boolean): void => {
        for (const fields of group.entries) this.collector.add(entryFields(fields, path), inBin);
        group.entries.length = 0; // each entry's fields are garbage once converted
        for (const child of group.groups) {
          walk(child, [...path, child.name], inBin || (recycleBin !== undefined && child.uuid === recycleBin));
        }
      };
      walk(this.defaultGroup, [], false);
    }
    return this.collector.result('kdbx');
  }

  private recycleBin(): string | undefined {
    return this.recycleBinEnabled ? this.recycleBinUuid : undefined;
  }

  private newGroup(parent: GroupNode | undefined): GroupNode {
    return { name: '', parent, entries: [], groups: [], hasSubgroup: false };
  }

  /**
   * 'stream': a group's path and Recycle Bin membership, once something opens inside it; its
   * UUID and Name have come by then (and Meta long before) when the file is in KeePass's order.
   */
  private place(group: GroupNode): NonNullable<GroupNode['placed']> {
    if (group.placed) return group.placed;
    const parent = group.parent?.placed;
    const bin = this.recycleBin();
    group.placed = parent === undefined
      ? { path: [], inBin: false, counted: group === this.defaultGroup }
      : { path: [...parent.path, group.name], inBin: parent.inBin || (bin !== undefined && group.uuid === bin), counted: parent.counted };
    return group.placed;
  }

  private open(tag: SaxesTagPlain): void {
    this.sawTag = true;
    const parent = this.stack[this.stack.length - 1]?.frame;
    const name = tag.name;
    let frame: Frame = OTHER;
    if (parent === undefined) {
      if (name !== 'KeePassFile') damaged();
      frame = { kind: 'file' };
    } else {
      switch (parent.kind) {
        case 'file':
          if (name === 'Meta') {
            if (this.root && this.options.mode === 'stream') throw new OutOfOrder();
            frame = { kind: 'meta' };
            this.meta = true;
          } else if (name === 'Root') {
            frame = { kind: 'root' };
            this.root = true;
          }
          break;
        case 'meta':
          if (META_LEAVES.has(name)) frame = { kind: 'leaf', name };
          break;
        case 'root':
          // Root may hold more than one group: KeePass and kdbxweb read the first as the database.
          if (name === 'Group') {
            const group = this.newGroup(undefined);
            this.defaultGroup ??= group;
            frame = { kind: 'group', group };
          }
          break;
        case 'group':
          if (name === 'Group') {
            const group = this.newGroup(parent.group);
            if (this.options.mode === 'stream') this.place(parent.group);
            else parent.group.groups.push(group);
            parent.group.hasSubgroup = true;
            frame = { kind: 'group', group };
          } else if (name === 'Entry') {
            if (this.options.mode === 'stream') {
              // An entry after a subgroup is listed before that subgroup's entries.
              if (parent.group.hasSubgroup) throw new OutOfOrder();
              this.place(parent.group);
            }
            frame = { kind: 'entry', fields: new Map() };
          } else if (name === 'UUID' || name === 'Name') {
            frame = { kind: 'leaf', name };
          }
          break;
        case 'entry':
          // Not History: its entries are earlier versions, not entries of their own.
          if (name === 'String') frame = { kind: 'string' };
          break;
        case 'string':
          if (name === 'Key' || name === 'Value') frame = { kind: 'leaf', name };
          break;
        default:
          break;
      }
    }
    const isProtected = isTrue(tag.attributes.Protected);
    this.stack.push({ frame, protected: isProtected });
    if (this.capture === null && (frame.kind === 'leaf' || isProtected)) {
      this.capture = '';
      this.captureDepth = this.stack.length;
    }
  }

  private text(text: string): void {
    if (this.capture !== null) this.capture += text;
  }

  private close(): void {
    this.sawTag = true;
    const depth = this.stack.length;
    const open = this.stack.pop();
    if (open === undefined) return damaged();
    let value: string | undefined;
    if (this.capture !== null && this.captureDepth === depth) {
      value = this.capture;
      this.capture = null;
    }
    if (open.protected) value = this.unprotect(value ?? '');
    else if (value !== undefined && value.length >= 13) value = ownCopy(value);
    const parent = this.stack[this.stack.length - 1]?.frame;
    const { frame } = open;
    if (frame.kind === 'leaf' && value !== undefined) {
      if (parent?.kind === 'meta') {
        if (frame.name === 'RecycleBinEnabled') this.recycleBinEnabled = isTrue(value);
        else if (frame.name === 'RecycleBinUUID') this.recycleBinUuid = value.trim() ? uuidOf(value) : undefined;
        else this.headerHash = value.trim() || undefined;
      } else if (parent?.kind === 'group') {
        // Too late for 'stream' once the group's path or bin membership has been used.
        if (parent.group.placed) throw new OutOfOrder();
        if (frame.name === 'Name') parent.group.name = value;
        else parent.group.uuid = uuidOf(value);
      } else if (parent?.kind === 'string') {
        // The first Key and the first Value, as kdbxweb and KeePassXC take them.
        if (frame.name === 'Key') parent.key ??= value;
        else parent.value ??= value;
      }
    } else if (frame.kind === 'string' && parent?.kind === 'entry') {
      if (frame.key && frame.value !== undefined) parent.fields.set(frame.key, frame.value);
    } else if (frame.kind === 'entry' && parent?.kind === 'group') {
      const placed = parent.group.placed;
      if (this.options.mode === 'tree') parent.group.entries.push(frame.fields);
      else if (placed?.counted) this.collector.add(entryFields(frame.fields, placed.path), placed.inBin);
    }
  }

  /** A protected value: base64 of its UTF-8 bytes XORed with the next bytes of the inner stream. */
  private unprotect(text: string): string {
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length === 0) return '';
    const plain = this.options.stream.xor(bytes);
    const value = Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength).toString('utf8');
    plain.fill(0);
    return value;
  }
}

function entryFields(fields: Map<string, string>, groups: readonly string[]): KeePassEntryFields {
  return {
    groups,
    title: fields.get('Title') ?? '',
    username: fields.get('UserName') ?? '',
    password: fields.get('Password') ?? '',
    url: fields.get('URL') ?? '',
    notes: fields.get('Notes') ?? '',
    field: (name) => fields.get(name),
  };
}
