import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per source area.
 * Standalone: `tsx bench/cpuprofile.ts FILE.cpuprofile [top]`.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  name: string;
  /** Where the function lives: src/..., a package, node:internal, or a V8 pseudo-frame. */
  where: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Time not spent idle (the process was running JavaScript, GC or native code). */
  busyMs: number;
  top: SelfTime[];
  areas: { area: string; ms: number; percent: number }[];
}

/** Shortens a frame's URL to something readable and groups it into an area. */
function locate(url: string): { where: string; area: string } {
  if (url === '') return { where: '(native/V8)', area: '(native/V8)' };
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (pkg) return { where: `${pkg[1] ?? ''}/${pkg[2] ?? ''}`, area: pkg[1] ?? 'node_modules' };
  // The built CLI: dist/<dir>/<file>.js comes from src/<dir>/<file>.ts (line numbers are of the .js).
  const own = /\/dist\/(.*)$/.exec(url);
  if (own) {
    const where = `dist/${own[1] ?? ''}`;
    return { where, area: `kbackup src/${where.split('/').slice(1, -1).join('/')}` };
  }
  if (url.startsWith('node:')) return { where: url, area: 'node core' };
  return { where: url, area: 'other' };
}

export function summarizeProfile(file: string, topN = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // Each sample's time is the delta to the next sample (the last one gets none).
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i];
    const next = deltas[i + 1] ?? 0;
    if (id !== undefined) selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, next));
  }
  const byFunction = new Map<string, { name: string; where: string; us: number }>();
  const byArea = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    totalUs += us;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const { where, area } = locate(url);
    const name = functionName === '' ? '(anonymous)' : functionName;
    const key = `${name}@${where}:${lineNumber}`;
    const entry = byFunction.get(key) ?? {
      name,
      where: url === '' ? where : `${where}:${lineNumber + 1}`,
      us: 0,
    };
    entry.us += us;
    byFunction.set(key, entry);
    // V8's pseudo-frames ((garbage collector), (program)) are areas of their own.
    const areaKey = url === '' && name.startsWith('(') ? name : area;
    byArea.set(areaKey, (byArea.get(areaKey) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const pct = (us: number) => (busyUs > 0 ? (100 * us) / busyUs : 0);
  return {
    file,
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    top: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, percent: pct(f.us) })),
    areas: [...byArea]
      .sort((a, b) => b[1] - a[1])
      .map(([area, us]) => ({ area, ms: us / 1000, percent: pct(us) })),
  };
}

/** Markdown tables of a summary. */
export function profileMarkdown(title: string, s: ProfileSummary): string {
  const lines = [
    `#### ${title}`,
    '',
    `Sampled ${(s.totalMs / 1000).toFixed(1)} s, busy (not idle) ${(s.busyMs / 1000).toFixed(1)} s. Percentages are of busy time.`,
    '',
    '| self ms | % busy | function | where |',
    '| ---: | ---: | --- | --- |',
    ...s.top.map((f) => `| ${f.ms.toFixed(0)} | ${f.percent.toFixed(1)} | \`${f.name}\` | ${f.where} |`),
    '',
    '| area | self ms | % busy |',
    '| --- | ---: | ---: |',
    ...s.areas.slice(0, 12).map((a) => `| ${a.area} | ${a.ms.toFixed(0)} | ${a.percent.toFixed(1)} |`),
    '',
  ];
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error('usage: tsx bench/cpuprofile.ts FILE.cpuprofile [top]');
    process.exit(2);
  }
  console.log(profileMarkdown(file, summarizeProfile(file, Number(process.argv[3] ?? 25))));
}
