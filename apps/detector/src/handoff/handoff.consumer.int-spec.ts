import { Queue } from 'bullmq';
import {
  AlertJobName,
  HANDOFF_FIELD_CARRIER,
  HANDOFF_FIELD_PACKED,
  HANDOFF_GROUP,
  handoffPartition,
  HandoffEntry,
  HandoffEvent,
  packEvents,
  QueueName,
  VictimOnCallJob,
} from '@eagle-eye/contracts';
import { connectTestRedis } from '@eagle-eye/testing';
import Redis from 'ioredis';
import { AlertPublisher } from '../detection/alert.publisher';
import { createDetection, DetectionService } from '../detection/detection.service';
import {
  call,
  ev,
  fanout,
  findAlertJob,
  Harness,
  startHarness,
  T0,
  TEST_DETECTION_OPTIONS,
  token,
} from '../test/harness';
import { EventClock } from './event-clock';
import { ConsumerOptions, HandoffConsumer } from './handoff.consumer';
import { PartitionLeases } from './partition-leases';
import { eventsProcessed, roundStageSeconds } from '../metrics';

const PARTITIONS = 4;

describe('hand-off stream -> detector -> BullMQ alerts queue', () => {
  let h: Harness;
  let bull: Redis;
  let publisher: AlertPublisher;
  let detection: DetectionService;
  let clock: EventClock;
  beforeEach(async () => {
    h = await startHarness();
    bull = await connectTestRedis();
    publisher = new AlertPublisher(bull, h.keys.bullPrefix());
    clock = new EventClock(h.redis, h.keys, PARTITIONS);
    detection = createDetection({
      redis: h.redis,
      keys: h.keys,
      scripts: h.scripts,
      rules: h.rules,
      alerts: publisher,
      options: { ...TEST_DETECTION_OPTIONS, partitions: PARTITIONS },
      eventClock: clock,
    });
  });
  afterEach(async () => {
    await publisher.close();
    bull.disconnect();
    await h.close();
  });

  async function handOver(events: HandoffEvent[]): Promise<void> {
    // like ingest: each call's events in its partition, in order, a few events per entry
    const byPart = new Map<number, HandoffEvent[]>();
    for (const e of events) {
      const p = handoffPartition(e.caller, PARTITIONS);
      byPart.set(p, [...(byPart.get(p) ?? []), e]);
    }
    // the fan-out happened before the victim's call: hand it all over at once (MULTI), not
    // partition by partition while the consumer is already reading
    const tx = h.redis.multi();
    for (const [p, evs] of byPart) {
      for (let i = 0; i < evs.length; i += 7) {
        tx.xadd(
          h.keys.handoffStream(p),
          '*',
          HANDOFF_FIELD_CARRIER,
          h.carrier,
          HANDOFF_FIELD_PACKED,
          packEvents(evs.slice(i, i + 7)),
        );
      }
    }
    await tx.exec();
  }

  /** Waits until every partition's stream is empty: every entry applied, acknowledged and deleted. */
  async function drained(ms = 5000): Promise<void> {
    await until(async () => {
      let left = 0;
      for (let p = 0; p < PARTITIONS; p++) left += await h.redis.xlen(h.keys.handoffStream(p));
      return left === 0 ? true : undefined;
    }, ms);
  }

  /** A consumer of this test's partitions: 100 entries a read, takeovers after a minute, unless `opts` says otherwise. */
  function newConsumer(consumer: string, opts: Partial<ConsumerOptions> = {}): HandoffConsumer {
    return new HandoffConsumer(h.redis, h.keys, detection, clock, {
      partitions: PARTITIONS,
      consumer,
      readCount: 100,
      claimIdleMs: 60_000,
      ...opts,
    });
  }

  async function until<T>(fn: () => Promise<T | undefined>, ms = 5000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('alerts a victim on a call through the real stream, consumer group and queue, and acks everything', async () => {
    const consumer = newConsumer('replica-1', { readCount: 50 });
    await consumer.start();
    try {
      const scammer = token();
      const victim = token();
      const now = Date.now();
      await handOver([
        ...fanout(scammer, now - 10_000, 30),
        ev('ATTEMPT', 'live-1', scammer, victim, now - 9000, { age: '65_PLUS' }),
        ev('ANSWERED', 'live-1', scammer, victim, now - 8000, { age: '65_PLUS' }),
      ]);
      const queue = new Queue(QueueName.Alerts, { connection: bull, prefix: h.keys.bullPrefix() });
      // the round's alerts go as one batch job when there are several (a suspect number may join it)
      const { item, job } = await until(() =>
        findAlertJob(queue, `voc|${h.carrier}|live-1|victim_on_call|warning|0`),
      );
      expect(item.name).toBe(AlertJobName.VictimOnCall);
      const data = item.data as VictimOnCallJob;
      expect(data).toMatchObject({ victim, suspect: scammer, severity: 'warning' });
      expect(data.raisedAt).toBeGreaterThanOrEqual(data.ingestedAtMs ?? Infinity);
      expect(job.opts.removeOnComplete).toEqual({ age: 86400, count: 200000 });
      // every entry acknowledged and deleted
      await drained();
      for (let p = 0; p < PARTITIONS; p++) {
        const pending = (await h.redis.xpending(h.keys.handoffStream(p), HANDOFF_GROUP)) as [number];
        expect(pending[0]).toBe(0);
      }
      // the partition watermark gives the sweep its event-time now
      expect(Math.abs((await clock.now()) - now)).toBeLessThan(60_000);
      await queue.close();
    } finally {
      await consumer.stop();
    }
  });

  it('with deferred windows writes acknowledges a round once what it changed is written, and writes all at stop', async () => {
    const deferred = (delayMs: number) =>
      createDetection({
        redis: h.redis,
        keys: h.keys,
        scripts: h.scripts,
        rules: h.rules,
        alerts: publisher,
        options: {
          ...TEST_DETECTION_OPTIONS,
          partitions: PARTITIONS,
          callerWindows: 'node',
          callerWriteDelayMs: delayMs,
        },
        eventClock: clock,
      });
    const pending = async (): Promise<number> => {
      let n = 0;
      for (let p = 0; p < PARTITIONS; p++)
        n += ((await h.redis.xpending(h.keys.handoffStream(p), HANDOFF_GROUP)) as [number])[0];
      return n;
    };
    const written = async (numbers: string[]): Promise<number> =>
      (await Promise.all(numbers.map((n) => h.redis.exists(h.keys.numState(n))))).reduce((a, b) => a + b, 0);
    const options = { partitions: PARTITIONS, consumer: 'replica-d', readCount: 50, claimIdleMs: 60_000 };
    const applied = async () =>
      (await eventsProcessed.get()).values.find((v) => v.labels.result === 'applied')?.value ?? 0;

    // written 1.5 s after the change: until then the entries stay pending, then they are acknowledged
    const callers = Array.from({ length: 5 }, () => token());
    let consumer = new HandoffConsumer(h.redis, h.keys, deferred(1500), clock, options);
    await consumer.start();
    try {
      const before = await applied();
      await handOver(callers.flatMap((c) => fanout(c, Date.now() - 5000, 4)));
      await until(async () => ((await applied()) >= before + 20 ? true : undefined));
      expect(await pending()).toBeGreaterThan(0);
      expect(await written(callers)).toBe(0);
      await until(async () => ((await pending()) === 0 ? true : undefined), 10_000);
      expect(await written(callers)).toBe(callers.length);
    } finally {
      await consumer.stop();
    }

    // a delay longer than the test: stopping writes what waits, then acknowledges it
    const more = Array.from({ length: 5 }, () => token());
    consumer = new HandoffConsumer(h.redis, h.keys, deferred(60_000), clock, options);
    await consumer.start();
    try {
      const before = await applied();
      await handOver(more.flatMap((c) => fanout(c, Date.now() - 5000, 4)));
      await until(async () => ((await applied()) >= before + 20 ? true : undefined));
      await new Promise((r) => setTimeout(r, 300));
      expect(await pending()).toBeGreaterThan(0);
    } finally {
      await consumer.stop();
    }
    expect(await pending()).toBe(0);
    expect(await written(more)).toBe(more.length);
  });

  it('keeps each call in order while rounds overlap (first stage of one, second stage of the previous)', async () => {
    const consumer = new HandoffConsumer(h.redis, h.keys, detection, clock, {
      partitions: PARTITIONS,
      consumer: 'replica-stages',
      readCount: 2, // small rounds: a call's answer and end land in different rounds
      claimIdleMs: 60_000,
    });
    const scammer = token();
    const victims = Array.from({ length: 40 }, () => token());
    const now = Date.now();
    // a suspect caller (tracked while its calls run), then 40 answered calls ending 20 s later
    const events: HandoffEvent[] = [...fanout(scammer, now - 120_000, 30)];
    victims.forEach((v, i) => events.push(...call(scammer, v, now - 100_000 + i * 1000, 20)));
    // as a switch reports them: in time order, so a call's end comes many entries after its answer
    await handOver(events.sort((a, b) => a.t - b.t));
    await consumer.start();
    try {
      await drained(20_000);
    } finally {
      await consumer.stop();
    }
    // every call ended after it was answered: no victim still shows a call in progress, and no
    // duration-step check is left for one
    for (const v of victims) {
      const fields = await h.redis.hkeys(h.keys.numCallee(v));
      expect(fields.filter((f) => f.startsWith('c') || f.startsWith('a'))).toEqual([]);
    }
    for (let shard = 0; shard < 4; shard++) expect(await h.redis.zcard(h.keys.detectorDue(shard))).toBe(0);
    // and they were tracked at all: the suspect caller's answered calls reached the callee side
    const calleeEvents = h.scripts.calls
      .filter((c) => c.script === 'callee-batch')
      .reduce((n, c) => n + Number(c.args[4]), 0);
    expect(calleeEvents).toBeGreaterThanOrEqual(80);
  });

  it('with DETECTOR_ROUND_EVENTS reads a backlog in rounds of about that many events, whatever DETECTOR_READ_COUNT allows', async () => {
    // DETECTOR_READ_COUNT 50 alone: the whole backlog below in one round
    const consumer = newConsumer('replica-rounds', { readCount: 50, roundEvents: 100 });
    const rounds: number[] = [];
    const applyCallers = detection.applyCallers.bind(detection);
    jest.spyOn(detection, 'applyCallers').mockImplementation((entries: HandoffEntry[]) => {
      rounds.push(entries.reduce((n, e) => n + e.events.length, 0));
      return applyCallers(entries);
    });
    // 120 calls of three events between numbers never seen: about 90 entries of 7 events
    const now = Date.now();
    const events: HandoffEvent[] = [];
    for (let i = 0; i < 120; i++) events.push(...call(token(), token(), now - 100_000 + i * 100, 5));
    await handOver(events);
    await consumer.start();
    try {
      await drained(20_000);
    } finally {
      await consumer.stop();
    }
    expect(rounds.reduce((a, b) => a + b, 0)).toBe(events.length);
    // the first read takes one entry per partition (no events per entry seen yet), then three
    // entries of 7 events per partition: 84 events
    expect(rounds[0]).toBeLessThanOrEqual(PARTITIONS * 7);
    expect(Math.max(...rounds)).toBeLessThanOrEqual(100);
    expect(rounds.length).toBeGreaterThanOrEqual(Math.ceil(events.length / 100));
  });

  it('takes over the entries of a consumer that died before acknowledging them', async () => {
    const dead = new HandoffConsumer(h.redis, h.keys, detection, clock, {
      partitions: PARTITIONS,
      consumer: 'dead',
      readCount: 50,
      claimIdleMs: 60_000,
    });
    await dead.ensureGroups();
    const scammer = token();
    const victim = token();
    await handOver([
      ...fanout(scammer, T0, 30),
      ev('ATTEMPT', 'c-1', scammer, victim, T0, { age: '65_PLUS' }),
      ev('ANSWERED', 'c-1', scammer, victim, T0 + 1000, { age: '65_PLUS' }),
    ]);
    // 'dead' reads the entries and crashes before applying them
    for (let p = 0; p < PARTITIONS; p++) {
      await h.redis.xreadgroup(
        'GROUP',
        HANDOFF_GROUP,
        'dead',
        'COUNT',
        1000,
        'STREAMS',
        h.keys.handoffStream(p),
        '>',
      );
    }
    await new Promise((r) => setTimeout(r, 1100));
    const rescuer = new HandoffConsumer(h.redis, h.keys, detection, clock, {
      partitions: PARTITIONS,
      consumer: 'rescuer',
      readCount: 100,
      claimIdleMs: 1000,
    });
    expect(await rescuer.poll()).toBe(0); // nothing new
    const n = await rescuer.claimStale();
    expect(n).toBeGreaterThan(0);
    const queue = new Queue(QueueName.Alerts, { connection: bull, prefix: h.keys.bullPrefix() });
    const found = await findAlertJob(queue, `voc|${h.carrier}|c-1|victim_on_call|warning|0`);
    expect(found?.item.data).toMatchObject({ victim });
    await queue.close();
  });

  it('reads again what a read lost with its connection left pending to it', async () => {
    // reconnects as the apps' connections do (the tests' own give up at once)
    const conn = h.redis.duplicate({ retryStrategy: () => 100, maxRetriesPerRequest: 20 });
    const live = new HandoffConsumer(conn, h.keys, detection, clock, {
      partitions: PARTITIONS,
      consumer: 'live',
      readCount: 100,
      claimIdleMs: 60_000,
    });
    await live.start();
    const backlog = async (): Promise<number> => {
      let n = 0;
      for (let p = 0; p < PARTITIONS; p++) n += await h.redis.xlen(h.keys.handoffStream(p));
      return n;
    };
    try {
      // the loop is past its start (where it reads its own pending list once) once this is done
      await handOver(fanout(token(), T0, 3));
      await until(async () => ((await backlog()) === 0 ? true : undefined), 10_000);
      const scammer = token();
      const victim = token();
      const events = [
        ...fanout(scammer, T0, 30),
        ev('ATTEMPT', 'c-lost', scammer, victim, T0, { age: '65_PLUS' }),
        ev('ANSWERED', 'c-lost', scammer, victim, T0 + 1000, { age: '65_PLUS' }),
      ];
      // what Redis holds after a read whose reply was lost (Redis killed, or the connection
      // reset, after it ran): the entries delivered to 'live', which never saw them. Handed over
      // and delivered atomically, so the running consumer cannot read them first.
      const tx = h.redis.multi();
      for (let p = 0; p < PARTITIONS; p++) {
        const evs = events.filter((e) => handoffPartition(e.caller, PARTITIONS) === p);
        if (evs.length)
          tx.xadd(
            h.keys.handoffStream(p),
            '*',
            HANDOFF_FIELD_CARRIER,
            h.carrier,
            HANDOFF_FIELD_PACKED,
            packEvents(evs),
          );
        tx.xreadgroup('GROUP', HANDOFF_GROUP, 'live', 'COUNT', 1000, 'STREAMS', h.keys.handoffStream(p), '>');
      }
      await tx.exec();
      const pending = async (): Promise<number> => {
        let n = 0;
        for (let p = 0; p < PARTITIONS; p++)
          n += Number(((await h.redis.xpending(h.keys.handoffStream(p), HANDOFF_GROUP)) as unknown[])[0]);
        return n;
      };
      await new Promise((r) => setTimeout(r, 500));
      expect(await pending()).toBeGreaterThan(0); // stranded while the connection stays up
      // the connection drops and comes back (as when Redis restarts)
      conn.disconnect(true);
      await until(async () => ((await pending()) === 0 ? true : undefined), 10_000);
      const queue = new Queue(QueueName.Alerts, { connection: bull, prefix: h.keys.bullPrefix() });
      const found = await findAlertJob(queue, `voc|${h.carrier}|c-lost|victim_on_call|warning|0`);
      expect(found?.item.data).toMatchObject({ victim });
      await queue.close();
    } finally {
      await live.stop();
      conn.disconnect();
    }
  });

  it("never takes over its own entries: a long round's read-ahead is not applied twice", async () => {
    const self = new HandoffConsumer(h.redis, h.keys, detection, clock, {
      partitions: PARTITIONS,
      consumer: 'busy',
      readCount: 100,
      claimIdleMs: 1000,
    });
    await self.ensureGroups();
    await handOver(fanout(token(), T0, 10));
    // read ahead by this consumer, its round still running past the claim idle time
    for (let p = 0; p < PARTITIONS; p++)
      await h.redis.xreadgroup(
        'GROUP',
        HANDOFF_GROUP,
        'busy',
        'COUNT',
        1000,
        'STREAMS',
        h.keys.handoffStream(p),
        '>',
      );
    await new Promise((r) => setTimeout(r, 1100));
    expect(await self.claimStale()).toBe(0);
    // another replica does take them over
    const other = new HandoffConsumer(h.redis, h.keys, detection, clock, {
      partitions: PARTITIONS,
      consumer: 'other',
      readCount: 100,
      claimIdleMs: 1000,
    });
    expect(await other.claimStale()).toBeGreaterThan(0);
  });

  /**
   * Runs a consumer of partition 0 (two entries a round) over entries A1, A2, B1 handed over before
   * it starts and B2 handed over while the first round's caller stage runs; returns each round's calls.
   */
  async function roundsWith(readAhead: boolean | undefined): Promise<string[][]> {
    const rounds: string[][] = [];
    let duringFirst: (() => Promise<unknown>) | null = async () => {
      await new Promise((r) => setTimeout(r, 50)); // a read made as the round started has run by now
      await add('B2');
    };
    const watched = Object.assign(Object.create(detection) as DetectionService, {
      applyCallers: async (entries: HandoffEntry[]) => {
        if (entries.length) rounds.push(entries.flatMap((e) => e.events.map((x) => x.call)));
        const during = duringFirst;
        duringFirst = null;
        if (during) await during();
        return detection.applyCallers(entries);
      },
    });
    const stream = h.keys.handoffStream(0);
    const add = (call: string) =>
      h.redis.xadd(
        stream,
        '*',
        HANDOFF_FIELD_CARRIER,
        h.carrier,
        HANDOFF_FIELD_PACKED,
        packEvents([ev('ATTEMPT', call, token(), token(), T0)]),
      );
    const consumer = new HandoffConsumer(h.redis, h.keys, watched, clock, {
      partitions: 1,
      consumer: `reader-${String(readAhead)}`,
      readCount: 2,
      claimIdleMs: 60_000,
      ...(readAhead === undefined ? {} : { readAhead }),
    });
    await consumer.ensureGroups();
    for (const c of ['A1', 'A2', 'B1']) await add(c);
    await consumer.start();
    try {
      await until(async () => ((await h.redis.xlen(stream)) === 0 && !duringFirst ? true : undefined));
    } finally {
      await consumer.stop();
    }
    return rounds;
  }

  it("reads the next round when a round's caller stage ends: what arrived meanwhile is in it", async () => {
    // B2 arrived during the first round: applied with B1 in the second, not a round later
    expect(await roundsWith(undefined)).toEqual([
      ['A1', 'A2'],
      ['B1', 'B2'],
    ]);
  });

  it('with DETECTOR_READ_AHEAD reads the next round as a round starts: what arrives later waits a round more', async () => {
    expect(await roundsWith(true)).toEqual([['A1', 'A2'], ['B1'], ['B2']]);
  });

  it('ends an idle pause when an entry arrives (a blocking read), not when the pause is over', async () => {
    const applied: number[] = [];
    const watched = Object.assign(Object.create(detection) as DetectionService, {
      applyCallers: (entries: HandoffEntry[]) => {
        if (entries.length) applied.push(Date.now());
        return detection.applyCallers(entries);
      },
    });
    // idle pauses of up to 3 s
    const consumer = new HandoffConsumer(h.redis, h.keys, watched, clock, {
      partitions: PARTITIONS,
      consumer: 'idle',
      readCount: 100,
      claimIdleMs: 60_000,
      idleBlockMs: 3000,
    });
    await consumer.start();
    try {
      await new Promise((r) => setTimeout(r, 500)); // idle by now, in a pause
      const sent = Date.now();
      // calling numbers in several partitions
      await handOver(Array.from({ length: 6 }, () => fanout(token(), T0, 2)).flat());
      await until(async () => (applied.length ? true : undefined), 10_000);
      expect(applied[0] - sent).toBeLessThan(1000);
      await drained(10_000);
      // the woken round had every partition's entry of the hand-over, not just the first one's
      expect(applied).toHaveLength(1);
    } finally {
      await consumer.stop();
    }
  });

  it('idle, makes only blocking reads: no read of every partition between them', async () => {
    const consumer = newConsumer('idle-reads', { idleBlockMs: 100 });
    // every read of all partitions (empty ones too) is timed under the 'read' stage
    const reads = async () =>
      (await roundStageSeconds.get()).values.find(
        (v) => v.metricName === 'eagleeye_detector_round_stage_seconds_count' && v.labels.stage === 'read',
      )?.value ?? 0;
    await consumer.start();
    try {
      await new Promise((r) => setTimeout(r, 300)); // idle by now
      const before = await reads();
      await new Promise((r) => setTimeout(r, 1000)); // about ten blocking reads that find nothing
      // (one read of every partition after each blocking read, as before, made ten)
      expect((await reads()) - before).toBe(0);
      // and an entry arriving still ends the pause at once
      const applied = (await eventsProcessed.get()).values.reduce((n, v) => n + v.value, 0);
      const sent = Date.now();
      await handOver(fanout(token(), T0, 2));
      await drained(5000);
      expect(Date.now() - sent).toBeLessThan(2000);
      expect((await eventsProcessed.get()).values.reduce((n, v) => n + v.value, 0)).toBeGreaterThan(applied);
    } finally {
      await consumer.stop();
    }
  });

  it('two replicas with partition leases: each calling number applied by one of them, every event once; a replica stopping hands its partitions over', async () => {
    const byCaller = new Map<string, Set<string>>();
    const applied = new Map<string, number>();
    const watch = (name: string) =>
      Object.assign(Object.create(detection) as DetectionService, {
        applyCallers: (entries: HandoffEntry[]) => {
          for (const e of entries)
            for (const x of e.events) {
              byCaller.set(x.caller, (byCaller.get(x.caller) ?? new Set<string>()).add(name));
              applied.set(x.id, (applied.get(x.id) ?? 0) + 1);
            }
          return detection.applyCallers(entries);
        },
      });
    const leases = ['r1', 'r2'].map(
      (name) =>
        new PartitionLeases(h.redis, h.keys, { partitions: PARTITIONS, consumer: name, leaseMs: 600 }),
    );
    const replicas = ['r1', 'r2'].map(
      (name, i) =>
        new HandoffConsumer(
          h.redis,
          h.keys,
          watch(name),
          clock,
          { partitions: PARTITIONS, consumer: name, readCount: 20, claimIdleMs: 60_000 },
          leases[i],
        ),
    );
    const backlog = async (): Promise<number> => {
      let n = 0;
      for (let p = 0; p < PARTITIONS; p++) n += await h.redis.xlen(h.keys.handoffStream(p));
      return n;
    };
    await replicas[0].start();
    await replicas[1].start();
    let stopped = false;
    try {
      // r2 registered after r1 took everything: r1 hands r2's share over within a renewal
      // (a partition being handed over is read by neither for a moment, never by both)
      await until(async () => {
        const [a, b] = leases.map((l) => l.reading());
        expect(a.filter((p) => b.includes(p))).toEqual([]);
        return a.length > 0 && b.length > 0 && a.length + b.length === PARTITIONS ? true : undefined;
      }, 5000);
      const events = Array.from({ length: 40 }, () => fanout(token(), T0, 3)).flat();
      await handOver(events);
      await until(async () => ((await backlog()) === 0 ? true : undefined), 20_000);
      expect(applied.size).toBe(events.length);
      expect([...applied.values()].every((n) => n === 1)).toBe(true);
      const both = new Set<string>();
      for (const names of byCaller.values()) {
        expect(names.size).toBe(1);
        for (const n of names) both.add(n);
      }
      expect(both).toEqual(new Set(['r1', 'r2'])); // and both did some of the work

      // r1 stops: it gives its leases up, and r2 reads every partition from its next renewal
      await replicas[0].stop();
      stopped = true;
      await until(async () => (leases[1].reading().length === PARTITIONS ? true : undefined), 5000);
      const later = Array.from({ length: 10 }, () => fanout(token(), T0 + 60_000, 2)).flat();
      byCaller.clear();
      await handOver(later);
      await until(async () => ((await backlog()) === 0 ? true : undefined), 20_000);
      expect(new Set([...byCaller.values()].flatMap((s) => [...s]))).toEqual(new Set(['r2']));
      expect(applied.size).toBe(events.length + later.length);
    } finally {
      if (!stopped) await replicas[0].stop();
      await replicas[1].stop();
    }
  });
});
