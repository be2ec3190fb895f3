import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { WARM_UP_DOCKERFILE, WARM_UP_STEPS, warmUpSteps } from '../../../server/src/rules/warmUpChecks';
import { checkDockerfile } from '../../../server/src/rules/checkDockerfile';
import { STRATA_RULES } from '../../../server/src/rules/ruleTable';

describe('warmUpChecks', () => {
  it('uses a Dockerfile on which BuildKit checks and many Strata rules really fire, without a rule error', () => {
    const errors: string[] = [];
    const found = new Set(checkDockerfile(WARM_UP_DOCKERFILE, { onRuleError: (rule) => errors.push(rule) }).map((d) => d.rule));
    assert.deepEqual(errors, []);
    const strataIds = new Set(STRATA_RULES.map((r) => r.id));
    const strata = [...found].filter((id) => strataIds.has(id));
    const buildkit = [...found].filter((id) => /^[A-Z]/.test(id));
    // A warm-up that only reaches the early returns of the rules would leave their real work cold.
    assert.ok(strata.length >= 10, `Strata rules firing: ${strata.join(', ')}`);
    assert.ok(buildkit.length >= 5, `BuildKit checks firing: ${buildkit.join(', ')}`);
  });

  it('runs exactly its steps, then reports it is done and does nothing more', () => {
    const step = warmUpSteps(5);
    const more: boolean[] = [];
    for (let i = 0; i < 5; i++) more.push(step());
    assert.deepEqual(more, [true, true, true, true, false]);
    assert.equal(step(), false);
    assert.ok(WARM_UP_STEPS > 0);
  });
});
