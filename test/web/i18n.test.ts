// The Chinese translations of the scenarios match the catalogue: no entry for a scenario that does
// not exist, "what to notice" lists as long as the English ones (else the page shows English), and
// parameter names that exist. A scenario without a translation is allowed: the page shows English.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CATALOGUE, COMMON_PARAMS } from '../../src/lab/runner.ts';
import '../../src/lab/node/index.ts';
import { ZH_SCENARIOS } from '../../web/src/i18n/zh-CN.scenarios.ts';

test('zh-CN scenario translations fit the catalogue', () => {
  const ids = new Set(CATALOGUE.map((s) => s.id));
  for (const id of Object.keys(ZH_SCENARIOS)) assert.ok(ids.has(id), `translation for unknown scenario ${id}`);
  const missing: string[] = [];
  for (const s of CATALOGUE) {
    const tr = ZH_SCENARIOS[s.id];
    if (!tr) {
      missing.push(s.id);
      continue;
    }
    if (tr.notice) assert.equal(tr.notice.length, s.notice.length, `${s.id}: notice has ${tr.notice.length} items, English ${s.notice.length}`);
    const names = new Set([...s.params, ...COMMON_PARAMS].map((p) => p.name));
    for (const p of Object.keys(tr.params ?? {})) assert.ok(names.has(p), `${s.id}: no parameter ${p}`);
    for (const k of ['title', 'explain', 'question'] as const) assert.ok(!tr[k] || /[\u4e00-\u9fff]/.test(tr[k]!), `${s.id}.${k} is not Chinese`);
  }
  if (missing.length) console.log(`scenarios shown in English in the Chinese UI (no translation yet): ${missing.join(', ')}`);
});
