import type { StrataRule } from '../ruleContext';
import { atInstruction } from '../ruleContext';

export const baseImageTag: StrataRule = {
  id: 'pinning/base-image-tag',
  // info, not warning: unpinned bases are everywhere in examples and dev images; teams that pin raise it.
  severity: 'info',
  title: 'Base image without a tag or with `latest`',
  equivalents: ['DL3006', 'DL3007'],
  rationale: 'An untagged or `latest` base image changes whenever upstream publishes, so the same Dockerfile builds different images and the cache '
    + 'of every step is lost at unpredictable times. Pin a version tag (or a digest).',
  examples: {
    bad: 'FROM ubuntu\n',
    good: 'FROM ubuntu:24.04\n',
  },
  check(ctx) {
    for (const st of ctx.stages) {
      if (st.baseStage !== null) continue;
      const image = st.base;
      if (!image || image.includes('$') || image.toLowerCase() === 'scratch' || image.includes('@')) continue;
      const lastSegment = image.slice(image.lastIndexOf('/') + 1);
      if (!lastSegment.includes(':')) ctx.report(atInstruction(ctx, st.from, `${image} has no tag: it resolves to :latest, which changes when upstream publishes — pin a version tag or digest`));
      else if (lastSegment.endsWith(':latest')) ctx.report(atInstruction(ctx, st.from, `${image} follows :latest, which changes when upstream publishes — pin a version tag or digest`));
    }
  },
};
