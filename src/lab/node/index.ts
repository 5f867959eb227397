// Node-only scenarios, registered into the lab catalogue by the CLI and the tests.

import { registerScenarios } from '../runner.ts';
import { HTTP_SCENARIOS } from './http.ts';
import { slowloris } from './slowloris.ts';

registerScenarios([...HTTP_SCENARIOS, slowloris]);

export { nodeEnv } from './env.ts';
