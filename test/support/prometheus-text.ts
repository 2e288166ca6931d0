/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4),
 * for checking GET /metrics the way Prometheus's own parser and
 * `promtool check metrics` would: it throws on the first violation.
 *
 * Format (what Prometheus's text parser refuses): the text ends with a line
 * feed; HELP and TYPE at most once per family and before its samples; the
 * samples of one family in one group; valid metric and label names; label
 * values with only \\, \" and \n escapes, HELP text with only \\ and \n;
 * no label twice in a sample, no series twice; values as Go's ParseFloat
 * reads them (NaN and Inf in any case).
 * Semantics (what promtool checks): every family has HELP; histogram
 * buckets per series have increasing `le`, cumulative counts, a +Inf
 * bucket equal to _count, and _sum; summaries have quantiles in [0, 1],
 * _sum and _count; counters are not negative. Lints for this server's own
 * families (prom-client's default metrics break some, such as
 * nodejs_active_handles_total, a gauge): snake_case names, `_total` on
 * counters and only on counters, base units.
 */

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface Sample {
  /** The sample's own name: for histograms, the family name plus _bucket, _sum or _count. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(["counter", "gauge", "histogram", "summary", "untyped"]);

export class MetricsFormatError extends Error {}

/** Parses and checks the whole text; `lintPrefix`: families named so also get promtool's naming lints. */
export function parsePrometheusText(text: string, lintPrefix = "onnx_server_"): Map<string, MetricFamily> {
  if (!text.endsWith("\n")) throw new MetricsFormatError("the text must end with a line feed");
  const families = new Map<string, MetricFamily>();
  const closed = new Set<string>();
  const typed = new Set<string>();
  let current: MetricFamily | null = null;
  const familyFor = (name: string): MetricFamily => {
    let family = families.get(name);
    if (family === undefined) {
      family = { name, type: "untyped", help: "", samples: [] };
      families.set(name, family);
    }
    if (current !== family) {
      if (closed.has(name)) throw new MetricsFormatError(`${name}: its lines are not one group`);
      if (current !== null) closed.add(current.name);
      current = family;
    }
    return family;
  };

  const lines = text.slice(0, -1).split("\n");
  lines.forEach((line, i) => {
    const where = `line ${i + 1} (${JSON.stringify(line.slice(0, 80))})`;
    try {
      if (line.trim() === "") return;
      if (line.startsWith("#")) {
        const meta = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
        if (meta === null) return; // a plain comment
        const [, keyword, name, rest = ""] = meta;
        if (!METRIC_NAME.test(name)) throw new MetricsFormatError(`invalid metric name ${name}`);
        const family = familyFor(name);
        if (keyword === "HELP") {
          if (family.help !== "") throw new MetricsFormatError(`second HELP for ${name}`);
          family.help = unescapeHelp(rest);
        } else {
          if (family.samples.length > 0) throw new MetricsFormatError(`TYPE of ${name} after its samples`);
          if (typed.has(name)) throw new MetricsFormatError(`second TYPE for ${name}`);
          if (!TYPES.has(rest as MetricType)) throw new MetricsFormatError(`unknown type ${rest}`);
          family.type = rest as MetricType;
          typed.add(name);
        }
        return;
      }
      const sample = parseSample(line);
      const family = familyFor(familyName(sample.name, families));
      family.samples.push(sample);
    } catch (error) {
      if (error instanceof MetricsFormatError) throw new MetricsFormatError(`${where}: ${error.message}`);
      throw error;
    }
  });
  for (const family of families.values()) checkFamily(family, lintPrefix);
  return families;
}

/** The family a sample belongs to: a histogram's or summary's _bucket/_sum/_count go to the base name when it is typed so. */
function familyName(sampleName: string, families: Map<string, MetricFamily>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = sampleName.slice(0, -suffix.length);
    const type = families.get(base)?.type;
    if (type === "histogram" || (type === "summary" && suffix !== "_bucket")) return base;
  }
  return sampleName;
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    throw new MetricsFormatError(`invalid escape \\${c} in HELP`);
  });
}

function parseSample(line: string): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (nameMatch === null) throw new MetricsFormatError("a sample must start with a metric name");
  const name = nameMatch[0];
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith("{")) {
    rest = rest.slice(1);
    while (!rest.startsWith("}")) {
      const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(rest);
      if (label === null) throw new MetricsFormatError("expected label=\"value\"");
      const labelName = label[1];
      if (labelName in labels) throw new MetricsFormatError(`label ${labelName} twice`);
      rest = rest.slice(label[0].length);
      let value = "";
      for (;;) {
        const c = rest[0];
        if (c === undefined) throw new MetricsFormatError("unterminated label value");
        if (c === '"') break;
        if (c === "\n") throw new MetricsFormatError("line feed in a label value");
        if (c === "\\") {
          const e = rest[1];
          if (e === "\\" || e === '"') value += e;
          else if (e === "n") value += "\n";
          else throw new MetricsFormatError(`invalid escape \\${e ?? ""} in a label value`);
          rest = rest.slice(2);
        } else {
          value += c;
          rest = rest.slice(1);
        }
      }
      labels[labelName] = value;
      rest = rest.slice(1);
      if (rest.startsWith(",")) {
        rest = rest.slice(1);
        if (rest.startsWith("}")) throw new MetricsFormatError("trailing comma in labels");
      } else if (!rest.startsWith("}")) throw new MetricsFormatError("expected , or } after a label");
    }
    rest = rest.slice(1);
  }
  const parts = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
  if (parts === null) throw new MetricsFormatError("expected ' value [timestamp]' after the name and labels");
  return { name, labels, value: parseValue(parts[1]) };
}

/** Go's strconv.ParseFloat, as Prometheus reads values: decimal or exponent forms, NaN and [+-]Inf(inity) in any case. */
export function parseValue(text: string): number {
  const lower = text.toLowerCase();
  if (lower === "nan") return Number.NaN;
  if (/^[+-]?inf(inity)?$/.test(lower)) return lower.startsWith("-") ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new MetricsFormatError(`invalid value ${text}`);
  return Number(text);
}

const seriesKey = (labels: Record<string, string>, without?: string): string =>
  JSON.stringify(Object.entries(labels).filter(([k]) => k !== without).sort(([a], [b]) => (a < b ? -1 : 1)));

function checkFamily(family: MetricFamily, lintPrefix: string): void {
  const fail = (message: string): never => {
    throw new MetricsFormatError(`${family.name}: ${message}`);
  };
  if (family.help === "") fail("no HELP");
  const seen = new Set<string>();
  for (const s of family.samples) {
    for (const label of Object.keys(s.labels)) if (!LABEL_NAME.test(label) || label.startsWith("__")) fail(`invalid label name ${label}`);
    const key = `${s.name} ${seriesKey(s.labels)}`;
    if (seen.has(key)) fail(`series ${key} twice`);
    seen.add(key);
  }
  if (family.type === "counter") for (const s of family.samples) if (!(s.value >= 0)) fail(`counter value ${s.value}`);
  if (family.type === "histogram") checkHistogram(family, fail);
  if (family.type === "summary") checkSummary(family, fail);
  if (family.name.startsWith(lintPrefix)) lintName(family, fail);
}

function checkHistogram(family: MetricFamily, fail: (message: string) => never): void {
  const series = new Map<string, { buckets: Array<[number, number]>; sum?: number; count?: number }>();
  for (const s of family.samples) {
    const key = seriesKey(s.labels, "le");
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (s.name === `${family.name}_bucket`) {
      if (s.labels.le === undefined) fail("a bucket without le");
      entry.buckets.push([parseValue(s.labels.le), s.value]);
    } else if (s.name === `${family.name}_sum`) entry.sum = s.value;
    else if (s.name === `${family.name}_count`) entry.count = s.value;
    else fail(`sample ${s.name} in a histogram`);
  }
  for (const [key, { buckets, sum, count }] of series) {
    if (sum === undefined || count === undefined) fail(`series ${key} lacks _sum or _count`);
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i][0] > buckets[i - 1][0])) fail(`series ${key}: le ${buckets[i][0]} after ${buckets[i - 1][0]}`);
      if (buckets[i][1] < buckets[i - 1][1]) fail(`series ${key}: bucket counts are not cumulative at le ${buckets[i][0]}`);
    }
    const inf = buckets.at(-1);
    if (inf === undefined || inf[0] !== Number.POSITIVE_INFINITY) fail(`series ${key} has no +Inf bucket`);
    if (inf![1] !== count) fail(`series ${key}: +Inf bucket ${inf![1]} is not _count ${count}`);
    if (buckets.some(([, c]) => c < 0)) fail(`series ${key}: a negative bucket count`);
  }
}

function checkSummary(family: MetricFamily, fail: (message: string) => never): void {
  const series = new Map<string, { sum?: number; count?: number }>();
  for (const s of family.samples) {
    const key = seriesKey(s.labels, "quantile");
    const entry = series.get(key) ?? {};
    series.set(key, entry);
    if (s.name === family.name) {
      const q = s.labels.quantile === undefined ? Number.NaN : parseValue(s.labels.quantile);
      if (!(q >= 0 && q <= 1)) fail(`quantile ${s.labels.quantile}`);
    } else if (s.name === `${family.name}_sum`) entry.sum = s.value;
    else if (s.name === `${family.name}_count`) entry.count = s.value;
    else fail(`sample ${s.name} in a summary`);
  }
  for (const [key, { sum, count }] of series) if (sum === undefined || count === undefined) fail(`series ${key} lacks _sum or _count`);
}

function lintName(family: MetricFamily, fail: (message: string) => never): void {
  if (!/^[a-z][a-z0-9_]*$/.test(family.name)) fail("not snake_case");
  if (family.type === "counter" && !family.name.endsWith("_total")) fail("a counter without the _total suffix");
  if (family.type !== "counter" && family.name.endsWith("_total")) fail("_total on a metric that is not a counter");
  if (/_(milliseconds|microseconds|nanoseconds|ms|minutes|hours|kilobytes|megabytes)(_|$)/.test(family.name)) fail("not in a base unit");
}

/** The value of the one sample `name` with exactly `labels`; throws when there is none. */
export function sampleValue(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number {
  const key = seriesKey(labels);
  for (const family of families.values()) {
    for (const s of family.samples) if (s.name === name && seriesKey(s.labels) === key) return s.value;
  }
  throw new Error(`no sample ${name}${JSON.stringify(labels)}`);
}

/** Every sample of `name`, for checking label sets. */
export function samplesOf(families: Map<string, MetricFamily>, name: string): Sample[] {
  return [...families.values()].flatMap((f) => f.samples.filter((s) => s.name === name));
}

/** One sample of a prom-client registry, read through its text output (so the output is checked too). */
export async function registrySample(registry: { metrics(): Promise<string> }, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sampleValue(parsePrometheusText(await registry.metrics()), name, labels);
}
