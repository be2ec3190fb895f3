/**
 * BuildKit's build-check ruleset (moby/buildkit frontend/dockerfile/linter/ruleset.go): names, descriptions, URLs,
 * experimental flags and message formats, so that Strata reports exactly what `docker build --check` reports.
 */
export interface BuildkitRuleInfo {
  name: string;
  description: string;
  url: string;
  experimental: boolean;
  /** hadolint codes for the same check, so `# hadolint ignore=` applies too. */
  equivalents: string[];
}

const U = 'https://docs.docker.com/go/dockerfile/rule/';

export const BUILDKIT_RULES: readonly BuildkitRuleInfo[] = [
  { name: 'StageNameCasing', description: 'Stage names should be lowercase', url: U + 'stage-name-casing/', experimental: false, equivalents: [] },
  { name: 'FromAsCasing', description: "The 'as' keyword should match the case of the 'from' keyword", url: U + 'from-as-casing/', experimental: false, equivalents: [] },
  { name: 'NoEmptyContinuation', description: 'Empty continuation lines will become errors in a future release', url: U + 'no-empty-continuation/', experimental: false, equivalents: [] },
  { name: 'ConsistentInstructionCasing', description: 'All commands within the Dockerfile should use the same casing (either upper or lower)', url: U + 'consistent-instruction-casing/', experimental: false, equivalents: [] },
  { name: 'DuplicateStageName', description: 'Stage names should be unique', url: U + 'duplicate-stage-name/', experimental: false, equivalents: ['DL3024'] },
  { name: 'ReservedStageName', description: 'Reserved words should not be used as stage names', url: U + 'reserved-stage-name/', experimental: false, equivalents: [] },
  { name: 'JSONArgsRecommended', description: 'JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals', url: U + 'json-args-recommended/', experimental: false, equivalents: ['DL3025'] },
  { name: 'MaintainerDeprecated', description: 'The MAINTAINER instruction is deprecated, use a label instead to define an image author', url: U + 'maintainer-deprecated/', experimental: false, equivalents: ['DL4000'] },
  { name: 'UndefinedArgInFrom', description: 'FROM command must use declared ARGs', url: U + 'undefined-arg-in-from/', experimental: false, equivalents: [] },
  { name: 'WorkdirRelativePath', description: 'Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes', url: U + 'workdir-relative-path/', experimental: false, equivalents: ['DL3000'] },
  { name: 'UndefinedVar', description: 'Variables should be defined before their use', url: U + 'undefined-var/', experimental: false, equivalents: [] },
  { name: 'MultipleInstructionsDisallowed', description: 'Multiple instructions of the same type should not be used in the same stage', url: U + 'multiple-instructions-disallowed/', experimental: false, equivalents: ['DL4003', 'DL4004'] },
  { name: 'LegacyKeyValueFormat', description: 'Legacy key/value format with whitespace separator should not be used', url: U + 'legacy-key-value-format/', experimental: false, equivalents: [] },
  { name: 'InvalidBaseImagePlatform', description: 'Base image platform does not match expected target platform', url: '', experimental: false, equivalents: [] },
  { name: 'RedundantTargetPlatform', description: 'Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior', url: U + 'redundant-target-platform/', experimental: false, equivalents: [] },
  { name: 'SecretsUsedInArgOrEnv', description: 'Sensitive data should not be used in the ARG or ENV commands', url: U + 'secrets-used-in-arg-or-env/', experimental: false, equivalents: [] },
  { name: 'InvalidDefaultArgInFrom', description: 'Default value for global ARG results in an empty or invalid base image name', url: U + 'invalid-default-arg-in-from/', experimental: false, equivalents: [] },
  { name: 'FromPlatformFlagConstDisallowed', description: 'FROM --platform flag should not use a constant value', url: U + 'from-platform-flag-const-disallowed/', experimental: false, equivalents: ['DL3029'] },
  { name: 'CopyIgnoredFile', description: 'Attempting to Copy file that is excluded by .dockerignore', url: U + 'copy-ignored-file/', experimental: false, equivalents: [] },
  { name: 'InvalidDefinitionDescription', description: 'Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.', url: U + 'invalid-definition-description/', experimental: true, equivalents: [] },
  { name: 'ExposeProtoCasing', description: 'Protocol in EXPOSE instruction should be lowercase', url: U + 'expose-proto-casing/', experimental: false, equivalents: [] },
  { name: 'ExposeInvalidFormat', description: 'IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release', url: U + 'expose-invalid-format/', experimental: false, equivalents: [] },
];

export const BUILDKIT_RULE_BY_NAME: ReadonlyMap<string, BuildkitRuleInfo> = new Map(BUILDKIT_RULES.map((r) => [r.name, r]));

/** Message formats, one per rule, as ruleset.go formats them (Go's %q is JSON string quoting for these inputs). */
export const BK = {
  StageNameCasing: (s: string) => `Stage name '${s}' should be lowercase`,
  FromAsCasing: (from: string, as: string) => `'${as}' and '${from}' keywords' casing do not match`,
  NoEmptyContinuation: () => 'Empty continuation line',
  ConsistentInstructionCasing: (cmd: string, casing: string) => `Command '${cmd}' should match the case of the command majority (${casing})`,
  DuplicateStageName: (s: string) => `Duplicate stage name ${goQuote(s)}, stage names should be unique`,
  ReservedStageName: (s: string) => `Stage name should not use the same name as reserved stage ${goQuote(s)}`,
  JSONArgsRecommended: (ins: string) => `JSON arguments recommended for ${ins} to prevent unintended behavior related to OS signals`,
  MaintainerDeprecated: () => 'Maintainer instruction is deprecated in favor of using label',
  UndefinedArgInFrom: (arg: string, sug: string) => `FROM argument '${arg}' is not declared` + (sug ? ` (did you mean ${sug}?)` : ''),
  WorkdirRelativePath: (w: string) => `Relative workdir ${goQuote(w)} can have unexpected results if the base image changes`,
  UndefinedVar: (arg: string, sug: string) => `Usage of undefined variable '$${arg}'` + (sug ? ` (did you mean $${sug}?)` : ''),
  MultipleInstructionsDisallowed: (ins: string) => `Multiple ${ins} instructions should not be used in the same stage because only the last one will be used`,
  LegacyKeyValueFormat: (cmd: string) => `"${cmd} key=value" should be used instead of legacy "${cmd} key value" format`,
  RedundantTargetPlatform: (v: string) => `Setting platform to predefined ${v} in FROM is redundant as this is the default behavior`,
  SecretsUsedInArgOrEnv: (ins: string, key: string) => `Do not use ARG or ENV instructions for sensitive data (${ins} ${goQuote(key)})`,
  InvalidDefaultArgInFrom: (base: string) => `Default value for ARG ${base} results in empty or invalid base image name`,
  FromPlatformFlagConstDisallowed: (p: string) => `FROM --platform flag should not use constant value ${goQuote(p)}`,
  CopyIgnoredFile: (cmd: string, file: string) => `Attempting to ${cmd} file ${goQuote(file)} that is excluded by .dockerignore`,
  InvalidDefinitionDescription: (ins: string, name: string) => `Comment for ${ins} should follow the format: \`# ${name} <description>\``,
  ExposeProtoCasing: (p: string) => `Defined protocol '${p}' in EXPOSE instruction should be lowercase`,
  ExposeInvalidFormat: (p: string) => `EXPOSE instruction should not define an IP address or host-port mapping, found '${p}'`,
};

/** Go's %q for printable strings: JSON quoting, with non-ASCII kept. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}
