import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { CallerModelsRepository } from '@eagle-eye/rules';
import { CallerModel } from '@eagle-eye/scoring';
import { modelScores, modelScoreSources } from '../metrics';

// From source (apps/detector/src/scoring) or the build (dist/apps/detector/src/scoring): the model
// file is not compiled, so the build finds it beside the sources.
export const BUNDLED_MODEL_PATH =
  [
    join(__dirname, '..', '..', 'models', 'caller-risk.json'),
    join(__dirname, '..', '..', '..', '..', '..', 'apps', 'detector', 'models', 'caller-risk.json'),
  ].find((p) => existsSync(p)) ?? join(__dirname, '..', '..', 'models', 'caller-risk.json');

type Outcome = 'suspect' | 'below' | 'missing';
const OUTCOMES: readonly Outcome[] = ['suspect', 'below', 'missing'];

/** Which model a version names: '' is the detector's bundled model. */
export interface ModelSource {
  resolve(version: string): CallerModel | null;
  /** counts one evaluation (metrics per model version) */
  observe?(version: string, role: 'decide' | 'shadow', outcome: Outcome): void;
}

/**
 * The caller-risk models this replica scores with: the bundled one (registered in PostgreSQL at
 * start) and any registered version a `caller_model` rule names, loaded from the registry the first
 * time a rule asks for it. A version still loading (or unknown) resolves to null, which scores as
 * "no model opinion", and is counted.
 */
export class ModelRegistry implements ModelSource {
  private readonly logger = new Logger('Models');
  private readonly models = new Map<string, CallerModel>();
  private readonly loading = new Map<string, number>();
  readonly bundled: CallerModel;

  constructor(
    private readonly repo: CallerModelsRepository | null,
    path = BUNDLED_MODEL_PATH,
  ) {
    this.bundled = CallerModel.load(path);
    this.models.set(this.bundled.version, this.bundled);
    modelScoreSources.add(this.fold);
  }

  async start(): Promise<void> {
    await this.repo?.register(this.bundled.file, this.bundled.sha256, 'detector (bundled model)');
    this.logger.log(
      `bundled caller-risk model ${this.bundled.version} (threshold P >= ${this.bundled.thresholds.suspect.toFixed(3)})`,
    );
  }

  resolve(version: string): CallerModel | null {
    if (!version) return this.bundled;
    const m = this.models.get(version);
    if (m) return m;
    this.fetch(version);
    return null;
  }

  /** Loads a version now (tests, and callers that prefer to wait). */
  async load(version: string): Promise<CallerModel | null> {
    const hit = this.models.get(version);
    if (hit || !this.repo) return hit ?? null;
    const r = await this.repo.get(version);
    if (!r) return null;
    const m = new CallerModel(r.file, r.sha256);
    this.models.set(version, m);
    this.logger.log(`loaded caller-risk model ${version} from the registry`);
    return m;
  }

  /** evaluations not yet folded into the counter, by version ('' the bundled one), role and outcome */
  private readonly counts = new Map<string, Record<'decide' | 'shadow', Record<Outcome, number>>>();

  /** Counts one evaluation: a number here, folded into the labelled counter when it is read. */
  observe(version: string, role: 'decide' | 'shadow', outcome: Outcome): void {
    let c = this.counts.get(version);
    if (!c) {
      c = { decide: { suspect: 0, below: 0, missing: 0 }, shadow: { suspect: 0, below: 0, missing: 0 } };
      this.counts.set(version, c);
    }
    c[role][outcome]++;
  }

  /** Adds the evaluations counted since the last time to eagleeye_detector_model_scores_total. */
  readonly fold = (): void => {
    for (const [version, byRole] of this.counts)
      for (const role of ['decide', 'shadow'] as const)
        for (const outcome of OUTCOMES) {
          const n = byRole[role][outcome];
          if (!n) continue;
          byRole[role][outcome] = 0;
          modelScores.inc({ model: version || this.bundled.version, role, outcome }, n);
        }
  };

  /** Folds what is counted and stops folding (the module is closing). */
  onModuleDestroy(): void {
    this.fold();
    modelScoreSources.delete(this.fold);
  }

  private fetch(version: string): void {
    const last = this.loading.get(version);
    // an unknown version is asked for again at most every 30 s
    if (last !== undefined && Date.now() - last < 30_000) return;
    this.loading.set(version, Date.now());
    this.load(version).then(
      (m) => {
        if (m) this.loading.delete(version);
        else this.logger.warn(`caller-risk model ${version} is named by a rule but not registered`);
      },
      (e: Error) => this.logger.warn(`cannot load caller-risk model ${version}: ${e.message}`),
    );
  }
}
