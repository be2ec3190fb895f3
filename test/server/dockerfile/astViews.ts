/**
 * Every argument-derived view of a dockerfile-ast parse, as plain data (ranges included), for comparing Strata's
 * shimmed dockerfile-ast (server/src/dockerfile/astShims.ts) with an unpatched copy (test/support/pristineAst.ts).
 * Each view is asked twice: the second call is served from the shim's memo, and the first result may have been
 * mutated by a caller. The comments each stage holds (organizeComments) are included.
 */
const VIEWS = ['getArguments', 'getRawArguments', 'getFlags', 'getVariables', 'getArgumentsRange', 'getArgumentsRanges',
  'getRawArgumentsContent', 'getArgumentsContent', 'getImageNameRange', 'getRegistryRange', 'getImageRange', 'getImageTagRange',
  'getBuildStageRange', 'getHeredocs', 'getProperties', 'getJSONStrings', 'getOpeningBracket', 'getClosingBracket'];

export interface ParsedDockerfile {
  getInstructions(): unknown[];
}

export function astViews(parse: (text: string) => ParsedDockerfile, text: string): unknown {
  const dockerfile = parse(text);
  const out: unknown[] = [];
  for (const ins of dockerfile.getInstructions() as Record<string, (...a: unknown[]) => unknown>[]) {
    const v: Record<string, unknown> = {};
    for (const name of VIEWS) {
      if (typeof ins[name] !== 'function') continue;
      v[name] = JSON.stringify([ins[name](), ins[name]()]);
    }
    out.push(v);
  }
  type Template = { getComments(): { getRange(): unknown }[] };
  const templates = dockerfile as unknown as { initialInstructions: Template; buildStages: Template[] };
  const comments = (t: Template) => JSON.stringify(t.getComments().map((c) => c.getRange()));
  out.push({ initial: comments(templates.initialInstructions), stages: templates.buildStages.map(comments) });
  return out;
}
