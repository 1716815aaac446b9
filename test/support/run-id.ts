// A name for this test process that is unique on the machine: its pid alone is not (two runs in
// different pid namespaces, e.g. a chroot of fresh-machine beside a clone's CI, had the same pids and
// then shared cgroup, pin and netns names).
import { randomBytes } from 'node:crypto';

export const RUN_ID = `${process.pid}${randomBytes(2).toString('hex')}`;
