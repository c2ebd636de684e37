import { RulesRepository, RuleValidationError } from '@eagle-eye/rules';
import { City } from './city';
import { trapNumbers } from './generator';
import { CARRIERS, TRAPS } from './model';

export interface WhitelistTarget {
  carrierId: string;
  token: string;
  kind: string;
}

/**
 * The verified service numbers (banks, hospitals, hotlines, ride-hailing) a carrier would whitelist,
 * as each carrier's pseudonym tokens. Couriers and telemarketers are not whitelisted: real
 * deployments do not, and they are the traps the rules themselves must survive.
 */
export function whitelistTargets(city: City): WhitelistTarget[] {
  const out: WhitelistTarget[] = [];
  TRAPS.forEach((k, i) => {
    if (!k.whitelisted) return;
    const { count, index } = trapNumbers(city.size, i);
    for (let j = 0; j < count; j++)
      for (const c of CARRIERS)
        out.push({ carrierId: c.id, token: city.token(c.id, index(j)), kind: k.kind });
  });
  return out;
}

/** Adds the targets to the detector's whitelist (scope: the carrier); entries already there are kept. */
export async function seedWhitelist(
  rules: RulesRepository,
  targets: WhitelistTarget[],
): Promise<{ added: number; present: number }> {
  let added = 0;
  let present = 0;
  for (const t of targets) {
    try {
      await rules.addListEntry({
        actor: 'simulator',
        actorRole: 'admin',
        list: 'white',
        numberToken: t.token,
        scope: t.carrierId,
        reason: `simulated verified ${t.kind} number`,
      });
      added++;
    } catch (e) {
      if (!(e instanceof RuleValidationError) || !/already on a list/.test(e.message)) throw e;
      present++;
    }
  }
  return { added, present };
}
