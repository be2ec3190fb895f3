import type { StrataRule } from '../ruleContext';
import { atInstruction } from '../ruleContext';
import { parseWords, perInstruction } from '../dockerfileScan';

/** Value shapes of real credentials (provider prefixes, PEM keys, JWTs, URLs with a password). */
const SECRET_VALUES: [RegExp, string][] = [
  [/^(AKIA|ASIA)[0-9A-Z]{16}$/, 'an AWS access key id'],
  [/^gh[pousr]_[A-Za-z0-9]{36,}$/, 'a GitHub token'],
  [/^github_pat_[A-Za-z0-9_]{22,}$/, 'a GitHub token'],
  [/^glpat-[A-Za-z0-9_-]{20,}$/, 'a GitLab token'],
  [/^xox[baprs]-[A-Za-z0-9-]{10,}$/, 'a Slack token'],
  [/^sk_(live|test)_[A-Za-z0-9]{16,}$/, 'a Stripe key'],
  [/^sk-[A-Za-z0-9_-]{20,}$/, 'an API secret key'],
  [/^AIza[0-9A-Za-z_-]{35}$/, 'a Google API key'],
  [/^npm_[A-Za-z0-9]{36}$/, 'an npm token'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/^eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+$/, 'a JSON web token'],
  [/^[a-z][a-z0-9+.-]*:\/\/[^/:@\s$]+:[^/@\s$]{3,}@/i, 'a URL with a password'],
];

function keyValues(rest: string, escape: string): { key: string; value: string }[] {
  const words = parseWords(rest, escape);
  if (words.length >= 2 && !words[0].includes('=')) return [{ key: words[0], value: words.slice(1).join(' ') }];
  return words.filter((w) => w.includes('=')).map((w) => ({ key: w.slice(0, w.indexOf('=')), value: w.slice(w.indexOf('=') + 1) }));
}

/**
 * The keys of an ARG/ENV whose values look like credentials, with what they look like (per instruction: a dozen
 * regular expressions per value need not run again on every keystroke elsewhere in the file).
 */
const secretsIn = perInstruction((ins, escape) => {
  const secrets: [string, string][] = [];
  for (const { key, value } of keyValues(ins.rest, escape)) {
    const v = value.replace(/^["']|["']$/g, '');
    if (!v || v.startsWith('$')) continue;
    const shape = SECRET_VALUES.find(([re]) => re.test(v));
    if (shape) secrets.push([key, shape[1]]);
  }
  return secrets;
});

export const secretInArgEnv: StrataRule = {
  id: 'security/secret-in-arg-env',
  severity: 'error',
  title: 'An ARG or ENV value looks like a real credential',
  equivalents: [],
  rationale: 'ARG and ENV values are stored in the image config and its history, readable by anyone who can pull the image. '
    + 'BuildKit\'s SecretsUsedInArgOrEnv looks at names; this rule looks at values (token prefixes, private keys, URLs with passwords). '
    + 'Use `RUN --mount=type=secret` instead.',
  examples: {
    bad: 'FROM alpine:3.20\nENV GITHUB_AUTH=ghp_abcdefghijklmnopqrstuvwxyz0123456789\n',
    good: 'FROM alpine:3.20\nRUN --mount=type=secret,id=gh,env=GITHUB_AUTH ./fetch.sh\n',
  },
  check(ctx) {
    for (const ins of ctx.scan.instructions) {
      if (ins.upper !== 'ARG' && ins.upper !== 'ENV') continue;
      for (const [key, what] of secretsIn(ins, ctx.scan.escape)) {
        ctx.report(atInstruction(ctx, ins, `The value of ${key} looks like ${what}: ${ins.upper} values are stored in the image for anyone to read — use RUN --mount=type=secret`));
      }
    }
  },
};
