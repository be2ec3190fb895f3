import type { StrataRule } from '../ruleContext';
import { atCommand, effectiveArgv, finalChain, runsIn } from '../ruleContext';
import { baseName, hasOption, removes, subcommand } from '../packageCommands';

export const packageCacheKept: StrataRule = {
  id: 'size/package-cache-kept',
  severity: 'warning',
  title: 'A package manager leaves its download cache in the image',
  equivalents: ['DL3019', 'DL3042', 'DL3032', 'DL3040', 'DL3060'],
  rationale: 'apk, pip, yum/dnf and yarn keep downloaded packages in a cache directory; when the RUN does not disable or clean it, the cache ships '
    + 'in the layer. With `RUN --mount=type=cache` on that directory the cache is outside the image and keeping it is right, so those RUNs are not reported. '
    + 'Only stages that end up in the final image are checked.',
  examples: {
    bad: 'FROM python:3.12-slim\nRUN pip install flask==3.0.0\n',
    good: 'FROM python:3.12-slim\nRUN pip install --no-cache-dir flask==3.0.0\n',
  },
  check(ctx) {
    const pipNoCacheEnv = ctx.scan.instructions.some((i) => (i.upper === 'ENV' || i.upper === 'ARG') && /PIP_NO_CACHE_DIR/.test(i.rest));
    for (const ins of runsIn(finalChain(ctx))) {
      const cmds = ctx.commands(ins);
      const cleaned = (re: RegExp) => cmds.some((c) => { const a = effectiveArgv(c); return re.test(a.join(' ')); });
      for (const cmd of cmds) {
        const argv = effectiveArgv(cmd);
        const n = baseName(argv[0]);
        const { sub } = subcommand(argv);
        if (n === 'apk' && sub === 'add' && !hasOption(argv, '--no-cache') && !hasOption(argv, '--no-network') && !ctx.hasCacheMount(ins, /\/var\/cache\/apk/)
          && !cmds.some((c) => removes(c, '/var/cache/apk')) && !cleaned(/apk cache clean/)) {
          ctx.report(atCommand(cmd, '`apk add` keeps its package index in /var/cache/apk in this layer: use `apk add --no-cache`'));
        } else if ((/^pip[23]?$/.test(n) || ((n === 'python' || n === 'python3') && /^pip[23]?$/.test(argv[2] ?? ''))) && argv.includes('install')
          && !hasOption(argv, '--no-cache-dir') && !pipNoCacheEnv && !ctx.hasCacheMount(ins, /\.cache(\/pip)?/)
          && !cmds.some((c) => removes(c, '/root/.cache') || removes(c, '/root/.cache/pip')) && !cleaned(/pip[23]? cache purge/)) {
          ctx.report(atCommand(cmd, '`pip install` keeps downloaded wheels in ~/.cache/pip in this layer: add --no-cache-dir (or a cache mount)'));
        } else if ((n === 'yum' || n === 'dnf' || n === 'microdnf') && sub === 'install' && !ctx.hasCacheMount(ins, /\/var\/cache\/(yum|dnf)/)
          && !cleaned(/\b(yum|dnf|microdnf) clean all\b/) && !cmds.some((c) => removes(c, '/var/cache/yum') || removes(c, '/var/cache/dnf'))) {
          ctx.report(atCommand(cmd, `\`${n} install\` keeps its package cache in /var/cache/${n === 'yum' ? 'yum' : 'dnf'} in this layer: add \`${n} clean all\` to the same RUN`));
        } else if (n === 'yarn' && (sub === '' || sub === 'install') && !ctx.hasCacheMount(ins, /yarn/) && !cleaned(/yarn cache clean/)) {
          ctx.report(atCommand(cmd, '`yarn install` keeps its package cache in this layer: add `yarn cache clean` to the same RUN (or a cache mount)'));
        }
      }
    }
  },
};
