import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DIVE_DEFAULTS, evaluateCi, parseByteSize, parseDiveCi, parseRatio } from '../../../server/src/image/ciThresholds';
import type { ImageSummary } from '../../../server/src/image/imageModel';

const summary = (efficiency: number, wastedBytes: number, userWastedPercent: number): ImageSummary => ({
  totalSize: 0, storedSize: 0, userSize: 0, wastedBytes, userWastedPercent, diveWastedBytes: 0, efficiency, diveEfficiency: efficiency, entryCount: 0, topWasted: [],
});

describe('dive-compatible CI thresholds', () => {
  it('parses dive\'s byte sizes (SI and IEC units) and "disabled"', () => {
    assert.equal(parseByteSize('20MB'), 20_000_000);
    assert.equal(parseByteSize('20 MiB'), 20 * 1024 * 1024);
    assert.equal(parseByteSize('1.5GB'), 1_500_000_000);
    assert.equal(parseByteSize('1024'), 1024);
    assert.equal(parseByteSize(512), 512);
    assert.equal(parseByteSize('disabled'), null);
    assert.throws(() => parseByteSize('lots'), /not a byte size/);
    assert.throws(() => parseByteSize('5 parsecs'), /not a byte size/);
  });

  it('parses ratios and percentages', () => {
    assert.equal(parseRatio('0.95'), 0.95);
    assert.equal(parseRatio('20%'), 0.2);
    assert.equal(parseRatio('disabled'), null);
    assert.throws(() => parseRatio('high'), /not a number/);
  });

  it('reads a .dive-ci file; keys it does not have keep their defaults', () => {
    assert.deepEqual(parseDiveCi('rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB\n'), { lowestEfficiency: 0.95, highestWastedBytes: 20_000_000 });
    assert.deepEqual(parseDiveCi('rules:\n  highestUserWastedPercent: disabled\n'), { highestUserWastedPercent: null });
    assert.deepEqual(parseDiveCi(''), {});
    assert.deepEqual(DIVE_DEFAULTS, { lowestEfficiency: 0.9, highestWastedBytes: null, highestUserWastedPercent: 0.1 });
  });

  it('fails below the lowest efficiency and above the highest wasted figures (dive\'s comparisons)', () => {
    const t = { lowestEfficiency: 0.9, highestWastedBytes: 1000, highestUserWastedPercent: 0.1 };
    assert.deepEqual(evaluateCi(summary(0.9, 1000, 0.1), t).map((r) => r.status), ['pass', 'pass', 'pass']);
    assert.deepEqual(evaluateCi(summary(0.89, 1001, 0.11), t).map((r) => r.status), ['fail', 'fail', 'fail']);
    const skip = evaluateCi(summary(0.5, 5, 0.5), { ...t, highestWastedBytes: null });
    assert.deepEqual(skip.map((r) => `${r.status}:${r.message}`), [
      'fail:lowestEfficiency: 50.00% is below 90.00%', 'skip:highestWastedBytes: disabled', 'fail:highestUserWastedPercent: 50.00% is above 10.00%',
    ]);
  });
});
