import { AlertJobName, VictimOnCallJob } from '@eagle-eye/contracts';
import { AlertJob } from './alert.publisher';
import { ev, fanout, Harness, startHarness, T0, token } from '../test/harness';

const victimJobs = (jobs: AlertJob[]) =>
  jobs.filter((j) => j.name === AlertJobName.VictimOnCall).map((j) => j.data as VictimOnCallJob);

/**
 * Found by the chaos suite (redis-blocked, and slow-console on an overloaded machine): behind a
 * backlog a short scam call's answer and its end fell in one round; the end's callee script closed
 * the call before the answer's live claim ran, the claim found no call, and the end alone was too
 * short for a post-call alert: no alert at all (1 to 9 per run).
 */
describe('an answer and its call end in one round (real Redis and PostgreSQL)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  function policeCall(talk: number) {
    const scammer = token();
    const victim = token();
    const id = `same-round-${talk}`;
    const o = { age: '65_PLUS' } as const;
    return {
      id,
      victim,
      events: [
        ...fanout(scammer, T0, 30),
        ev('ATTEMPT', id, scammer, victim, T0, o),
        ev('ANSWERED', id, scammer, victim, T0 + 8000, o),
        ev('ENDED', id, scammer, victim, T0 + 8000 + talk * 1000, { ...o, talk }),
      ],
    };
  }

  it('raises a short call alert after the fact, as post-call, once', async () => {
    const c = policeCall(10);
    const round = h.entry(c.events);
    await h.detection.process([round]);
    expect(victimJobs(h.sink.jobs)).toEqual([
      expect.objectContaining({
        kind: 'post_call',
        callId: c.id,
        victim: c.victim,
        callAnsweredAt: T0 + 8000,
        callEndedAt: T0 + 18_000,
        talkTimeS: 10,
      }),
    ]);
    // redelivered (a replica died before acknowledging it, perhaps before adding the job): the
    // same job again, under the same id (ignored by the queue if it was added), nothing new
    const ids = h.sink.ids().filter((id) => id.startsWith('voc|'));
    h.sink.jobs = [];
    await h.detection.process([round]);
    expect(h.sink.ids().filter((id) => id.startsWith('voc|'))).toEqual(ids);
  });

  it('leaves a call long enough for a post-call alert to its end: one alert, with the talk time', async () => {
    const c = policeCall(120);
    await h.detection.process([h.entry(c.events)]);
    const jobs = victimJobs(h.sink.jobs);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({
      kind: 'post_call',
      callId: c.id,
      talkTimeS: 120,
      callEndedAt: T0 + 128_000,
    });
  });
});
