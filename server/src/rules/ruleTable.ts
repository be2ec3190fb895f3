/**
 * Every Strata rule, one module each. The order is the order findings of one line are reported in.
 * Adding a rule: write `strata/<name>.ts` exporting a `StrataRule`, add it here, add `docs/rules/<id>.md`
 * (test/server/rules/ruleTable.test.ts checks the page exists and that the rule's examples behave).
 */
import type { StrataRule } from './ruleContext';
import { copyBeforeInstall } from './strata/copyBeforeInstall';
import { aptUpdateAlone } from './strata/aptUpdateAlone';
import { volatileEarly } from './strata/volatileEarly';
import { addRemoteUrl } from './strata/addRemoteUrl';
import { copyDockerfile } from './strata/copyDockerfile';
import { aptListsKept } from './strata/aptListsKept';
import { noInstallRecommends } from './strata/noInstallRecommends';
import { packageCacheKept } from './strata/packageCacheKept';
import { removedInLaterLayer } from './strata/removedInLaterLayer';
import { useraddHighUid } from './strata/useraddHighUid';
import { secretInArgEnv } from './strata/secretInArgEnv';
import { curlPipeShell } from './strata/curlPipeShell';
import { rootUser } from './strata/rootUser';
import { sudo } from './strata/sudo';
import { pipefail } from './strata/pipefail';
import { aptGetAssumeYes } from './strata/aptGetAssumeYes';
import { aptNotAptGet } from './strata/aptNotAptGet';
import { baseImageTag } from './strata/baseImageTag';
import { aptVersions, apkVersions, pipVersions, npmVersions } from './strata/packagePinning';
import { cdInRun } from './strata/cdInRun';
import { addForLocalFiles } from './strata/addForLocalFiles';
import { copyFromSelf } from './strata/copyFromSelf';
import { exposePortRange } from './strata/exposePortRange';

export const STRATA_RULES: readonly StrataRule[] = [
  copyBeforeInstall, aptUpdateAlone, volatileEarly, addRemoteUrl, copyDockerfile,
  aptListsKept, noInstallRecommends, packageCacheKept, removedInLaterLayer, useraddHighUid,
  secretInArgEnv, curlPipeShell, rootUser, sudo,
  pipefail, aptGetAssumeYes, aptNotAptGet,
  baseImageTag, aptVersions, apkVersions, pipVersions, npmVersions,
  cdInRun, addForLocalFiles,
  copyFromSelf, exposePortRange,
];

/** Where a rule's documentation lives: docs/rules/<id>.md in the repository (BuildKit's own rules link to docs.docker.com). */
export const DOCS_BASE = 'https://github.com/strata-dev/strata/blob/main/docs/rules/';
export function docsUrlFor(id: string): string {
  return DOCS_BASE + id + '.md';
}
