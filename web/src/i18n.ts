// UI text in English, and the machinery to show it in another language. Translations live in
// ./i18n/<lang>.ts (see zh-CN.ts): UI strings by key, and per scenario its title, explanation,
// question, "what to notice" and parameter descriptions. Anything missing falls back to English.

import type { ScenarioMeta } from '../../src/lab/record.ts';
import { zhCN } from './i18n/zh-CN.ts';
import { EN } from './i18n/en.ts';
import type { Key, ScenarioText, Translation } from './i18n/types.ts';

export { EN };
export type { Key, ScenarioText, Translation };



export const LANGS: Record<string, Translation> = {
  en: { name: 'English', ui: {}, scenarios: {} },
  zh: zhCN,
};

let lang = 'en';

export function setLang(l: string): void {
  lang = LANGS[l] ? l : 'en';
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
}

export const getLang = (): string => lang;

/** A UI string in the current language (English when missing), with {name} placeholders filled. */
export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const s = LANGS[lang]?.ui[key] ?? EN[key];
  return s.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

/** A scenario's texts in the current language, each falling back to the English of the catalogue. */
export function scenarioText(s: ScenarioMeta): Required<Omit<ScenarioText, 'params'>> & { param: (name: string, en: string) => string } {
  const tr = LANGS[lang]?.scenarios[s.id] ?? {};
  return {
    title: tr.title ?? s.title,
    explain: tr.explain ?? s.explain,
    question: tr.question ?? s.question,
    notice: tr.notice && tr.notice.length === s.notice.length ? tr.notice : s.notice,
    param: (name, en) => tr.params?.[name] ?? (name === 'ipv6' ? t('param_ipv6') : en),
  };
}
