/**
 * JIT warm-up for the diagnostics worker. A fresh V8 isolate runs the scan, the shell parser, dockerfile-utils'
 * validation, BuildKit's checks and the rules interpreted at first: on the 3,000-line bench file the first ~36 edits
 * cost ~49 ms of CPU each against ~27 ms once V8 has optimised the hot functions, which put the LSP p99 over 100 ms.
 * Running the same code on a small built-in Dockerfile, with one-character edits through an IncrementalChecker as an
 * editor would send them, gets those functions optimised before the user's first keystroke.
 *
 * The work is cut into steps (one check each, a millisecond or two) so the worker can answer a real job between
 * steps: warming never delays a request by more than one step.
 */
import { IncrementalChecker } from './incrementalChecker';
import { checkDockerfile, type CheckOptions } from './checkDockerfile';

/**
 * A multi-stage Dockerfile that makes most rules and BuildKit checks do real work (and several fire): directives,
 * ARG/ENV substitutions, continuations, heredocs, package installs, pipes, COPY --from, ADD of a URL, exec and shell
 * forms, suppression comments.
 */
export const WARM_UP_DOCKERFILE = `# syntax=docker/dockerfile:1
# check=skip=JSONArgsRecommended
ARG NODE_VERSION=20
ARG BUILD_DATE
FROM node:\${NODE_VERSION}-bookworm as deps
LABEL org.opencontainers.image.created=\${BUILD_DATE}
MAINTAINER someone@example.com
ENV APP_HOME /app
WORKDIR \${APP_HOME:-/app}
COPY . .
RUN apt-get update && apt-get install -y curl git \\
    ca-certificates=20230311 \\
  && curl -fsSL https://example.com/install.sh | sh \\
  && cd /tmp && npm install -g pnpm@8
# strata-ignore cache/copy-before-install
RUN npm ci && npm cache clean --force; pip install requests==2.31.0 flask
RUN --mount=type=cache,target=/root/.npm npm ci
# hadolint ignore=DL3018
RUN apk add --no-cache bash && sudo rm -rf /var/lib/apt/lists/*
RUN <<EOF
set -e
echo "building $NODE_VERSION" | tee /tmp/log
go mod download && cargo fetch || true
EOF
ENV API_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789 PASSWORD=secret

FROM deps AS Build
ARG COMMIT_SHA
ENV VERSION=$COMMIT_SHA
COPY --from=build /app/dist /dist
ADD https://example.com/archive.tar.gz /opt/
ADD ./local.tar.gz /opt/
RUN useradd -u 123456789 app && yum install -y make && dnf install -y gcc
EXPOSE 80/tcp 70000 8080
HEALTHCHECK --interval=30s CMD curl -f http://localhost/ || exit 1
USER root
CMD npm start
CMD ["node", "server.js"]
ENTRYPOINT node /app/index.js

from alpine:3.19 AS final
COPY --from=Build --chown=app:app /dist /srv
ONBUILD RUN echo onbuild
STOPSIGNAL SIGTERM
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN echo a | grep a
ENTRYPOINT ["/srv/run"]
`;

/** How many checks the warm-up runs; sized so the hot functions of every stage get optimised (~0.3 s of CPU). */
export const WARM_UP_STEPS = 80;

/**
 * The warm-up as steps: each call of the returned function runs one check and says whether more remain. Rule errors
 * are ignored here (the real checks report them). The built-in text is repeated so per-line loops run long enough to
 * be optimised, and each step changes one letter somewhere else, as typing in a word does (a letter for a letter keeps
 * the instruction structure, so every step stays a small one).
 */
export function warmUpSteps(steps = WARM_UP_STEPS): () => boolean {
  const base = WARM_UP_DOCKERFILE.repeat(3);
  const letters: number[] = [];
  // Letters inside plain words (not keywords, flags, heredoc delimiters or stage names, which change the structure).
  for (const m of base.matchAll(/example|building|requests|archive|server|install/g)) for (let k = 1; k < m[0].length; k++) letters.push(m.index! + k);
  const checker = new IncrementalChecker();
  const options: CheckOptions = { onRuleError: () => {} };
  let i = 0;
  return () => {
    if (i >= steps) return false;
    if (i % 40 === 0) {
      checkDockerfile(base, options); // the full path (a document's first check) too
    } else {
      const at = letters[(i * 997) % letters.length];
      checker.check(base.slice(0, at) + (base[at] === 'q' ? 'z' : 'q') + base.slice(at + 1), options);
    }
    i++;
    return i < steps;
  };
}
