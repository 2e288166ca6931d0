/**
 * Takes one choice's text as it is generated and separates the model's tool
 * calls from its content, in the syntax of one ToolCallFormat.
 *
 * Content. Text outside calls is content and is sent at once, except the
 * longest suffix that may still be the start of an open marker (the
 * stop-string rule), which waits for the next text. Whitespace (and Llama's
 * ";" separator) between two calls, after the last call, and before a first
 * call that nothing but whitespace precedes belongs to no one and is
 * dropped; whitespace next to real content stays with it. With parallel
 * calls off, valid calls after the first are dropped: the client asked for
 * one, and their text as content would show a call nobody will run.
 *
 * Consistency: a client cannot take back a tool-call delta, so nothing about
 * a call is sent unless the call is certain to stand:
 * - untrusted (the default, for calls the model wrote freely): a call is
 *   read whole first — up to its close marker, or the end of its JSON when
 *   the format has none; for Mistral, the whole array — and checked (JSON,
 *   an offered name, an arguments object). Only then are its start and its
 *   arguments sent, the arguments as one fragment. When anything about it
 *   is wrong, or the output ends inside it, its raw text (with the
 *   whitespace before it) is content instead, and no event about it was
 *   ever sent.
 * - trusted (calls forced by constrained decoding, whose grammar guarantees
 *   a complete, valid call): the start is sent once the name is read and
 *   is an offered function, and the arguments stream as they arrive. From
 *   its start on, a call is committed and stays a call: if the output ends
 *   inside it or inside the syntax after it (max_tokens, cancel), it keeps
 *   the arguments sent so far, as OpenAI does with finish_reason "length",
 *   and the unfinished syntax is dropped. A call that fails before its
 *   start (a name not offered, or cut before its name is read) is content
 *   as above; text that breaks a committed call's syntax — which a correct
 *   grammar never produces — is content from that point on.
 *
 * Every decision is taken at a character, never at a chunk boundary, so the
 * events of any split of a text reassemble to the same calls and content
 * (parseToolCalls is this class given the whole text at once).
 */
import { argumentsMember, NO_ARGUMENTS, scannedName, validateCall, type ValidCall } from "./call-object.ts";
import { CallGroupReader } from "./call-group-reader.ts";
import type { JsonObjectScanner } from "./json-object-scanner.ts";
import { findMarker, isJsonWhitespace, isMarkerPrefix, partialMarkerLength } from "./marker-match.ts";
import type { ToolCallEvent, ToolCallStreamOptions } from "./tool-call-events.ts";
import { openMarkers, TOOL_CALL_SYNTAX, type ToolCallFormat, type ToolCallSyntax } from "./tool-call-format.ts";

/** A call object being read, under trusted streaming: not yet named, sent, or over the parallel limit. */
interface CurrentCall {
  status: "unnamed" | "committed" | "dropped";
  index: number;
  /** Characters of its arguments text already sent. */
  argumentsSent: number;
}

/** A call group being read, and what has been decided about its calls. */
interface Group {
  /** Whitespace dropped before the group: content again if the group turns out not to be calls. */
  prefix: string;
  reader: CallGroupReader;
  /** The complete call objects, checked when the group ends (untrusted). */
  objects: JsonObjectScanner[];
  current: CurrentCall | null;
  /** Broken, or (trusted) a call failed before it was sent: what no committed call owns is content. */
  doomed: boolean;
  /** Where in the group's raw text its content would start if it failed: 0 until a call commits; null while a committed call owns everything so far. */
  contentFrom: number | null;
}

export class ToolCallStream {
  private readonly syntax: ToolCallSyntax;
  private readonly markers: string[];
  private readonly tools: ReadonlySet<string>;
  private readonly limit: number;
  private readonly trusted: boolean;
  private readonly idFor: (index: number) => string;
  /** Text received but not yet decided on. */
  private pending = "";
  /** Only whitespace (held in gapText) since the start or the last call: a call may start here without a marker dropping it. */
  private gap = true;
  private gapText = "";
  private group: Group | null = null;
  private calls = 0;
  private sawCall = false;
  private finished = false;
  private events: ToolCallEvent[] = [];

  constructor(format: ToolCallFormat, options: ToolCallStreamOptions) {
    this.syntax = TOOL_CALL_SYNTAX[format];
    this.markers = openMarkers(this.syntax);
    this.tools = new Set(options.tools);
    this.limit = options.parallel ? Number.POSITIVE_INFINITY : 1;
    this.trusted = options.trusted ?? false;
    this.idFor = options.idFor;
  }

  /** Calls sent so far: finish_reason is "tool_calls" when the choice ends with any. */
  get callCount(): number {
    return this.calls;
  }

  /** Takes newly generated text; returns what can be sent now. */
  push(text: string): ToolCallEvent[] {
    if (this.finished) return [];
    this.pending += text;
    this.drain(false);
    this.flushArguments();
    return this.take();
  }

  /** The output has ended: releases held text and settles an unfinished call. */
  finish(): ToolCallEvent[] {
    if (this.finished) return [];
    this.finished = true;
    this.drain(true);
    if (this.group !== null) {
      this.flushArguments();
      // Cut inside a trusted group after a call committed: the rest is that group's unfinished call syntax, never content.
      if (this.trusted && !this.group.doomed && this.group.contentFrom !== 0) {
        this.group = null;
      } else {
        this.failGroup();
      }
    }
    // Whitespace after the last call is dropped; whitespace that is the whole output is content.
    if (this.gapText.length > 0 && !this.sawCall) this.emitContent(this.gapText);
    this.gapText = "";
    return this.take();
  }

  private take(): ToolCallEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  private drain(final: boolean): void {
    while (this.pending.length > 0) {
      if (this.group === null) {
        if (!this.drainText(final)) return;
        continue;
      }
      let consumed = 0;
      while (consumed < this.pending.length) {
        const step = this.group.reader.step(this.pending[consumed]);
        if (step === "ok") {
          consumed++;
        } else if (step === "end") {
          consumed++;
          this.endGroup();
          break;
        } else {
          // The character cannot continue the group: the group is settled and the character read again as text.
          this.failGroup();
          break;
        }
      }
      this.pending = this.pending.slice(consumed);
    }
  }

  /** Reads pending text outside calls. Returns true when a group started (more to read), false when the rest is held. */
  private drainText(final: boolean): boolean {
    if (this.gap) {
      let i = 0;
      while (i < this.pending.length && this.isGapCharacter(this.pending[i])) i++;
      this.gapText += this.pending.slice(0, i);
      this.pending = this.pending.slice(i);
      if (this.pending.length === 0) return false;
      if (this.syntax.openMarker === null && this.pending[0] === "{") {
        this.startGroup(this.gapText, "");
        return true;
      }
      const marker = this.markers.find((m) => this.pending.startsWith(m));
      if (marker !== undefined) {
        this.startGroup(this.gapText, marker);
        return true;
      }
      if (!final && isMarkerPrefix(this.pending, this.markers)) return false;
      // Real content: the whitespace held so far is part of it.
      this.gap = false;
      this.pending = this.gapText + this.pending;
      this.gapText = "";
    }
    const found = findMarker(this.pending, this.markers);
    if (found !== null) {
      this.emitContent(this.pending.slice(0, found.at));
      this.pending = this.pending.slice(found.at);
      this.startGroup("", found.marker);
      return true;
    }
    const keep = final ? 0 : partialMarkerLength(this.pending, this.markers);
    this.emitContent(this.pending.slice(0, this.pending.length - keep));
    this.pending = this.pending.slice(this.pending.length - keep);
    return false;
  }

  /** Whitespace, and for Llama's bare calls the ";" that separates two calls. */
  private isGapCharacter(ch: string): boolean {
    return isJsonWhitespace(ch) || (ch === ";" && this.syntax.openMarker === null);
  }

  /** Starts a group at the head of `pending`: after `marker`, or at a bare "{" (marker ""), which the group then reads. */
  private startGroup(prefix: string, marker: string): void {
    this.gapText = "";
    this.pending = this.pending.slice(marker.length);
    // The listener's callbacks run only once the group is built and reading.
    const group: Group = {
      prefix,
      objects: [],
      current: null,
      doomed: false,
      contentFrom: 0,
      reader: new CallGroupReader(this.syntax, marker, {
        objectBegin: () => {
          group.current = { status: "unnamed", index: -1, argumentsSent: 0 };
        },
        objectRead: (scanner) => {
          if (this.trusted && !group.doomed) this.followTrusted(group, scanner);
        },
        objectEnd: (scanner) => this.endObject(group, scanner),
        broken: () => {
          // A committed call keeps the arguments read up to here, however the text was split.
          this.flushArguments();
          if (group.contentFrom === null) group.contentFrom = group.reader.raw.length;
          group.doomed = true;
        },
      }),
    };
    this.group = group;
  }

  /** Trusted: sends the start as soon as the name is read and offered. */
  private followTrusted(group: Group, scanner: JsonObjectScanner): void {
    const current = group.current as CurrentCall;
    if (current.status !== "unnamed") return;
    const name = scannedName(scanner);
    if (name === undefined) return;
    if (name === null || !this.tools.has(name)) {
      group.doomed = true;
      return;
    }
    // From here the call owns the group's text so far, whatever follows.
    group.contentFrom = null;
    this.sawCall = true;
    if (this.calls >= this.limit) {
      current.status = "dropped";
      return;
    }
    current.status = "committed";
    current.index = this.calls++;
    // Arguments read before the name (another key order) follow at the end of this push.
    this.events.push({ type: "tool_call_start", index: current.index, id: this.idFor(current.index), name });
  }

  private endObject(group: Group, scanner: JsonObjectScanner): void {
    if (!this.trusted) {
      group.objects.push(scanner);
      return;
    }
    if (group.doomed) return;
    const current = group.current as CurrentCall;
    if (current.status === "unnamed") {
      group.doomed = true;
      return;
    }
    if (current.status === "committed") {
      this.flushArguments();
      if (argumentsMember(scanner) === undefined) {
        this.events.push({ type: "tool_call_arguments", index: current.index, fragment: NO_ARGUMENTS });
      }
    }
    group.current = null;
    group.contentFrom = group.reader.raw.length;
  }

  /** Trusted: sends the committed call's arguments text that arrived since the last fragment. */
  private flushArguments(): void {
    const group = this.group;
    const scanner = group?.reader.scanner ?? null;
    if (group === null || scanner === null || group.current === null || group.current.status !== "committed") return;
    const member = argumentsMember(scanner);
    if (member === undefined) return;
    const end = member.end ?? scanner.text.length;
    const from = member.start + group.current.argumentsSent;
    if (end <= from) return;
    this.events.push({ type: "tool_call_arguments", index: group.current.index, fragment: scanner.text.slice(from, end) });
    group.current.argumentsSent = end - member.start;
  }

  /** The group ended as its syntax says it should. */
  private endGroup(): void {
    const group = this.group as Group;
    if (group.doomed) {
      this.settle(group);
      return;
    }
    if (this.trusted) {
      // Its calls were sent as they were read; the rest is their syntax.
      this.group = null;
      this.gap = true;
      return;
    }
    const calls: ValidCall[] = [];
    for (const scanner of group.objects) {
      const call = validateCall(scanner, this.tools);
      if (call === null) {
        this.settle(group);
        return;
      }
      calls.push(call);
    }
    this.sawCall = true;
    for (const call of calls) {
      if (this.calls >= this.limit) break;
      const index = this.calls++;
      this.events.push({ type: "tool_call_start", index, id: this.idFor(index), name: call.name });
      this.events.push({ type: "tool_call_arguments", index, fragment: call.arguments });
    }
    this.group = null;
    this.gap = true;
  }

  /** The group did not end properly (broken, or cut by the end of the output). */
  private failGroup(): void {
    const group = this.group as Group;
    if (group.contentFrom === null) group.contentFrom = group.reader.raw.length;
    this.settle(group);
  }

  /** Closes the group: what committed calls do not own is content. */
  private settle(group: Group): void {
    this.group = null;
    const raw = group.reader.raw;
    const from = group.contentFrom ?? raw.length;
    let content = (from === 0 ? group.prefix : "") + raw.slice(from);
    // Whitespace after a committed call is the whitespace after a call: dropped.
    if (from > 0 && [...content].every(isJsonWhitespace)) content = "";
    this.emitContent(content);
    this.gap = content.length === 0;
  }

  private emitContent(text: string): void {
    if (text.length === 0) return;
    const last = this.events[this.events.length - 1];
    if (last !== undefined && last.type === "content") last.text += text;
    else this.events.push({ type: "content", text });
  }
}
