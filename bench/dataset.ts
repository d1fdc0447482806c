import { writeFileSync } from 'node:fs';

/**
 * Seeded JSON-like payloads for ProducerPerformance's --payload-file. Real topics carry events with repeated
 * field names, enum-like values, ids and free text, so they compress; random bytes (ProducerPerformance's
 * --record-size) would not, and would make every codec look useless. The same seed gives the same file.
 */

/** mulberry32: small, fast, good enough for test data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'order payment refund shipment invoice customer account session cart checkout product review rating ' +
  'delivery warehouse stock price discount coupon email notification login logout signup profile address ' +
  'billing subscription renewal cancel upgrade downgrade trial premium basic standard express pickup ' +
  'return exchange warranty support ticket priority escalation resolved pending failed success retry ' +
  'timeout latency region zone cluster replica primary backup archive snapshot restore migrate export ' +
  'import batch stream event topic partition offset consumer producer broker leader follower quorum'
).split(' ');
const EVENT_TYPES = [
  'order.created',
  'order.paid',
  'order.shipped',
  'order.cancelled',
  'cart.updated',
  'user.login',
  'user.updated',
  'payment.failed',
  'refund.issued',
  'review.posted',
];
const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'NL', 'SE', 'PL', 'ES', 'IT', 'JP', 'BR', 'IN'];
const CURRENCIES = ['EUR', 'USD', 'GBP', 'SEK', 'PLN', 'JPY'];
const CATEGORIES = ['books', 'music', 'garden', 'kitchen', 'toys', 'sports', 'electronics', 'fashion'];
const TIERS = ['free', 'basic', 'gold', 'platinum'];
const BASE_TIME = Date.UTC(2025, 0, 1);

class Gen {
  constructor(readonly rnd: () => number) {}
  int(max: number): number {
    return Math.floor(this.rnd() * max);
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)] as T;
  }
  hex(chars: number): string {
    let s = '';
    while (s.length < chars) s += this.int(0x10000).toString(16).padStart(4, '0');
    return s.slice(0, chars);
  }
  words(n: number): string {
    return Array.from({ length: n }, () => this.pick(WORDS)).join(' ');
  }
  money(): number {
    return Math.round(this.rnd() * 50_000) / 100;
  }
}

/** A compact event of about `target` bytes (for ~100-byte records). */
function smallEvent(g: Gen, target: number): string {
  const event: Record<string, unknown> = {
    id: 1_000_000 + g.int(9_000_000),
    ts: BASE_TIME + g.int(86_400_000 * 30),
    type: g.pick(EVENT_TYPES),
    user: `u-${g.int(100_000)}`,
  };
  let json = JSON.stringify(event);
  const tags: string[] = [];
  while (json.length < target - 8) {
    tags.push(g.pick(WORDS));
    event.tags = tags;
    json = JSON.stringify(event);
  }
  return json;
}

/** A rich order-like event of about `target` bytes (for ~1 KiB records and up). */
function richEvent(g: Gen, target: number): string {
  const items: Record<string, unknown>[] = [];
  const event: Record<string, unknown> = {
    eventId: `${g.hex(8)}-${g.hex(4)}-4${g.hex(3)}-${g.hex(4)}-${g.hex(12)}`,
    type: g.pick(EVENT_TYPES),
    occurredAt: new Date(BASE_TIME + g.int(86_400_000 * 30)).toISOString(),
    source: {
      service: `svc-${g.pick(WORDS)}`,
      version: `1.${g.int(20)}.${g.int(10)}`,
      host: `ip-10-0-${g.int(256)}-${g.int(256)}`,
    },
    tenant: `tenant-${g.int(50)}`,
    user: {
      id: 100_000 + g.int(900_000),
      name: `${g.pick(WORDS)} ${g.pick(WORDS)}`,
      email: `${g.pick(WORDS)}.${g.int(10_000)}@example.com`,
      country: g.pick(COUNTRIES),
      tier: g.pick(TIERS),
    },
    session: g.hex(16),
    currency: g.pick(CURRENCIES),
    items,
  };
  let json = JSON.stringify(event);
  // Items until the size is reached; a note in free text fills the remainder roughly.
  while (json.length < target - 120) {
    items.push({
      sku: `SKU-${g.int(100_000)}`,
      qty: 1 + g.int(5),
      price: g.money(),
      category: g.pick(CATEGORIES),
    });
    json = JSON.stringify(event);
  }
  event.total =
    Math.round(items.reduce((s, i) => s + (i.price as number) * (i.qty as number), 0) * 100) / 100;
  event.note = g.words(Math.max(1, Math.round((target - JSON.stringify(event).length - 10) / 7)));
  return JSON.stringify(event);
}

export interface PayloadPool {
  file: string;
  payloads: number;
  /** Mean payload bytes: what one produced record weighs on average. */
  meanBytes: number;
}

/**
 * Writes `count` newline-separated payloads averaging about `recordSize` bytes (each within roughly ±15%).
 * The pool should be large compared with a codec window (zstd level 3 looks back 2 MiB; lz4 64 KiB), because
 * ProducerPerformance picks payloads at random and repeats would compress unrealistically well.
 */
export function writePayloadFile(file: string, recordSize: number, count: number, seed = 42): PayloadPool {
  const g = new Gen(seededRandom(seed));
  const lines: string[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const target = Math.max(40, Math.round(recordSize * (0.85 + 0.3 * g.rnd())));
    const json = target < 300 ? smallEvent(g, target) : richEvent(g, target);
    lines.push(json);
    total += Buffer.byteLength(json);
  }
  writeFileSync(file, lines.join('\n') + '\n');
  return { file, payloads: count, meanBytes: total / count };
}

/** Payload pool size for a data set: every record distinct up to 64 MiB or 100 000 payloads. */
export function poolSize(recordSize: number, records: number): number {
  return Math.max(1, Math.min(records, 100_000, Math.floor((64 * 1024 * 1024) / recordSize)));
}
