import { modelScores } from '../metrics';
import { ModelRegistry } from './model-registry';

/** The model evaluations counter as a scrape reads it: value by model, role and outcome. */
async function scores(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const v of (await modelScores.get()).values)
    out.set(`${v.labels.model}/${v.labels.role}/${v.labels.outcome}`, v.value);
  return out;
}

describe('ModelRegistry evaluation counts', () => {
  it('counts evaluations in numbers and folds them into the labelled counter when it is read', async () => {
    const models = new ModelRegistry(null);
    const bundled = models.bundled.version;
    try {
      const before = await scores();
      const at = (key: string, s: Map<string, number>) => s.get(key) ?? 0;
      for (let i = 0; i < 7; i++) models.observe('', 'decide', 'below');
      models.observe('', 'decide', 'suspect');
      models.observe('caller-risk-xxxxxxxxxxxx', 'shadow', 'missing');
      const after = await scores();
      // '' is the bundled model, named by its version
      expect(at(`${bundled}/decide/below`, after) - at(`${bundled}/decide/below`, before)).toBe(7);
      expect(at(`${bundled}/decide/suspect`, after) - at(`${bundled}/decide/suspect`, before)).toBe(1);
      expect(
        at('caller-risk-xxxxxxxxxxxx/shadow/missing', after) -
          at('caller-risk-xxxxxxxxxxxx/shadow/missing', before),
      ).toBe(1);
      // folded once: a second read adds nothing
      expect(await scores()).toEqual(after);
      // counted after the module closed: folded as it closes, then no more
      models.observe('', 'decide', 'below');
      models.onModuleDestroy();
      expect(at(`${bundled}/decide/below`, await scores())).toBe(at(`${bundled}/decide/below`, after) + 1);
      models.observe('', 'decide', 'below');
      expect(at(`${bundled}/decide/below`, await scores())).toBe(at(`${bundled}/decide/below`, after) + 1);
    } finally {
      models.onModuleDestroy();
    }
  });
});
