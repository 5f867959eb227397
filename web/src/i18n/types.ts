// The shape of a scenario's translation (kept apart from the page code so tests can read the files).

export interface ScenarioText {
  title?: string;
  explain?: string;
  question?: string;
  notice?: string[];
  /** Parameter descriptions by parameter name. */
  params?: Record<string, string>;
}
