import { createHmac } from 'node:crypto';
import { Pseudonymiser } from '@eagle-eye/pseudonym';
import { AGE_BANDS, AgeBandName, CARRIERS, CarrierId, NORMAL, REGIONS } from './model';
import { hash32, mix32, unit } from './prng';

export interface Subscriber {
  index: number;
  carrierId: CarrierId;
  region: string;
  ageBand: AgeBandName;
  /** relative calling activity, median 1 */
  activity: number;
  /** contact-list length */
  contacts: number;
  devices: number;
}

/** Numbers that are not subscribers of the city (traps, scammers) live above this index. */
export const EXTERNAL_BASE = 200_000_000;

function cumulative<T>(items: readonly (readonly [T, number])[]): { v: T; upTo: number }[] {
  const total = items.reduce((a, [, w]) => a + w, 0);
  let acc = 0;
  return items.map(([v, w]) => ({ v, upTo: (acc += w / total) }));
}
const REGION_CUM = cumulative(REGIONS);
const AGE_CUM = cumulative(AGE_BANDS);
const CARRIER_CUM = cumulative(CARRIERS.map((c) => [c.id, c.share] as const));

function fromCum<T>(cum: { v: T; upTo: number }[], u: number): T {
  for (const c of cum) if (u < c.upTo) return c.v;
  return cum[cum.length - 1].v;
}

/** Standard normal from two hashed uniforms (inverse-free Box-Muller). */
function hashedNormal(a: number, b: number): number {
  return Math.sqrt(-2 * Math.log(1 - a)) * Math.cos(2 * Math.PI * b);
}

/** The simulator's own pseudonym key for a carrier (it plays every carrier's pseudonymising side). */
export function simulatorKey(keySalt: string, carrierId: string): Buffer {
  return createHmac('sha256', 'eagle-eye-simulator').update(`${keySalt}/${carrierId}`).digest();
}

/**
 * A city of `size` subscribers whose attributes are pure functions of (seed, index): nothing per
 * subscriber is stored, so a city of millions costs no memory. Contacts are symmetric offsets on a
 * ring (if j is i's k-th contact, i is j's), so people call back the people who call them, and small
 * offsets stay in one region (regions are contiguous index ranges).
 */
export class City {
  readonly seedHash: number;
  private readonly pseudonymisers = new Map<string, Pseudonymiser>();
  /** contact offsets shared by everybody; rank 0 is the closest (family) */
  readonly offsets: number[];
  /** cumulative Zipf weights over contact ranks */
  private readonly rankCum: number[];

  constructor(
    readonly size: number,
    seed: number,
    keySalt: string,
  ) {
    if (!Number.isInteger(size) || size < 1000 || size >= EXTERNAL_BASE)
      throw new Error(`city size must be an integer in [1000, ${EXTERNAL_BASE})`);
    this.seedHash = mix32(seed, 0x5eed);
    for (const c of CARRIERS)
      this.pseudonymisers.set(c.id, new Pseudonymiser(simulatorKey(keySalt, c.id), c.keyId));
    this.offsets = [];
    const used = new Set<number>();
    for (let k = 0; k < NORMAL.contactsMax; k++) {
      // family and neighbours first, then the wider town, then anyone in the city
      const spread = k < 8 ? 40 : k < 60 ? Math.min(4000, size / 8) : size / 2;
      let d = 1 + Math.floor(unit(this.seedHash, 77, k) * spread);
      while (used.has(d)) d++;
      used.add(d);
      this.offsets.push(d);
    }
    let acc = 0;
    this.rankCum = this.offsets.map((_, k) => (acc += 1 / Math.pow(k + 1, NORMAL.zipf)));
  }

  subscriber(index: number): Subscriber {
    const h = this.seedHash;
    const pos = index / this.size;
    const activity = Math.min(
      NORMAL.activityCap,
      Math.exp(NORMAL.activitySigma * hashedNormal(unit(h, index, 3), unit(h, index, 4))),
    );
    const contacts = Math.max(
      3,
      Math.min(
        NORMAL.contactsMax,
        Math.round(
          NORMAL.contactsMedian *
            Math.exp(NORMAL.contactsSigma * hashedNormal(unit(h, index, 5), unit(h, index, 6))),
        ),
      ),
    );
    return {
      index,
      carrierId: fromCum(CARRIER_CUM, unit(h, index, 1)),
      region: fromCum(REGION_CUM, pos),
      ageBand: fromCum(AGE_CUM, unit(h, index, 2)),
      activity,
      contacts,
      devices: unit(h, index, 7) < NORMAL.secondDeviceShare ? 2 : 1,
    };
  }

  /** the k-th contact of a subscriber, on either side of the ring */
  contact(index: number, rank: number, side: 0 | 1): number {
    const d = this.offsets[rank];
    return side ? (index + d) % this.size : (index - d + this.size) % this.size;
  }

  /** a contact rank drawn with Zipf weights among the first `n` ranks, from a uniform u */
  contactRank(n: number, u: number): number {
    const total = this.rankCum[Math.min(n, this.rankCum.length) - 1];
    const x = u * total;
    let lo = 0;
    let hi = Math.min(n, this.rankCum.length) - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.rankCum[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * The clear E.164 number behind a subscriber or external index. It exists only here, for the
   * instant it takes to pseudonymise it; nothing clear leaves the generator.
   */
  private clearNumber(index: number, country = '86'): string {
    if (country !== '86') return `+${country}${(600000000 + (index % 300000000)).toString()}`;
    const prefix = index >= EXTERNAL_BASE ? 17000000000 : 13800000000;
    return `+86${prefix + (index % EXTERNAL_BASE)}`;
  }

  /** Pseudonym token of a number as the reporting carrier sends it (each carrier has its own key). */
  token(carrierId: string, index: number, country = '86'): string {
    return this.pseudonymiser(carrierId).phoneToken(this.clearNumber(index, country));
  }

  deviceToken(carrierId: string, index: number, device: number): string {
    const imei = (350000000000000 + ((index * 7 + device * 104729) % 99999999999999)).toString();
    return this.pseudonymiser(carrierId).deviceToken(imei);
  }

  private pseudonymiser(carrierId: string): Pseudonymiser {
    const p = this.pseudonymisers.get(carrierId);
    if (!p) throw new Error(`unknown carrier ${carrierId}`);
    return p;
  }
}

export function seedFrom(value: string | number): number {
  return typeof value === 'number' ? value >>> 0 : hash32(value);
}
