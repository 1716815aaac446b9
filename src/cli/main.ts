#!/usr/bin/env node
// The sockaccel-ffi command. All the wiring is in program.ts.
import { run } from './program.js';

// `sockaccel-ffi stats --watch | head`: a closed pipe ends the command quietly, as for other tools.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = await run(process.argv);
