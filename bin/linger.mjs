#!/usr/bin/env node
// The linger CLI. TypeScript sources run through tsx, so there is no build step.
import { register } from 'tsx/esm/api';
register();
// `linger ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
