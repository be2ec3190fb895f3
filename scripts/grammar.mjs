// Generates syntaxes/dockerfile.tmLanguage.json (scope source.dockerfile.strata).
//
//   node scripts/grammar.mjs          write the grammar
//   node scripts/grammar.mjs --check  exit 1 if the committed grammar differs from what this script generates
//
// Why a generator: TextMate grammars cannot switch the escape character at run time, and `# escape=\`` (Windows
// Dockerfiles) changes both the line-continuation character and what counts as an escape. So every rule that knows
// the escape character exists twice — a backslash set used by default and a backtick set used inside a region that
// starts at a `# escape=\`` directive and runs to the end of the file — and ONBUILD needs the instruction rules again
// with a different start anchor. Writing that by hand would be copy-and-drift; here it is one function per rule.
//
// Known limits (a line-based grammar cannot do better without a real parser; the language server's semantic tokens
// cover them): with three or more heredocs on one line the middle bodies are scoped as the last one's; `<<EOF`
// terminators indented with tabs are accepted as for `<<-EOF`; a `# escape=` directive is honoured only when the
// directive block starts on the first line (as BuildKit requires).
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const OUT = path.join(root, 'syntaxes/dockerfile.tmLanguage.json');

const INSTRUCTIONS = ['FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME',
  'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL'];
const DIRECTIVE = '(?i:syntax|escape|check)';
// Where an instruction (or part of one) ends: before the end of a line that has text. Not at the very end after a
// continuation consumed the "\n" (there `$` would match again and close the region a line too early), and not on an
// empty line (BuildKit skips empty lines inside a continued instruction).
const END = '(?<=[^\\n])(?=\\r?$)';
const KW = 'keyword.other.special-method.dockerfile';
const COMMENT = 'comment.line.number-sign.dockerfile';

/** Escape-character variants: `bs` (backslash, the default) and `bt` (backtick, after `# escape=\``). */
const VARIANTS = {
  bs: { ch: '\\\\' },
  bt: { ch: '`' },
};

/** Where an instruction may start: at a line start, or right after ONBUILD. */
const STARTS = {
  line: '^[ \\t]*',
  onbuild: '\\G[ \\t]+',
};

const ref = (name, v) => ({ include: `#${name}-${v}` });

function variantRules(v) {
  const E = VARIANTS[v].ch;
  const r = {};

  // A line ending in the escape character continues the instruction. vscode-textmate hands each line with a trailing
  // "\n"; consuming it keeps the instruction's region open on the next line. `\r` tolerated for hosts that keep it.
  r[`continuation-${v}`] = {
    patterns: [
      { match: `(${E})[ \\t]*\\r?(?:\\n|$)`, captures: { 1: { name: 'constant.character.escape.line-continuation.dockerfile' } } },
      // Inside a continued instruction, comment lines and empty lines are dropped by the parser; the instruction goes on.
      { match: `^[ \\t]*(#).*\\r?\\n`, name: COMMENT, captures: { 1: { name: 'punctuation.definition.comment.dockerfile' } } },
      { match: `^[ \\t]*\\r?\\n` },
    ],
  };

  r[`escape-${v}`] = {
    // `\$` keeps a literal dollar; the escape character before any other character escapes it too.
    match: `${E}[^\\s]`,
    name: 'constant.character.escape.dockerfile',
  };

  r[`variable-${v}`] = {
    patterns: [
      {
        // ${VAR}, ${VAR:-default}, ${VAR:+alt}, ${VAR-x}, ${VAR#pat}, ${VAR%pat}, ${VAR/a/b} …; the word may hold variables.
        begin: '(\\$\\{)([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?]|#{1,2}|%{1,2}|/{1,2}))?',
        beginCaptures: {
          1: { name: 'punctuation.definition.variable.begin.dockerfile' },
          2: { name: 'variable.other.dockerfile' },
          3: { name: 'keyword.operator.expansion.dockerfile' },
        },
        end: `(\\})|${END}`,
        endCaptures: { 1: { name: 'punctuation.definition.variable.end.dockerfile' } },
        name: 'meta.substitution.dockerfile',
        contentName: 'string.unquoted.substitution-word.dockerfile',
        patterns: [ref('escape', v), ref('variable', v)],
      },
      {
        match: '(\\$)([A-Za-z_][A-Za-z0-9_]*)',
        name: 'meta.substitution.dockerfile',
        captures: { 1: { name: 'punctuation.definition.variable.dockerfile' }, 2: { name: 'variable.other.dockerfile' } },
      },
    ],
  };

  const stringBody = (expand) => [ref('continuation', v), ...(expand ? [ref('escape', v), ref('variable', v)] : [])];
  r[`string-${v}`] = {
    patterns: [
      {
        begin: '"', end: `"|${END}`, name: 'string.quoted.double.dockerfile',
        beginCaptures: { 0: { name: 'punctuation.definition.string.begin.dockerfile' } },
        endCaptures: { 0: { name: 'punctuation.definition.string.end.dockerfile' } },
        patterns: stringBody(true),
      },
      {
        begin: "'", end: `'|${END}`, name: 'string.quoted.single.dockerfile',
        beginCaptures: { 0: { name: 'punctuation.definition.string.begin.dockerfile' } },
        endCaptures: { 0: { name: 'punctuation.definition.string.end.dockerfile' } },
        patterns: stringBody(false),
      },
    ],
  };

  // --mount=type=cache,target=/x  --from=build  --chmod=755  --link  --platform=$BUILDPLATFORM
  r[`flag-${v}`] = {
    begin: '(?<=^|[ \\t])(--)([A-Za-z][A-Za-z0-9-]*)(=)?',
    beginCaptures: {
      1: { name: 'punctuation.definition.flag.dockerfile' },
      2: { name: 'entity.other.attribute-name.flag.dockerfile' },
      3: { name: 'keyword.operator.assignment.dockerfile' },
    },
    end: `(?=[ \\t]|${E}[ \\t]*\\r?$|\\r?$)`,
    name: 'meta.flag.dockerfile',
    contentName: 'string.unquoted.flag-value.dockerfile',
    patterns: [
      { match: '([A-Za-z][A-Za-z0-9_-]*)(=)', captures: { 1: { name: 'variable.parameter.flag-option.dockerfile' }, 2: { name: 'keyword.operator.assignment.dockerfile' } } },
      { match: ',', name: 'punctuation.separator.flag-option.dockerfile' },
      ref('string', v), ref('variable', v),
    ],
  };

  // ["executable", "arg"] (JSON exec form): RUN, CMD, ENTRYPOINT, SHELL, COPY/ADD, VOLUME.
  r[`exec-form-${v}`] = {
    begin: '(\\[)(?=[ \\t]*")',
    beginCaptures: { 1: { name: 'punctuation.definition.array.begin.dockerfile' } },
    end: `(\\])|${END}`,
    endCaptures: { 1: { name: 'punctuation.definition.array.end.dockerfile' } },
    name: 'meta.exec-form.dockerfile',
    patterns: [
      ref('continuation', v),
      {
        begin: '"', end: `"|${END}`, name: 'string.quoted.double.json.dockerfile',
        beginCaptures: { 0: { name: 'punctuation.definition.string.begin.dockerfile' } },
        endCaptures: { 0: { name: 'punctuation.definition.string.end.dockerfile' } },
        // JSON escapes (always backslash, whatever `# escape=` says).
        patterns: [{ match: '\\\\(?:["\\\\/bfnrt]|u[0-9A-Fa-f]{4})', name: 'constant.character.escape.json.dockerfile' }],
      },
      { match: ',', name: 'punctuation.separator.array.dockerfile' },
    ],
  };

  // Heredocs. `kind` run: the body is a shell script; file: the body is file content (COPY/ADD).
  for (const kind of ['run', 'file']) {
    const body = kind === 'run'
      ? { name: 'meta.embedded.block.shell', patterns: [ref('variable', v), { include: 'source.shell' }] }
      : { name: 'string.unquoted.heredoc.dockerfile', patterns: [ref('variable', v)] };
    const quotedBody = kind === 'run'
      ? { name: 'meta.embedded.block.shell', patterns: [{ include: 'source.shell' }] }
      : { name: 'string.unquoted.heredoc.dockerfile', patterns: [] };
    const marker = {
      1: { name: 'keyword.operator.heredoc.dockerfile' },
      2: { name: 'punctuation.definition.string.begin.dockerfile' },
      3: { name: 'entity.name.tag.heredoc-delimiter.dockerfile' },
      4: { name: 'punctuation.definition.string.end.dockerfile' },
    };
    const restOfLine = {
      // The rest of the instruction line after the first marker (destination path, more markers, `&& cmd`, …).
      begin: '\\G(?=[^\\r\\n])', end: END,
      patterns: [ref(`heredoc-marker`, v), ...(kind === 'run' ? [ref('shell-words', v)] : [ref('args', v)])],
    };
    const endDelim = (n) => ({
      end: `^\\t*(\\${n})[ \\t]*\\r?$`,
      endCaptures: { 1: { name: 'entity.name.tag.heredoc-delimiter.dockerfile' } },
    });
    const bodyLine = (b) => ({ begin: '^', end: '\\r?$', name: b.name, patterns: b.patterns });
    const single = (quoted) => ({
      begin: quoted ? `(<<-?)(["'])([A-Za-z_][A-Za-z0-9_.-]*)(\\2)` : '(<<-?)()([A-Za-z_][A-Za-z0-9_.-]*)()',
      beginCaptures: marker,
      ...endDelim(3),
      name: 'meta.heredoc.dockerfile',
      patterns: [restOfLine, bodyLine(quoted ? quotedBody : body)],
    });
    r[`heredoc-${kind}-${v}`] = {
      patterns: [
        {
          // Two or more markers on one line (`RUN <<A <<B`): the bodies follow one after the other. The outer region
          // (zero-width, at the first marker) captures the last delimiter and ends there; the first heredoc nests in it.
          begin: '(?=<<-?(["\']?)[A-Za-z_][A-Za-z0-9_.-]*\\1.*<<-?(["\']?)([A-Za-z_][A-Za-z0-9_.-]*)\\2)',
          ...endDelim(3),
          name: 'meta.heredoc.dockerfile',
          patterns: [single(true), single(false), bodyLine(body)],
        },
        single(true),
        single(false),
      ],
    };
  }
  r[`heredoc-marker-${v}`] = {
    match: `(<<-?)(["']?)([A-Za-z_][A-Za-z0-9_.-]*)(\\2)`,
    captures: {
      1: { name: 'keyword.operator.heredoc.dockerfile' },
      2: { name: 'punctuation.definition.string.begin.dockerfile' },
      3: { name: 'entity.name.tag.heredoc-delimiter.dockerfile' },
      4: { name: 'punctuation.definition.string.end.dockerfile' },
    },
  };

  // Words of a shell command (RUN/CMD/ENTRYPOINT shell form), after our own syntax had its say.
  r[`shell-words-${v}`] = {
    patterns: [ref('continuation', v), ref('escape', v), ref('variable', v), ref('string', v), { include: 'source.shell' }],
  };

  // Shell form or exec form of a command; the shell form is scoped as embedded shell.
  r[`command-${v}`] = {
    patterns: [
      ref('continuation', v),
      ref('exec-form', v),
      {
        begin: '(?=[^ \\t\\r\\n])',
        end: END,
        name: 'meta.embedded.block.shell',
        patterns: [ref('continuation', v), ref('heredoc-run', v), ref('shell-words', v)],
      },
    ],
  };

  // Arguments of the other instructions: strings, variables, exec form, plain words.
  r[`args-${v}`] = {
    patterns: [ref('continuation', v), ref('exec-form', v), ref('string', v), ref('escape', v), ref('variable', v)],
  };

  // KEY=value pairs (ENV, ARG, LABEL); also the legacy `ENV KEY value`.
  const pairs = (keyScope, bare = []) => ({
    patterns: [
      ref('continuation', v),
      ...bare,
      { match: '(?<=^|[ \\t])([A-Za-z_][A-Za-z0-9_.-]*)(=)', captures: { 1: { name: keyScope }, 2: { name: 'keyword.operator.assignment.dockerfile' } } },
      { match: '(?<=^|[ \\t])("[^"]*")(=)', captures: { 1: { name: `string.quoted.double.dockerfile ${keyScope}` }, 2: { name: 'keyword.operator.assignment.dockerfile' } } },
      ref('string', v), ref('escape', v), ref('variable', v),
    ],
  });
  r[`env-pairs-${v}`] = pairs('variable.other.definition.dockerfile');
  // ARG also declares names without a default (`ARG VERSION`).
  r[`arg-names-${v}`] = pairs('variable.other.definition.dockerfile', [
    { match: '(?<=^|[ \\t])([A-Za-z_][A-Za-z0-9_]*)(?=[ \\t]|\\r?$)', captures: { 1: { name: 'variable.other.definition.dockerfile' } } },
  ]);
  r[`label-pairs-${v}`] = pairs('entity.other.attribute-name.label.dockerfile');

  for (const [where, start] of Object.entries(STARTS)) {
    const kw = (names) => `${start}(?i:(${names}))(?=[ \\t]|${E}|\\r?$)`;
    const instr = (names, patterns, extra = {}) => ({
      begin: kw(names), beginCaptures: { 1: { name: KW } }, end: END, patterns, ...extra,
    });
    const nested = where === 'line'
      ? [instr('ONBUILD', [ref('onbuild-instruction', v)], { name: 'meta.onbuild.dockerfile' })]
      : [];
    r[`${where === 'line' ? '' : 'onbuild-'}instruction-${v}`] = {
      patterns: [
        instr('FROM', [
          ref('continuation', v), ref('flag', v),
          { match: '(?<=[ \\t])(?i:(AS))[ \\t]+([^ \\t\\r\\n]+)', captures: { 1: { name: 'keyword.other.as.dockerfile' }, 2: { name: 'entity.name.type.stage.dockerfile' } } },
          { match: '(?<=[ \\t])[^ \\t\\r\\n-][^ \\t\\r\\n]*', name: 'entity.name.type.base-image.dockerfile', captures: { 0: { patterns: [ref('variable', v)] } } },
        ], { name: 'meta.from.dockerfile' }),
        instr('RUN', [ref('continuation', v), ref('flag', v), ref('command', v)], { name: 'meta.run.dockerfile' }),
        instr('CMD|ENTRYPOINT', [ref('continuation', v), ref('command', v)]),
        instr('SHELL', [ref('args', v)]),
        instr('COPY|ADD', [ref('continuation', v), ref('flag', v), ref('heredoc-file', v), ref('args', v)], { name: 'meta.copy.dockerfile' }),
        instr('ENV', [ref('env-pairs', v)]),
        instr('ARG', [ref('arg-names', v)]),
        instr('LABEL', [ref('label-pairs', v)]),
        instr('HEALTHCHECK', [
          ref('continuation', v), ref('flag', v),
          { match: '(?<=[ \\t])(?i:NONE)(?=[ \\t]*\\r?$)', name: 'constant.language.none.dockerfile' },
          { begin: `(?<=[ \\t])(?i:(CMD))(?=[ \\t]|${E}|\\r?$)`, beginCaptures: { 1: { name: KW } }, end: END, patterns: [ref('command', v)] },
        ]),
        instr('EXPOSE|VOLUME|USER|WORKDIR|STOPSIGNAL|MAINTAINER', [ref('args', v)]),
        ...nested,
      ],
    };
  }
  return r;
}

function grammar() {
  const repository = {
    comment: {
      match: '^[ \\t]*(#).*$',
      name: COMMENT,
      captures: { 1: { name: 'punctuation.definition.comment.dockerfile' } },
    },
    'directive-line': {
      match: `^[ \\t]*(#)[ \\t]*(${DIRECTIVE})[ \\t]*(=)[ \\t]*(.*?)[ \\t]*\\r?$`,
      name: 'meta.directive.dockerfile',
      captures: {
        1: { name: 'punctuation.definition.directive.dockerfile' },
        2: { name: 'keyword.other.directive.dockerfile' },
        3: { name: 'keyword.operator.assignment.dockerfile' },
        4: { name: 'string.unquoted.directive-value.dockerfile' },
      },
    },
    // Parser directives: only in the block of `# name=value` lines at the very top of the file.
    directives: {
      begin: `\\A(?=[ \\t]*#[ \\t]*${DIRECTIVE}[ \\t]*=)`,
      end: `^(?![ \\t]*#[ \\t]*${DIRECTIVE}[ \\t]*=)`,
      patterns: [
        {
          // `# escape=\``: from here to the end of the file, the backtick is the escape character.
          begin: `^[ \\t]*(#)[ \\t]*((?i:escape))[ \\t]*(=)[ \\t]*(\`)[ \\t]*\\r?$`,
          beginCaptures: {
            0: { name: 'meta.directive.dockerfile' },
            1: { name: 'punctuation.definition.directive.dockerfile' },
            2: { name: 'keyword.other.directive.dockerfile' },
            3: { name: 'keyword.operator.assignment.dockerfile' },
            4: { name: 'string.unquoted.directive-value.dockerfile' },
          },
          end: '(?!)',
          name: 'meta.escape-backtick.dockerfile',
          patterns: [{ include: '#directive-line' }, { include: '#comment' }, { include: '#instruction-bt' }],
        },
        { include: '#directive-line' },
      ],
    },
  };
  for (const v of Object.keys(VARIANTS)) Object.assign(repository, variantRules(v));
  return {
    $schema: 'https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json',
    name: 'Dockerfile (Strata)',
    scopeName: 'source.dockerfile.strata',
    comment: 'Generated by scripts/grammar.mjs — edit that file, then run `node scripts/grammar.mjs`.',
    fileTypes: ['Dockerfile', 'Containerfile', 'dockerfile', 'containerfile'],
    patterns: [{ include: '#directives' }, { include: '#comment' }, { include: '#instruction-bs' }],
    repository,
  };
}

const text = JSON.stringify(grammar(), null, 2) + '\n';
if (process.argv.includes('--check')) {
  const current = readFileSync(OUT, 'utf8');
  if (current !== text) {
    console.error('syntaxes/dockerfile.tmLanguage.json is out of date: run `node scripts/grammar.mjs`');
    process.exit(1);
  }
} else {
  writeFileSync(OUT, text);
}
