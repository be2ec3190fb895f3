/**
 * A second, unpatched copy of dockerfile-ast and dockerfile-utils, loaded beside the one the engine uses. The engine's
 * shims (server/src/dockerfile/astShims.ts) patch dockerfile-ast's prototypes for the whole process, so "stock
 * dockerfile-utils" and "dockerfile-ast's bare parse" can only be measured or compared against on a copy of their
 * own: the modules are required again with their require-cache entries set aside, then the engine's entries are put
 * back, so nothing else in the process sees the copy.
 */
import * as path from 'node:path';
import type { Parser as ParserType } from 'dockerfile-ast/lib/parser';
import type * as AstMain from 'dockerfile-ast';
import type * as UtilsMain from 'dockerfile-utils';
import type { Instruction } from 'dockerfile-ast/lib/instruction';
import type { Dockerfile as DockerfileImpl } from 'dockerfile-ast/lib/dockerfile';
import type { ImageTemplate } from 'dockerfile-ast/lib/imageTemplate';
import type { Argument } from 'dockerfile-ast/lib/argument';

export interface PristineAst {
  Parser: typeof ParserType;
  ast: typeof AstMain;
  utils: typeof UtilsMain;
  Instruction: typeof Instruction;
  DockerfileImpl: typeof DockerfileImpl;
  ImageTemplate: typeof ImageTemplate;
  Argument: typeof Argument;
}

const OWNED = new RegExp(`${escape(path.sep)}node_modules${escape(path.sep)}(dockerfile-ast|dockerfile-utils)${escape(path.sep)}`);
function escape(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

let loaded: PristineAst | undefined;

export function loadPristineAst(): PristineAst {
  if (loaded) return loaded;
  const saved = new Map<string, NodeJS.Module | undefined>();
  for (const key of Object.keys(require.cache)) {
    if (OWNED.test(key)) {
      saved.set(key, require.cache[key]);
      delete require.cache[key];
    }
  }
  try {
    // The package's entry point first: requiring lib/instruction on its own meets a circular import half-done.
    const ast = require('dockerfile-ast');
    loaded = {
      Parser: require('dockerfile-ast/lib/parser').Parser,
      ast,
      utils: require('dockerfile-utils'),
      Instruction: require('dockerfile-ast/lib/instruction').Instruction,
      DockerfileImpl: require('dockerfile-ast/lib/dockerfile').Dockerfile,
      ImageTemplate: require('dockerfile-ast/lib/imageTemplate').ImageTemplate,
      Argument: require('dockerfile-ast/lib/argument').Argument,
    };
  } finally {
    for (const key of Object.keys(require.cache)) if (OWNED.test(key)) delete require.cache[key];
    for (const [key, mod] of saved) require.cache[key] = mod;
  }
  return loaded;
}
