import { AlertJobName } from '@eagle-eye/contracts';
import { AlertJob } from '../detection/alert.publisher';
import { AlertJobs, urgentFirst } from './alert-jobs';
import { AlertSink } from './work';

const victim = (kind: 'victim_on_call' | 'post_call', callId: string) =>
  ({ name: AlertJobName.VictimOnCall, data: { kind, callId } }) as unknown as AlertJob;
const suspect = (suspectTok: string) =>
  ({
    name: AlertJobName.SuspectNumber,
    data: { kind: 'suspect_number', suspect: suspectTok },
  }) as unknown as AlertJob;
const ended = (callId: string) => ({ name: AlertJobName.CallEnded, data: { callId } }) as unknown as AlertJob;

describe("a round's alert jobs go to the queue victims on the line first", () => {
  const round = [
    suspect('s1'),
    ended('c0'),
    victim('post_call', 'c1'),
    suspect('s2'),
    victim('victim_on_call', 'c2'),
    victim('victim_on_call', 'c3'),
  ];

  it("orders victims on the call, ended calls, suspect numbers, call ends; the round's order within each", () => {
    expect(urgentFirst(round)).toEqual([round[4], round[5], round[2], round[0], round[3], round[1]]);
    expect(urgentFirst([])).toEqual([]);
  });

  it('publishes in that order, every job once', async () => {
    const sent: AlertJob[][] = [];
    const sink: AlertSink = { publish: (jobs) => Promise.resolve(void sent.push(jobs)) };
    await new AlertJobs(sink, () => 0).publish([...round], undefined);
    expect(sent).toHaveLength(1);
    expect(
      sent[0].map((j) => ('callId' in j.data ? j.data.callId : (j.data as { suspect: string }).suspect)),
    ).toEqual(['c2', 'c3', 'c1', 's1', 's2', 'c0']);
  });
});
