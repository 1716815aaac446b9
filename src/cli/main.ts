#!/usr/bin/env node
// The sockaccel-ffi command. All the wiring is in program.ts.
import { run } from './program.js';

process.exitCode = await run(process.argv);
