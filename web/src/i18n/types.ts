// The shape of a translation (kept apart from the page code so tests can read the files).

import type { EN } from './en.ts';

export type Key = keyof typeof EN;

export interface Translation {
  /** The name shown on the language switch. */
  name: string;
  ui: Partial<Record<Key, string>>;
  scenarios: Record<string, ScenarioText>;
}

export interface ScenarioText {
  title?: string;
  explain?: string;
  question?: string;
  notice?: string[];
  /** Parameter descriptions by parameter name. */
  params?: Record<string, string>;
}
