import { createReadStream, createWriteStream, WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * Ground truth of a simulated run, one JSON object a line. Tokens are the pseudonyms the reporting
 * carrier sent (every carrier pseudonymises with its own key, so one scam number has one token per
 * carrier that reported a call of it).
 */
export type ScamKind = 'fanout' | 'overseas' | 'simfarm' | 'callback' | 'romance';
export const SCAM_KINDS: readonly ScamKind[] = ['fanout', 'overseas', 'simfarm', 'callback', 'romance'];

export interface RunRecord {
  type: 'run';
  scenario: string;
  seed: number;
  runId: string;
  subscribers: number;
  /** simulated time of the first event, epoch ms */
  startMs: number;
  /** no new call starts at or after this simulated time (Infinity is written as null) */
  horizonMs: number | null;
  /**
   * start of the measured window, simulated epoch ms: traffic before it is the warm-up (streamed so
   * that the detector has history, as a detector running for ever would), excluded from the figures.
   * Absent: the whole run is measured.
   */
  measureFromMs?: number;
}

export interface ScammerRecord {
  type: 'scammer';
  scenario: ScamKind;
  group: string;
  carrierId: string;
  token: string;
}

export interface TrapRecord {
  type: 'trap';
  kind: string;
  carrierId: string;
  token: string;
  whitelisted: boolean;
}

export interface ScamCallRecord {
  type: 'scam_call';
  scenario: ScamKind;
  group: string;
  carrierId: string;
  callId: string;
  caller: string;
  callee: string;
  /** the subscriber being scammed (the callee, or the caller of a call-back) */
  victim: string;
  /** the scam number's token */
  suspect: string;
  attemptMs: number;
  answeredMs: number | null;
  endedMs: number;
  talkS: number;
  hooked: boolean;
}

/** A victim kept on the line: one or more long calls (hand-over between numbers of one ring). */
export interface HookedRecord {
  type: 'hooked';
  scenario: ScamKind;
  group: string;
  carrierId: string;
  victim: string;
  region: string;
  ageBand: string;
  /** answer time of the first long call */
  answeredMs: number;
  /** end of the last call of the episode */
  endedMs: number;
  calls: { callId: string; suspect: string; answeredMs: number; endedMs: number }[];
  /** one of the demo's scripted victims (scenario `forcedHooks`); absent for the others */
  forced?: boolean;
}

/**
 * The demo's live part begins (after its history import): simulated time `simMs` is due at wall
 * time `wallMs` and runs `warp` times faster from there, so an alert's wall time maps to event time.
 */
export interface LiveRecord {
  type: 'live';
  simMs: number;
  wallMs: number;
  warp: number;
  /** simulated minutes of history streamed before, and the wall seconds that took */
  historyMinutes: number;
  historyWallS: number;
  historyEvents: number;
  /** simulated time the first scripted victim is called at (absent without scripted victims) */
  firstVictimMs?: number;
}

export interface SummaryRecord {
  type: 'summary';
  events: number;
  calls: number;
  legitCalls: number;
  legitAnsweredCalls: number;
  /** legitimate calls started in the measured window (absent in older files: all of them) */
  legitCallsMeasured?: number;
  scamCalls: number;
  hookedEpisodes: number;
  lastEventMs: number;
}

export type GroundTruthRecord =
  RunRecord | ScammerRecord | TrapRecord | ScamCallRecord | HookedRecord | SummaryRecord | LiveRecord;

export interface GroundTruth {
  run?: RunRecord;
  scammers: ScammerRecord[];
  traps: TrapRecord[];
  scamCalls: ScamCallRecord[];
  hooked: HookedRecord[];
  summary?: SummaryRecord;
  live?: LiveRecord;
}

export function emptyGroundTruth(): GroundTruth {
  return { scammers: [], traps: [], scamCalls: [], hooked: [] };
}

export function addRecord(gt: GroundTruth, r: GroundTruthRecord): void {
  switch (r.type) {
    case 'run':
      gt.run = r;
      break;
    case 'scammer':
      gt.scammers.push(r);
      break;
    case 'trap':
      gt.traps.push(r);
      break;
    case 'scam_call':
      gt.scamCalls.push(r);
      break;
    case 'hooked':
      gt.hooked.push(r);
      break;
    case 'summary':
      gt.summary = r;
      break;
    case 'live':
      gt.live = r;
      break;
    default: {
      const never: never = r;
      throw new Error(`unknown ground-truth record ${JSON.stringify(never)}`);
    }
  }
}

/** Appends records to a JSON-lines file, respecting back-pressure. */
export class GroundTruthWriter {
  private readonly out: WriteStream;
  private pending = 0;

  constructor(path: string) {
    this.out = createWriteStream(path, { flags: 'w' });
  }

  write(r: GroundTruthRecord): void {
    this.pending++;
    this.out.write(JSON.stringify(r) + '\n', () => this.pending--);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.out.end((e?: Error | null) => (e ? reject(e) : resolve()));
    });
  }
}

export async function readGroundTruth(path: string): Promise<GroundTruth> {
  const gt = emptyGroundTruth();
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    try {
      addRecord(gt, JSON.parse(line) as GroundTruthRecord);
    } catch (e) {
      throw new Error(`${path}:${n}: ${(e as Error).message}`, { cause: e });
    }
  }
  return gt;
}
