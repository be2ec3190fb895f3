import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { dump, scopesOf, tokenize, type Token } from './dockerfileGrammar';
import { ROOT, crlf } from '../../support/paths';

/** Asserts that the token `text` (on `line`, if given) has every scope in `want`. */
function expectScopes(tokens: Token[], text: string, want: string[], line?: number): void {
  const got = scopesOf(tokens, text, line);
  for (const s of want) {
    assert.ok(got.includes(s), `${JSON.stringify(text)} should have ${s}; it has ${got.join(' ')}\n${dump(tokens)}`);
  }
}
function expectNotScope(tokens: Token[], text: string, scope: string, line?: number): void {
  const got = scopesOf(tokens, text, line);
  assert.ok(!got.includes(scope), `${JSON.stringify(text)} should not have ${scope}\n${dump(tokens)}`);
}

/** Every case runs as written (LF) and with CRLF line endings (the "\r" stays in the line, see dockerfileGrammar.ts). */
function cases(name: string, text: string, check: (t: Token[]) => void): void {
  for (const [eol, src] of [['LF', text], ['CRLF', crlf(text)]] as const) {
    it(`${name} (${eol})`, async () => check(await tokenize(src)));
  }
}

const KW = 'keyword.other.special-method.dockerfile';
const SHELL = 'meta.embedded.block.shell';
const VAR = 'variable.other.dockerfile';
const CONT = 'constant.character.escape.line-continuation.dockerfile';
const DELIM = 'entity.name.tag.heredoc-delimiter.dockerfile';
const COMMENT = 'comment.line.number-sign.dockerfile';

describe('TextMate grammar: instructions and comments', () => {
  cases('instruction keywords, any case, at line start', 'from busybox\n  Run true\n', (t) => {
    expectScopes(t, 'from', [KW]);
    expectScopes(t, 'Run', [KW]);
  });
  cases('a comment line', '# just a comment\nFROM busybox\n', (t) => {
    expectScopes(t, ' just a comment', [COMMENT]);
    expectNotScope(t, ' just a comment', 'meta.directive.dockerfile');
  });
  cases('an unknown word at line start is not a keyword', 'FOO bar\n', (t) => {
    assert.ok(!t.some((x) => x.scopes.includes(KW)), dump(t));
  });
  cases('FROM image, AS, stage name, --platform flag with a variable', 'FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n', (t) => {
    expectScopes(t, 'platform', ['meta.flag.dockerfile', 'entity.other.attribute-name.flag.dockerfile']);
    expectScopes(t, 'BUILDPLATFORM', [VAR, 'string.unquoted.flag-value.dockerfile']);
    expectScopes(t, 'golang:1.22', ['entity.name.type.base-image.dockerfile']);
    expectScopes(t, 'AS', ['keyword.other.as.dockerfile']);
    expectScopes(t, 'build', ['entity.name.type.stage.dockerfile']);
  });
  cases('ARG names with and without defaults, ENV pairs, LABEL keys', 'ARG A=1 B\nENV PATH="/x:$HOME"\nLABEL org.title="t"\n', (t) => {
    expectScopes(t, 'A', ['variable.other.definition.dockerfile'], 0);
    expectScopes(t, 'B', ['variable.other.definition.dockerfile'], 0);
    expectScopes(t, 'PATH', ['variable.other.definition.dockerfile'], 1);
    expectScopes(t, 'HOME', [VAR, 'string.quoted.double.dockerfile'], 1);
    expectScopes(t, 'org.title', ['entity.other.attribute-name.label.dockerfile']);
  });
});

describe('TextMate grammar: parser directives', () => {
  cases('# syntax= and # check= at the top are directives', '# syntax=docker/dockerfile:1\n# check=skip=JSONArgsRecommended;error=true\nFROM busybox\n', (t) => {
    expectScopes(t, 'syntax', ['meta.directive.dockerfile', 'keyword.other.directive.dockerfile']);
    expectScopes(t, 'docker/dockerfile:1', ['string.unquoted.directive-value.dockerfile']);
    expectScopes(t, 'check', ['keyword.other.directive.dockerfile']);
    expectScopes(t, 'skip=JSONArgsRecommended;error=true', ['string.unquoted.directive-value.dockerfile']);
    expectScopes(t, 'FROM', [KW]);
  });
  cases('a directive after an instruction is a plain comment', 'FROM busybox\n# syntax=docker/dockerfile:1\n', (t) => {
    expectScopes(t, ' syntax=docker/dockerfile:1', [COMMENT]);
    assert.ok(!t.some((x) => x.scopes.includes('meta.directive.dockerfile')), dump(t));
  });
  cases('a directive after a comment is a plain comment', '# hello\n# escape=`\nRUN a `\n  b\n', (t) => {
    assert.ok(!t.some((x) => x.scopes.includes('meta.directive.dockerfile')), dump(t));
    // the backslash stays the escape character: the backtick does not continue the line
    assert.ok(!t.some((x) => x.scopes.includes(CONT)), dump(t));
  });
  cases('# escape=` makes the backtick the line continuation and backslash literal',
    '# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN powershell -Command `\n    Write-Host C:\\path\\x\nCOPY a C:\\dst\\\n', (t) => {
      expectScopes(t, '`', ['keyword.other.directive.dockerfile'.replace('keyword.other', 'string.unquoted').replace('directive.dockerfile', 'directive-value.dockerfile')], 0);
      expectScopes(t, '`', [CONT, SHELL], 2);
      expectScopes(t, '    Write-Host C:\\path\\x', [SHELL, 'meta.run.dockerfile'], 3);
      // a trailing backslash is no continuation here: COPY ends on its line
      assert.ok(!t.some((x) => x.line === 4 && x.scopes.includes(CONT)), dump(t));
      expectScopes(t, 'COPY', [KW], 4);
    });
  cases('# escape=\\ (explicit default) keeps backslash continuation', '# escape=\\\nRUN a \\\n  b\n', (t) => {
    expectScopes(t, '\\', [CONT], 1);
    expectScopes(t, '  b', [SHELL], 2);
  });
});

describe('TextMate grammar: RUN bodies, flags, continuations', () => {
  cases('RUN --mount flag with options, shell body embedded', 'RUN --mount=type=cache,target=/root/.cache go build ./...\n', (t) => {
    expectScopes(t, 'mount', ['entity.other.attribute-name.flag.dockerfile']);
    expectScopes(t, 'type', ['variable.parameter.flag-option.dockerfile']);
    expectScopes(t, 'cache', ['string.unquoted.flag-value.dockerfile']);
    expectScopes(t, 'go build ./...', [SHELL, 'meta.run.dockerfile']);
    expectNotScope(t, 'go build ./...', 'meta.flag.dockerfile');
  });
  cases('a flag-looking word in the shell body is not a flag', 'RUN ls --all\n', (t) => {
    expectScopes(t, 'ls --all', [SHELL]);
  });
  cases('line continuations and comment lines inside them', 'RUN apt-get update && \\\n    # install things\n    apt-get install -y curl\nFROM x\n', (t) => {
    expectScopes(t, '\\', [CONT, SHELL], 0);
    expectScopes(t, ' install things', [COMMENT, 'meta.run.dockerfile'], 1);
    expectScopes(t, '    apt-get install -y curl', [SHELL, 'meta.run.dockerfile'], 2);
    expectScopes(t, 'FROM', [KW], 3);
    expectNotScope(t, 'FROM', 'meta.run.dockerfile', 3);
  });
  cases('a continuation after trailing spaces, and empty lines inside', 'RUN a \\   \n\n    b\n', (t) => {
    expectScopes(t, '    b', [SHELL], 2);
  });
  cases('an instruction without continuation ends at its line', 'RUN echo hi\necho not-run\n', (t) => {
    expectNotScope(t, 'echo not-run', SHELL, 1);
  });
  cases('$VAR and ${VAR:-default} substitutions', 'RUN echo $HOME ${GO_VERSION:-1.22} ${A:+x}\n', (t) => {
    expectScopes(t, 'HOME', [VAR, 'meta.substitution.dockerfile']);
    expectScopes(t, '${', ['punctuation.definition.variable.begin.dockerfile']);
    expectScopes(t, 'GO_VERSION', [VAR]);
    expectScopes(t, ':-', ['keyword.operator.expansion.dockerfile']);
    expectScopes(t, '1.22', ['string.unquoted.substitution-word.dockerfile']);
    expectScopes(t, ':+', ['keyword.operator.expansion.dockerfile']);
  });
  cases('nested substitution in a default', 'FROM ${IMAGE:-${REGISTRY}/app}\n', (t) => {
    expectScopes(t, 'IMAGE', [VAR]);
    expectScopes(t, 'REGISTRY', [VAR, 'string.unquoted.substitution-word.dockerfile']);
  });
  cases('escaped dollar', 'RUN echo \\$HOME\n', (t) => {
    expectScopes(t, '\\$', ['constant.character.escape.dockerfile']);
    assert.ok(!t.some((x) => x.scopes.includes(VAR)), dump(t));
  });
  cases('single quotes do not expand', "RUN echo '$HOME' \"$HOME\"\n", (t) => {
    expectScopes(t, '$HOME', ['string.quoted.single.dockerfile']);
    expectScopes(t, 'HOME', [VAR, 'string.quoted.double.dockerfile']);
  });
  cases('a string continued over a line continuation', 'RUN echo "a \\\n b" && true\nFROM x\n', (t) => {
    expectScopes(t, ' b', ['string.quoted.double.dockerfile'], 1);
    expectScopes(t, 'FROM', [KW], 2);
  });
  cases('an unterminated string stops at the line end', 'RUN echo "oops\nFROM x\n', (t) => {
    expectScopes(t, 'FROM', [KW], 1);
  });
});

describe('TextMate grammar: exec form', () => {
  cases('CMD / ENTRYPOINT / RUN / SHELL JSON arrays', 'CMD ["/app", "--flag"]\nENTRYPOINT ["sh","-c"]\nRUN ["echo", "a\\"b"]\nSHELL ["pwsh", "-c"]\n', (t) => {
    expectScopes(t, '[', ['meta.exec-form.dockerfile', 'punctuation.definition.array.begin.dockerfile'], 0);
    expectScopes(t, '/app', ['string.quoted.double.json.dockerfile'], 0);
    expectScopes(t, '--flag', ['string.quoted.double.json.dockerfile'], 0);
    expectNotScope(t, '--flag', 'meta.flag.dockerfile', 0);
    expectScopes(t, ',', ['punctuation.separator.array.dockerfile'], 0);
    expectScopes(t, 'sh', ['meta.exec-form.dockerfile'], 1);
    expectScopes(t, '\\"', ['constant.character.escape.json.dockerfile'], 2);
    expectScopes(t, 'pwsh', ['meta.exec-form.dockerfile'], 3);
  });
  cases('a shell test bracket is shell form', 'RUN [ -f /x ] && echo ok\n', (t) => {
    expectScopes(t, '[ -f /x ] && echo ok', [SHELL]);
  });
});

describe('TextMate grammar: heredocs', () => {
  cases('RUN <<EOF: body is embedded shell, terminator closes it', 'RUN <<EOF\necho $HOME\nEOF\nFROM x\n', (t) => {
    expectScopes(t, '<<', ['keyword.operator.heredoc.dockerfile'], 0);
    expectScopes(t, 'EOF', [DELIM], 0);
    expectScopes(t, 'echo ', [SHELL, 'meta.heredoc.dockerfile'], 1);
    expectScopes(t, 'HOME', [VAR], 1);
    expectScopes(t, 'EOF', [DELIM], 2);
    expectScopes(t, 'FROM', [KW], 3);
    expectNotScope(t, 'FROM', 'meta.heredoc.dockerfile', 3);
  });
  cases('instruction-looking lines inside a heredoc are body', 'RUN <<EOF\nFROM not-an-instruction\nEOF\n', (t) => {
    assert.ok(!t.some((x) => x.line === 1 && x.scopes.includes(KW)), dump(t));
  });
  cases('COPY <<-"EOT" /dest: quoted delimiter (no expansion), tab-indented terminator', 'COPY <<-"EOT" /etc/conf\n\tliteral $NOT\n\tEOT\nRUN true\n', (t) => {
    expectScopes(t, '<<-', ['keyword.operator.heredoc.dockerfile']);
    expectScopes(t, 'EOT', [DELIM], 0);
    expectScopes(t, ' /etc/conf', ['meta.copy.dockerfile'], 0);
    expectScopes(t, '\tliteral $NOT', ['string.unquoted.heredoc.dockerfile'], 1);
    expectScopes(t, 'EOT', [DELIM], 2);
    expectScopes(t, 'RUN', [KW], 3);
  });
  cases("single-quoted delimiter: no substitution in the body", "RUN <<'EOF'\necho $HOME\nEOF\n", (t) => {
    assert.ok(!t.some((x) => x.line === 1 && x.scopes.includes(VAR)), dump(t));
  });
  cases('a line that only starts with the delimiter does not end the heredoc', 'RUN <<EOF\nEOFX\nEOF\nFROM x\n', (t) => {
    expectScopes(t, 'EOFX', [SHELL, 'meta.heredoc.dockerfile'], 1);
    expectScopes(t, 'FROM', [KW], 3);
  });
  cases('two heredocs on one line: bodies one after the other', "RUN <<A <<'B' bash\necho a\nA\necho b\nB\nFROM x\n", (t) => {
    expectScopes(t, 'A', [DELIM], 0);
    expectScopes(t, 'B', [DELIM], 0);
    expectScopes(t, ' bash', ['meta.heredoc.dockerfile'], 0);
    expectScopes(t, 'echo a', [SHELL, 'meta.heredoc.dockerfile'], 1);
    expectScopes(t, 'A', [DELIM], 2);
    expectScopes(t, 'echo b', [SHELL, 'meta.heredoc.dockerfile'], 3);
    expectScopes(t, 'B', [DELIM], 4);
    expectScopes(t, 'FROM', [KW], 5);
    expectNotScope(t, 'FROM', 'meta.heredoc.dockerfile', 5);
  });
  cases('heredoc after a command in a RUN body', 'RUN python3 <<EOF\nprint(1)\nEOF\n', (t) => {
    expectScopes(t, 'EOF', [DELIM], 0);
    expectScopes(t, 'print(1)', [SHELL, 'meta.heredoc.dockerfile'], 1);
  });
  cases('an unterminated heredoc runs to the end without breaking the tokenizer', 'RUN <<EOF\necho a\n', (t) => {
    expectScopes(t, 'echo a', ['meta.heredoc.dockerfile'], 1);
  });
});

describe('TextMate grammar: COPY/ADD flags and ONBUILD', () => {
  cases('COPY --from= --chmod= --link', 'COPY --from=build --chmod=755 --link /out/app /app\n', (t) => {
    expectScopes(t, 'from', ['entity.other.attribute-name.flag.dockerfile']);
    expectScopes(t, 'build', ['string.unquoted.flag-value.dockerfile']);
    expectScopes(t, 'chmod', ['entity.other.attribute-name.flag.dockerfile']);
    expectScopes(t, '755', ['string.unquoted.flag-value.dockerfile']);
    expectScopes(t, 'link', ['entity.other.attribute-name.flag.dockerfile']);
    expectScopes(t, ' /out/app /app', ['meta.copy.dockerfile']);
    expectNotScope(t, ' /out/app /app', 'meta.flag.dockerfile');
  });
  cases('ADD --checksum and exec-form COPY', 'ADD --checksum=sha256:abc https://x/y /y\nCOPY ["a b", "/c"]\n', (t) => {
    expectScopes(t, 'checksum', ['entity.other.attribute-name.flag.dockerfile']);
    expectScopes(t, 'a b', ['string.quoted.double.json.dockerfile']);
  });
  cases('ONBUILD with a nested instruction', 'ONBUILD RUN echo hi\nONBUILD COPY --from=b . /x\n', (t) => {
    expectScopes(t, 'ONBUILD', [KW, 'meta.onbuild.dockerfile'], 0);
    expectScopes(t, 'RUN', [KW, 'meta.onbuild.dockerfile'], 0);
    expectScopes(t, 'echo hi', [SHELL, 'meta.onbuild.dockerfile']);
    expectScopes(t, 'COPY', [KW], 1);
    expectScopes(t, 'from', ['entity.other.attribute-name.flag.dockerfile'], 1);
  });
  cases('HEALTHCHECK flags and CMD', 'HEALTHCHECK --interval=5s CMD curl -f http://x/ || exit 1\nHEALTHCHECK NONE\n', (t) => {
    expectScopes(t, 'interval', ['entity.other.attribute-name.flag.dockerfile']);
    expectScopes(t, 'CMD', [KW]);
    expectScopes(t, 'curl -f http://x/ || exit 1', [SHELL]);
    expectScopes(t, 'NONE', ['constant.language.none.dockerfile']);
  });
});

describe('TextMate grammar: the committed file', () => {
  it('matches scripts/grammar.mjs (regenerate with `node scripts/grammar.mjs`)', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/grammar.mjs'), '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
  it('tokenises every corpus Dockerfile with comments, directives and heredocs without throwing', async () => {
    const fs = await import('node:fs');
    const dir = path.join(ROOT, '../shared/corpus/dockerfiles');
    const rows = fs.readFileSync(path.join(dir, 'SOURCES.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')[0]);
    let keywords = 0;
    for (const file of rows) {
      const t = await tokenize(fs.readFileSync(path.join(dir, file), 'utf8'));
      keywords += t.filter((x) => x.scopes.includes(KW)).length;
    }
    assert.ok(rows.length >= 500, `corpus has ${rows.length} files`);
    assert.ok(keywords > rows.length * 3, `only ${keywords} instruction keywords in ${rows.length} files`);
  });
});
